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

/**
 * Mass of each component's region (the points nearest it, as {@link nearestComponent} decides)
 * under the mixture, by quadrature. With equal standard deviations the regions are convex
 * polygons bounded by the lines where `log w_j - |x - m_j|^2 / (2 s^2)` equals the same for `i`,
 * so every vertical line meets a region in one interval `[lo, hi]` of `x1`; the mass of region
 * `j` under component `k` is `int phi_s(x0 - m_k0) (Phi((hi - m_k1) / s) - Phi((lo - m_k1) / s))
 * dx0`, summed by Simpson's rule over `m_k0 +- 10 s` in 20,000 steps. The error is 2e-6, from
 * the vertical boundary between the two lower regions, where the integrand jumps. (A Monte Carlo
 * estimate would need tens of millions of draws for that: from 400,000 its error is near 0.001,
 * a bias that every total variation would share.)
 */
function exactRegionShares(): number[] {
  const shares = [0, 0, 0];
  const steps = 20_000;
  for (let k = 0; k < 3; k++) {
    const from = MEANS[k][0] - 10 * SD;
    const width = (20 * SD) / steps;
    for (let s = 0; s <= steps; s++) {
      const x0 = from + s * width;
      const simpson = s === 0 || s === steps ? 1 : s % 2 === 1 ? 4 : 2;
      const density =
        Math.exp(-0.5 * ((x0 - MEANS[k][0]) / SD) ** 2) / (SD * Math.sqrt(2 * Math.PI));
      for (let j = 0; j < 3; j++) {
        const [lo, hi] = regionInterval(j, x0);
        if (hi <= lo) continue;
        const mass = normalCdf((hi - MEANS[k][1]) / SD) - normalCdf((lo - MEANS[k][1]) / SD);
        shares[j] += (WEIGHTS[k] * simpson * width * density * mass) / 3;
      }
    }
  }
  return shares;
}

/** The interval of `x1` where region `j` meets the vertical line at `x0`, empty when lo >= hi. */
function regionInterval(j: number, x0: number): [number, number] {
  let lo = -Infinity;
  let hi = Infinity;
  for (let i = 0; i < 3; i++) {
    if (i === j) continue;
    // Region j against region i: a x1 + b >= 0, the quadratic terms having cancelled.
    const a = (MEANS[j][1] - MEANS[i][1]) / (SD * SD);
    const b =
      ((MEANS[j][0] - MEANS[i][0]) * x0) / (SD * SD) +
      Math.log(WEIGHTS[j] / WEIGHTS[i]) -
      (MEANS[j][0] ** 2 + MEANS[j][1] ** 2 - MEANS[i][0] ** 2 - MEANS[i][1] ** 2) / (2 * SD * SD);
    if (a > 0) lo = Math.max(lo, -b / a);
    else if (a < 0) hi = Math.min(hi, -b / a);
    else if (b < 0) return [0, 0];
  }
  return [lo, hi];
}

/** Exact shares of the three regions under the mixture. */
export const EXACT_SHARES = exactRegionShares();

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
