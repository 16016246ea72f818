/**
 * Energy distance (Székely and Rizzo, "Energy statistics", J. Stat. Plan. Inference 143, 2013),
 * `E = 2 E|X - Y| - E|X - X'| - E|Y - Y'|`, which is zero exactly when the laws agree.
 */
import { pairSum, prepareSets, withinSum } from './pairwise.js';
import { type SampleArray, checkDimension, checkGroups, checkSampleSet } from './sample-set.js';

/** Options of {@link energyDistance}. */
export interface EnergyDistanceOptions {
  /** Size `D` of one point; both sets are `[n, D]` row-major. */
  readonly dimension: number;
  /**
   * `[m]`: an integer label per row of `x`, such as the MCMC chain of each draw; pairs with the
   * same label are left out of the within-`x` mean, as in `mmdSquared`. Default: every row its
   * own group.
   */
  readonly xGroups?: ArrayLike<number>;
  /** `[n]`: labels of the rows of `y`, as `xGroups`. */
  readonly yGroups?: ArrayLike<number>;
}

/**
 * Unbiased estimate of the energy distance between two sample sets: the cross term is the mean
 * over all pairs, the within-set terms the means over distinct pairs (U-statistics), so the
 * estimate can be slightly negative when the sets agree. Two point masses at `a` and `b` give
 * `2 |a - b|`. With group labels, the within-set means run over pairs of different groups.
 *
 * @param x first set `[m, D]`, row-major, m >= 2, finite
 * @param y second set `[n, D]`, row-major, n >= 2, finite
 * @param options.dimension `D`; `xGroups`, `yGroups` optional labels `[m]` and `[n]`
 * @returns the estimate, in the units of the data
 * @throws InvalidArgumentError when a set is not `[n, D]` with n >= 2 or holds NaN or infinite
 *   values, the dimension is not an integer >= 1, or labels are not one integer per row of two
 *   groups at least
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
  const xGroups = checkGroups(where, 'xGroups', 'x', options.xGroups, m);
  const yGroups = checkGroups(where, 'yGroups', 'y', options.yGroups, n);

  const [a, b] = prepareSets([x, y], dimension);
  const distance = { type: 'distance' } as const;
  const xy = pairSum(a, b, distance) / (m * n);
  const xx = withinSum(a, xGroups, distance);
  const yy = withinSum(b, yGroups, distance);
  return 2 * xy - xx.sum / xx.pairs - yy.sum / yy.pairs;
}
