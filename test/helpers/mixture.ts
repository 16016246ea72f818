/**
 * The target of the exactness tests: a 2-D mixture of three Gaussians with unequal weights, with
 * its closed-form density and marginal CDFs, an exact sampler, and the checks that compare draws
 * with it (Kolmogorov-Smirnov on both marginals, total variation of the shares of draws nearest
 * each component). Shared by every test that samples it, in the core and in the adapters.
 */
import { RandomStream, streamState } from '@latent-langevin/core';
import { expect } from 'vitest';
import { ksOneSample, normalCdf } from './statistics.js';

export const WEIGHTS = [0.5, 0.3, 0.2];
export const MEANS = [
  [-1.5, -0.5],
  [1.5, -0.5],
  [0, 1.6],
];
export const SD = 0.6;
export const KS_LEVEL = 1e-3;
export const TV_TOLERANCE = 0.03;

/** log p_X(x) of the mixture and its gradient, for a batch `[n, 2]`. */
export function mixtureLogDensity(x: ArrayLike<number>, n: number) {
  const logDensity = new Float64Array(n);
  const gradient = new Float64Array(2 * n);
  const terms = new Float64Array(3);
  for (let i = 0; i < n; i++) {
    const x0 = x[2 * i];
    const x1 = x[2 * i + 1];
    let max = -Infinity;
    for (let k = 0; k < 3; k++) {
      const r0 = (x0 - MEANS[k][0]) / SD;
      const r1 = (x1 - MEANS[k][1]) / SD;
      terms[k] = Math.log(WEIGHTS[k]) - 0.5 * (r0 * r0 + r1 * r1);
      max = Math.max(max, terms[k]);
    }
    let sum = 0;
    for (let k = 0; k < 3; k++) sum += Math.exp(terms[k] - max);
    logDensity[i] = max + Math.log(sum) - Math.log(2 * Math.PI * SD * SD);
    for (let k = 0; k < 3; k++) {
      const responsibility = Math.exp(terms[k] - max) / sum;
      gradient[2 * i] -= (responsibility * (x0 - MEANS[k][0])) / (SD * SD);
      gradient[2 * i + 1] -= (responsibility * (x1 - MEANS[k][1])) / (SD * SD);
    }
  }
  return { logDensity, gradient };
}

/** Index of the component with the largest weighted density at (x0, x1). */
export function nearestComponent(x0: number, x1: number): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let k = 0; k < 3; k++) {
    const value =
      Math.log(WEIGHTS[k]) - ((x0 - MEANS[k][0]) ** 2 + (x1 - MEANS[k][1]) ** 2) / (2 * SD * SD);
    if (value > bestValue) {
      bestValue = value;
      best = k;
    }
  }
  return best;
}

/** `count` exact draws of the mixture, `[count, 2]`. */
export function exactDraws(count: number, seed: number): Float64Array {
  const random = new RandomStream(streamState(seed, 0));
  const x = new Float64Array(2 * count);
  for (let i = 0; i < count; i++) {
    const u = random.uniform();
    const k = u < WEIGHTS[0] ? 0 : u < WEIGHTS[0] + WEIGHTS[1] ? 1 : 2;
    x[2 * i] = MEANS[k][0] + SD * random.normal();
    x[2 * i + 1] = MEANS[k][1] + SD * random.normal();
  }
  return x;
}

export function regionShares(x: ArrayLike<number>): number[] {
  const counts = [0, 0, 0];
  const n = x.length / 2;
  for (let i = 0; i < n; i++) counts[nearestComponent(x[2 * i], x[2 * i + 1])] += 1;
  return counts.map((c) => c / n);
}

/** Exact shares of the three regions, from 400,000 exact draws (standard error below 0.001). */
export const EXACT_SHARES = regionShares(exactDraws(400_000, 12345));

export function marginalCdf(axis: number): (t: number) => number {
  return (t) => WEIGHTS.reduce((sum, w, k) => sum + w * normalCdf((t - MEANS[k][axis]) / SD), 0);
}

/** How far draws are from the mixture: both marginal KS p-values and the region-share TV. */
export function mismatch(x: ArrayLike<number>): { p0: number; p1: number; tv: number } {
  const n = x.length / 2;
  const axis = (a: number) => Array.from({ length: n }, (_, i) => x[2 * i + a]);
  const shares = regionShares(x);
  const tv = 0.5 * shares.reduce((sum, s, k) => sum + Math.abs(s - EXACT_SHARES[k]), 0);
  return {
    p0: ksOneSample(axis(0), marginalCdf(0)).pValue,
    p1: ksOneSample(axis(1), marginalCdf(1)).pValue,
    tv,
  };
}

export function expectMatchesMixture(x: ArrayLike<number>): void {
  const { p0, p1, tv } = mismatch(x);
  expect(p0).toBeGreaterThan(KS_LEVEL);
  expect(p1).toBeGreaterThan(KS_LEVEL);
  expect(tv).toBeLessThan(TV_TOLERANCE);
}

/** Rows `t` of each chain of a `[chains, draws, width]` array, stacked. */
export function drawsAt(
  array: Float32Array,
  chains: number,
  draws: number,
  ts: number[],
  width = 2,
) {
  const out = new Float32Array(chains * ts.length * width);
  let r = 0;
  for (const t of ts) {
    for (let i = 0; i < chains; i++) {
      out.set(array.subarray((i * draws + t) * width, (i * draws + t + 1) * width), r * width);
      r += 1;
    }
  }
  return out;
}
