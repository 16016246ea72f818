/**
 * Shared checks of the metrics' and synthetic targets' tests: central finite differences of a
 * log-density, and MCMC-like draws with repeated points.
 */
import { RandomStream, streamState } from '@latent-langevin/core';
import type { SyntheticTarget } from '@latent-langevin/eval';

/**
 * Largest relative error, over the rows of `x`, between the target's gradient and central
 * differences of its log-density with step `h`, in float64.
 */
export function worstGradientError(target: SyntheticTarget, x: Float64Array, h = 1e-6): number {
  const d = target.dimension;
  const n = x.length / d;
  const { gradient } = target.logDensity(x, n);
  let worst = 0;
  for (let i = 0; i < n; i++) {
    let errorSquared = 0;
    let normSquared = 0;
    for (let j = 0; j < d; j++) {
      const plus = Float64Array.from(x.subarray(i * d, (i + 1) * d));
      const minus = Float64Array.from(plus);
      plus[j] += h;
      minus[j] -= h;
      const fd =
        (target.logDensity(plus, 1).logDensity[0] - target.logDensity(minus, 1).logDensity[0]) /
        (2 * h);
      errorSquared += (fd - gradient[i * d + j]) ** 2;
      normSquared += gradient[i * d + j] ** 2;
    }
    worst = Math.max(worst, Math.sqrt(errorSquared) / Math.max(1, Math.sqrt(normSquared)));
  }
  return worst;
}

/** Projection `x . direction` of each row of `x` (`[n, D]`). */
export function project(x: Float64Array, direction: readonly number[]): Float64Array {
  const d = direction.length;
  return Float64Array.from({ length: x.length / d }, (_, i) => {
    let sum = 0;
    for (let j = 0; j < d; j++) sum += x[i * d + j] * direction[j];
    return sum;
  });
}

/**
 * Draws shaped like MCMC output without its correlations: `chains` chains of `length` draws of
 * N(0, I_2), chain-major, where each draw after the first repeats the previous one with
 * probability `repeat` (a rejected proposal) and is otherwise a fresh exact draw.
 *
 * @returns draws `[chains * length, 2]` and the chain of each row
 */
export function stickyChains(
  chains: number,
  length: number,
  repeat: number,
  seed: number,
): { draws: Float64Array; chain: Int32Array } {
  const random = new RandomStream(streamState(seed, 0));
  const draws = new Float64Array(2 * chains * length);
  const chain = new Int32Array(chains * length);
  for (let c = 0; c < chains; c++) {
    for (let t = 0; t < length; t++) {
      const row = c * length + t;
      chain[row] = c;
      const stay = t > 0 && random.uniform() < repeat;
      for (let j = 0; j < 2; j++)
        draws[2 * row + j] = stay ? draws[2 * row - 2 + j] : random.normal();
    }
  }
  return { draws, chain };
}
