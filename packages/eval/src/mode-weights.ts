/**
 * Mode weights of a mixture: which share of the draws falls in each mode, and its total
 * variation from the true weights. A sampler that visits every mode but in the wrong
 * proportions scores badly here even when local metrics look fine.
 */
import { InvalidArgumentError, describeValue } from '@latent-langevin/core';

import { type SampleArray, checkDimension, checkSampleSet } from './sample-set.js';

/** Assigns each row of a batch `x` (`[n, D]`) to a mode, an integer in `[0, K)`. */
export type ModeAssignment = (x: SampleArray, n: number) => ArrayLike<number>;

/** Options of {@link modeWeightTotalVariation}. */
export interface ModeWeightOptions {
  /** Size `D` of one point; the draws are `[n, D]` row-major. */
  readonly dimension: number;
  /** True weights of the `K` modes, non-negative, summing to 1 (within 1e-6). */
  readonly weights: readonly number[];
  /** Assigns draws to modes; exactly one of `assign` and `means` is given. */
  readonly assign?: ModeAssignment;
  /** `[K, D]` component means, row-major: each draw goes to the nearest one (Euclidean). */
  readonly means?: ArrayLike<number>;
}

/** What {@link modeWeightTotalVariation} returns. */
export interface ModeWeightResult {
  /** `0.5 * sum_k |w_hat_k - w_k|`, in [0, 1]. */
  readonly value: number;
  /** `[K]`: the share of the draws assigned to each mode. */
  readonly weights: Float64Array;
}

/**
 * Total variation between the recovered mode weights of a set of draws and the true ones,
 * `0.5 * sum_k |n_k / n - w_k|`, the draws being assigned to modes by a function or to the
 * nearest component mean.
 *
 * @param x draws `[n, D]`, row-major, n >= 1, finite
 * @param options.dimension `D`; `weights` `[K]`; `assign` or `means` (`[K, D]`)
 * @returns the total variation and the recovered weights
 * @throws InvalidArgumentError when the draws are malformed, the weights are not a probability
 *   vector, not exactly one of assign and means is given, means is not `[K, D]`, or an
 *   assignment falls outside `[0, K)`
 * @example
 * ```ts
 * const { value } = modeWeightTotalVariation(draws, {
 *   dimension: 2,
 *   weights: [0.5, 0.5],
 *   means: [-2, 0, 2, 0],
 * });
 * ```
 */
export function modeWeightTotalVariation(
  x: SampleArray,
  options: ModeWeightOptions,
): ModeWeightResult {
  const where = 'modeWeightTotalVariation()';
  const dimension = checkDimension(where, options?.dimension);
  const n = checkSampleSet(where, 'x', x, dimension, 1);
  const weights = checkWeights(where, options.weights);
  const k = weights.length;
  const { assign, means } = options;
  if ((assign === undefined) === (means === undefined)) {
    throw new InvalidArgumentError(where, [
      'pass exactly one of options.assign (a function (x, n) => mode indices) and ' +
        'options.means ([K, D] component means); received ' +
        `${assign === undefined ? 'neither' : 'both'}.`,
    ]);
  }
  if (assign !== undefined && typeof assign !== 'function') {
    throw new InvalidArgumentError(where, [
      'options.assign must be a function (x, n) => mode indices; received ' +
        `${describeValue(assign)}.`,
    ]);
  }
  if (means !== undefined && (means === null || means.length !== k * dimension)) {
    throw new InvalidArgumentError(where, [
      `options.means must hold [K, D] = [${k}, ${dimension}] values, one mean per weight; ` +
        `received ${describeValue(means)}.`,
    ]);
  }

  const modes = assign !== undefined ? assign(x, n) : nearestMean(x, n, dimension, means!, k);
  if (modes.length !== n) {
    throw new InvalidArgumentError(where, [
      `options.assign returned ${modes.length} indices for ${n} draws; return one per row.`,
    ]);
  }
  const counts = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const mode = modes[i];
    if (!Number.isInteger(mode) || mode < 0 || mode >= k) {
      throw new InvalidArgumentError(where, [
        `options.assign gave row ${i} the mode ${describeValue(mode)}, out of range [0, ${k}); ` +
          'return integers below the number of weights.',
      ]);
    }
    counts[mode] += 1;
  }
  let value = 0;
  for (let c = 0; c < k; c++) {
    counts[c] /= n;
    value += Math.abs(counts[c] - weights[c]);
  }
  return { value: 0.5 * value, weights: counts };
}

function checkWeights(where: string, weights: unknown): readonly number[] {
  const ok =
    Array.isArray(weights) &&
    weights.length >= 1 &&
    weights.every((w) => typeof w === 'number' && Number.isFinite(w) && w >= 0) &&
    Math.abs((weights as number[]).reduce((s, w) => s + w, 0) - 1) <= 1e-6;
  if (!ok) {
    throw new InvalidArgumentError(where, [
      `options.weights must be a non-empty array of non-negative numbers summing to 1; ` +
        `received ${describeValue(weights)}. Pass e.g. weights: [0.7, 0.3].`,
    ]);
  }
  return weights as readonly number[];
}

function nearestMean(
  x: SampleArray,
  n: number,
  dimension: number,
  means: ArrayLike<number>,
  k: number,
): Int32Array {
  const modes = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestDistance = Infinity;
    for (let c = 0; c < k; c++) {
      let sum = 0;
      for (let j = 0; j < dimension; j++) {
        const t = x[i * dimension + j] - means[c * dimension + j];
        sum += t * t;
      }
      if (sum < bestDistance) {
        bestDistance = sum;
        best = c;
      }
    }
    modes[i] = best;
  }
  return modes;
}
