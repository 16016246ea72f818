import { describe, expect, it } from 'vitest';

import { RandomStream, streamState } from '@latent-langevin/core';
import {
  energyDistance,
  mmdSquared,
  precisionRecall,
  slicedWasserstein2,
} from '@latent-langevin/eval';

/*
 * Wall time of every metric on two sets of N = 10,000 points in D = 2 and D = 64. It takes
 * about a minute, so it runs only when LATENT_LANGEVIN_TIMING is set:
 *   LATENT_LANGEVIN_TIMING=1 npx vitest run packages/eval/test/metrics-timing.test.ts
 * Wall and CPU time (user + system, which does not count time lost to other jobs on a busy
 * machine; the metrics are single-threaded) go to stdout; the only assertion is that they finish.
 */
const N = 10_000;

function normals(count: number, seed: number): Float64Array {
  const random = new RandomStream(streamState(seed, 0));
  return Float64Array.from({ length: count }, () => random.normal());
}

describe.runIf(process.env.LATENT_LANGEVIN_TIMING !== undefined)('metric timings', () => {
  it.each([2, 64])('times every metric on 10k x 10k points when D = %i', (dimension) => {
    const x = normals(N * dimension, 1);
    const y = normals(N * dimension, 2);
    const times: Record<string, { wallMs: number; cpuMs: number }> = {};
    const time = (name: string, run: () => unknown) => {
      const start = performance.now();
      const cpu = process.cpuUsage();
      run();
      const used = process.cpuUsage(cpu);
      times[name] = {
        wallMs: Math.round(performance.now() - start),
        cpuMs: Math.round((used.user + used.system) / 1000),
      };
    };
    time('mmdSquared (median bandwidth)', () => mmdSquared(x, y, { dimension }));
    time('energyDistance', () => energyDistance(x, y, { dimension }));
    time('slicedWasserstein2 (128)', () => slicedWasserstein2(x, y, { dimension }));
    time('precisionRecall (k = 3)', () => precisionRecall(x, y, { dimension }));
    process.stdout.write(`D = ${dimension}: ${JSON.stringify(times)} ms\n`);
    expect(Object.keys(times)).toHaveLength(4);
  });
});
