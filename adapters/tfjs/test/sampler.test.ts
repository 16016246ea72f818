/**
 * Exactness of latent MALA through a tfjs flow: the analytic coupling flow of the core, written
 * as tfjs operations, on the mixture pullback target of `test/exactness.test.ts`, with that
 * file's runs, sample sizes and checks (`test/helpers`).
 *
 * Geweke-style runs: `CHAINS` (4000) chains started from exact draws (`z = f^-1(x)` through the
 * core's float64 inverse of the same flow), a fixed kernel, no warm-up, `GEWEKE_ITERATIONS`
 * (100) iterations; one draw per chain, the state after the last iteration, so 4000
 * independent draws per check. An exact kernel leaves the law of the states unchanged at every
 * iteration, so the draws must follow the target: both marginal Kolmogorov-Smirnov p-values
 * above 1e-3 and the region-share total variation below 0.03. For a correct sampler a check
 * fails with probability at most 2.2e-3 (two KS tests at 1e-3, TV beyond 4.6 standard
 * deviations: 1.8e-4), so the five checks of this file together fail at about 1.1% over seeds;
 * the seeds are fixed, so a run that passes always passes.
 *
 * What they check of the adapter: the jacobian preconditioner takes `M(z)` from d VJPs of each
 * row, run as one batch of `d n` rows, and global moves mix forward-only calls with VJPs; rows
 * mixed up between chains, or values that depend on the batch a row is in, make `M(z)` or
 * `log pi(z)` something other than a function of `z`, and the kernel inexact. (A wrong but
 * deterministic gradient keeps the kernel exact; the gradients are checked in parity.test.ts.)
 *
 * Backends: the four kernels on wasm, three times faster here than cpu on 4000 chains and the
 * same arithmetic to float32 rounding (parity.test.ts); the jacobian kernel with global moves on
 * cpu too.
 */
import './helpers/quiet-greeting.js';
import {
  type DifferentiableFlow,
  RandomStream,
  couplingFlow2d,
  sample,
  streamState,
} from '@latent-langevin/core';
import { useBackend } from '@latent-langevin/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CHAINS,
  GEWEKE_ITERATIONS,
  exactFlow,
  mixtureTarget,
} from '../../../test/helpers/exactness-runs.js';
import { drawsAt, exactDraws, expectMatchesMixture } from '../../../test/helpers/mixture.js';
import { tfjsCouplingFlow } from './helpers/coupling-flow.js';
import { maxRelative } from './helpers/two-moons.js';

const analytic = couplingFlow2d();

afterAll(async () => {
  await useBackend('cpu');
});

/**
 * `CHAINS` chains of `flow` from exact draws (from `startSeed`), a fixed kernel, no warm-up;
 * `x` after the last of `GEWEKE_ITERATIONS` iterations, `[CHAINS, 2]`. The runs of
 * `gewekeDraws()` in `test/helpers/exactness-runs.ts`, on another flow.
 */
async function gewekeDraws(
  flow: DifferentiableFlow,
  kernel: { preconditioner: 'identity' | 'jacobian'; stepSize: number; globalMove: number },
  seed: number,
  startSeed: number,
): Promise<Float32Array> {
  const run = await sample(flow, {
    target: mixtureTarget,
    chains: CHAINS,
    warmup: 0,
    draws: GEWEKE_ITERATIONS,
    seed,
    preconditioner: kernel.preconditioner,
    stepSize: kernel.stepSize,
    globalMoveProbability: kernel.globalMove,
    initialZ: exactFlow.inverse(exactDraws(CHAINS, startSeed), CHAINS),
    keepX: true,
  });
  return drawsAt(run.x as Float32Array, CHAINS, GEWEKE_ITERATIONS, [GEWEKE_ITERATIONS - 1]);
}

describe('latent MALA through a tfjs flow', () => {
  it('computes the analytic coupling flow and its VJPs within 1e-5', async () => {
    await useBackend('cpu');
    const flow = tfjsCouplingFlow(analytic.layers, analytic.scaleBound);
    const random = new RandomStream(streamState(3, 0));
    const n = 64;
    const z = Float32Array.from({ length: 2 * n }, () => 2 * random.normal());
    const cotangent = {
      x: Float32Array.from({ length: 2 * n }, () => random.normal()),
      logDet: Float32Array.from({ length: n }, () => random.normal()),
    };
    const a = await flow.vjp(z, n, cotangent);
    const b = await analytic.vjp(z, n, cotangent);
    expect(maxRelative(a.x, b.x)).toBeLessThan(1e-5);
    expect(maxRelative(a.logDet, b.logDet)).toBeLessThan(1e-5);
    expect(maxRelative(a.z, b.z)).toBeLessThan(1e-5);
    await flow.dispose();
  });

  // Step sizes of the Geweke runs of test/exactness.test.ts.
  it.each(
    [
      { backend: 'wasm', preconditioner: 'identity', stepSize: 0.6, globalMove: 0 },
      { backend: 'wasm', preconditioner: 'identity', stepSize: 0.6, globalMove: 0.2 },
      { backend: 'wasm', preconditioner: 'jacobian', stepSize: 1.5, globalMove: 0 },
      { backend: 'wasm', preconditioner: 'jacobian', stepSize: 1.5, globalMove: 0.2 },
      { backend: 'cpu', preconditioner: 'jacobian', stepSize: 1.5, globalMove: 0.2 },
    ].map((kernel) => ({
      ...kernel,
      moves: kernel.globalMove === 0 ? 'no global moves' : `global moves ${kernel.globalMove}`,
    })) as {
      backend: string;
      preconditioner: 'identity' | 'jacobian';
      stepSize: number;
      globalMove: number;
      moves: string;
    }[],
  )(
    'keeps exact draws exact on $backend with the $preconditioner preconditioner and $moves',
    async ({ backend, preconditioner, stepSize, globalMove }) => {
      await useBackend(backend);
      const flow = tfjsCouplingFlow(analytic.layers, analytic.scaleBound);
      const draws = await gewekeDraws(flow, { preconditioner, stepSize, globalMove }, 11, 99);
      await flow.dispose();
      expectMatchesMixture(draws);
    },
  );
});
