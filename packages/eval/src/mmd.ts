/**
 * Maximum mean discrepancy with a Gaussian kernel (Gretton et al., "A kernel two-sample test",
 * JMLR 13, 2012), the unbiased estimate of its square, and the median heuristic for the
 * kernel's bandwidth.
 */
import {
  InvalidArgumentError,
  RandomStream,
  describeValue,
  streamState,
} from '@latent-langevin/core';

import { pairSum, prepareSets, withinSum } from './pairwise.js';
import {
  type SampleArray,
  checkDimension,
  checkGroups,
  checkInteger,
  checkPositive,
  checkSampleSet,
  checkSeed,
} from './sample-set.js';

/** Options of {@link mmdSquared}. */
export interface MmdOptions {
  /** Size `D` of one point; both sets are `[n, D]` row-major. */
  readonly dimension: number;
  /**
   * Bandwidth `sigma > 0` of `k(a, b) = exp(-|a - b|^2 / (2 sigma^2))`; by default the median
   * heuristic on the pooled sets ({@link medianBandwidth}).
   */
  readonly bandwidth?: number;
  /** Points of the pooled sets the median heuristic uses, at most; default 1000. */
  readonly medianSubsample?: number;
  /** Seed of the median heuristic's subsample, an integer in [0, 2^53); default 0. */
  readonly seed?: number;
  /**
   * `[m]`: an integer label per row of `x`, such as the MCMC chain each draw came from. Pairs of
   * rows with the same label are left out of the within-`x` mean: successive draws of one chain
   * are not independent (a rejected proposal repeats the point), and counting them as
   * independent pairs inflates that mean. Draws of different chains are independent, so the
   * estimate stays unbiased for the law of one draw. Default: every row its own group.
   */
  readonly xGroups?: ArrayLike<number>;
  /** `[n]`: labels of the rows of `y`, as `xGroups`. */
  readonly yGroups?: ArrayLike<number>;
}

/** What {@link mmdSquared} returns. */
export interface MmdResult {
  /** Unbiased estimate of MMD^2; it can be slightly negative when the sets agree. */
  readonly value: number;
  /** The bandwidth used. */
  readonly bandwidth: number;
}

/**
 * Unbiased squared MMD between two sample sets with a Gaussian kernel,
 * `MMD^2_u = mean_{i != i'} k(x_i, x_i') + mean_{j != j'} k(y_j, y_j') - 2 mean_{i,j} k(x_i, y_j)`;
 * with group labels, the within-set means run over pairs of different groups only.
 *
 * @param x first set `[m, D]`, row-major, m >= 2, finite
 * @param y second set `[n, D]`, row-major, n >= 2, finite
 * @param options.dimension `D`; `options.bandwidth` a fixed `sigma`, else the median heuristic;
 *   `xGroups` and `yGroups` optional labels `[m]` and `[n]` (see {@link MmdOptions})
 * @returns the estimate and the bandwidth used
 * @throws InvalidArgumentError when a set is not `[n, D]` with n >= 2, holds NaN or infinite
 *   values, or an option is out of range (labels not integers, one per row, of two groups at
 *   least)
 * @example
 * ```ts
 * const { value } = mmdSquared(drawsA, drawsB, { dimension: 2, bandwidth: 1 });
 * // MCMC draws [chains * k, 2], labelled by chain:
 * const mcmc = mmdSquared(chainDraws, exactDraws, { dimension: 2, xGroups: chainOfDraw });
 * ```
 */
export function mmdSquared(x: SampleArray, y: SampleArray, options: MmdOptions): MmdResult {
  const where = 'mmdSquared()';
  const dimension = checkDimension(where, options?.dimension);
  const m = checkSampleSet(where, 'x', x, dimension, 2);
  const n = checkSampleSet(where, 'y', y, dimension, 2);
  const xGroups = checkGroups(where, 'xGroups', 'x', options.xGroups, m);
  const yGroups = checkGroups(where, 'yGroups', 'y', options.yGroups, n);
  const bandwidth =
    options.bandwidth === undefined
      ? medianBandwidth([x, y], {
          dimension,
          subsample: options.medianSubsample ?? 1000,
          seed: options.seed ?? 0,
        })
      : checkPositive(where, 'bandwidth', options.bandwidth);

  const [a, b] = prepareSets([x, y], dimension);
  const kernel = { type: 'gaussian', bandwidth } as const;
  const xx = withinSum(a, xGroups, kernel);
  const yy = withinSum(b, yGroups, kernel);
  const xy = pairSum(a, b, kernel) / (m * n);
  return { value: xx.sum / xx.pairs + yy.sum / yy.pairs - 2 * xy, bandwidth };
}

/** Options of {@link medianBandwidth}. */
export interface MedianBandwidthOptions {
  /** Size `D` of one point. */
  readonly dimension: number;
  /** Largest number of pooled points used, drawn without replacement; default 1000. */
  readonly subsample?: number;
  /** Seed of the subsample, an integer in [0, 2^53); default 0. */
  readonly seed?: number;
}

/**
 * The median heuristic: the median Euclidean distance between distinct points of the pooled
 * sets. Above `subsample` pooled points, a seeded subsample without replacement is used, which
 * keeps the cost at `subsample^2 / 2` distances.
 *
 * @param sets one or more sets `[n_s, D]`, row-major, finite, 2 points in all at least
 * @param options.dimension `D`; `subsample` >= 2, default 1000; `seed` default 0
 * @returns the bandwidth, > 0
 * @throws InvalidArgumentError for malformed sets or options, or when every distance is 0
 * @example
 * ```ts
 * const sigma = medianBandwidth([exactDraws], { dimension: 2, seed: 1 });
 * ```
 */
export function medianBandwidth(
  sets: readonly SampleArray[],
  options: MedianBandwidthOptions,
): number {
  const where = 'medianBandwidth()';
  const dimension = checkDimension(where, options?.dimension);
  const subsample = checkInteger(where, 'subsample', options.subsample ?? 1000, 2);
  const seed = checkSeed(where, options.seed ?? 0);
  let total = 0;
  sets.forEach((set, s) => {
    total += checkSampleSet(where, `sets[${s}]`, set, dimension, 0);
  });
  if (total < 2) {
    throw new InvalidArgumentError(where, [
      `the sets hold ${total} points in all; at least 2 are needed. Pass larger sets.`,
    ]);
  }

  // Pooled row indices; a partial Fisher-Yates shuffle picks the subsample.
  const picked = Math.min(subsample, total);
  const rows = new Uint32Array(total);
  for (let r = 0; r < total; r++) rows[r] = r;
  if (picked < total) {
    const random = new RandomStream(streamState(seed, 0));
    for (let r = 0; r < picked; r++) {
      const swap = r + Math.floor(random.uniform() * (total - r));
      [rows[r], rows[swap]] = [rows[swap], rows[r]];
    }
  }
  const starts: number[] = [];
  let start = 0;
  for (const set of sets) {
    starts.push(start);
    start += set.length / dimension;
  }
  const points = new Float64Array(picked * dimension);
  for (let r = 0; r < picked; r++) {
    let s = 0;
    while (s + 1 < sets.length && starts[s + 1] <= rows[r]) s++;
    const local = rows[r] - starts[s];
    for (let j = 0; j < dimension; j++) {
      points[r * dimension + j] = sets[s][local * dimension + j];
    }
  }

  const distances = new Float64Array((picked * (picked - 1)) / 2);
  let k = 0;
  for (let i = 0; i < picked; i++) {
    for (let j = i + 1; j < picked; j++) {
      let sum = 0;
      for (let c = 0; c < dimension; c++) {
        const t = points[i * dimension + c] - points[j * dimension + c];
        sum += t * t;
      }
      distances[k++] = Math.sqrt(sum);
    }
  }
  distances.sort();
  const half = distances.length >> 1;
  const median =
    distances.length % 2 === 1 ? distances[half] : 0.5 * (distances[half - 1] + distances[half]);
  if (!(median > 0)) {
    throw new InvalidArgumentError(where, [
      `the median distance between the pooled points is ${describeValue(median)}; more than ` +
        'half the pairs coincide. Pass options.bandwidth explicitly.',
    ]);
  }
  return median;
}
