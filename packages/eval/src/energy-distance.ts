/**
 * Energy distance (Székely and Rizzo, "Energy statistics", J. Stat. Plan. Inference 143, 2013),
 * `E = 2 E|X - Y| - E|X - X'| - E|Y - Y'|`, which is zero exactly when the laws agree.
 */
import { pairSum, prepareSets } from './pairwise.js';
import { type SampleArray, checkDimension, checkSampleSet } from './sample-set.js';

/** Options of {@link energyDistance}. */
export interface EnergyDistanceOptions {
  /** Size `D` of one point; both sets are `[n, D]` row-major. */
  readonly dimension: number;
}

/**
 * Unbiased estimate of the energy distance between two sample sets: the cross term is the mean
 * over all pairs, the within-set terms the means over distinct pairs (U-statistics), so the
 * estimate can be slightly negative when the sets agree. Two point masses at `a` and `b` give
 * `2 |a - b|`.
 *
 * @param x first set `[m, D]`, row-major, m >= 2, finite
 * @param y second set `[n, D]`, row-major, n >= 2, finite
 * @param options.dimension `D`
 * @returns the estimate, in the units of the data
 * @throws InvalidArgumentError when a set is not `[n, D]` with n >= 2 or holds NaN or infinite
 *   values, or the dimension is not an integer >= 1
 * @example
 * ```ts
 * const e = energyDistance(methodDraws, exactDraws, { dimension: 2 });
 * ```
 */
export function energyDistance(
  x: SampleArray,
  y: SampleArray,
  options: EnergyDistanceOptions,
): number {
  const where = 'energyDistance()';
  const dimension = checkDimension(where, options?.dimension);
  const m = checkSampleSet(where, 'x', x, dimension, 2);
  const n = checkSampleSet(where, 'y', y, dimension, 2);

  const [a, b] = prepareSets([x, y], dimension);
  const distance = { type: 'distance' } as const;
  const xy = pairSum(a, b, distance) / (m * n);
  const xx = (2 * pairSum(a, null, distance)) / (m * (m - 1));
  const yy = (2 * pairSum(b, null, distance)) / (n * (n - 1));
  return 2 * xy - xx - yy;
}
