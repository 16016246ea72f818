/**
 * The out-of-distribution rate: the share of draws that land where the true density is lower
 * than almost every exact draw sees, the symptom of naive flow samples "between" the modes.
 */
import { InvalidArgumentError, describeValue } from '@latent-langevin/core';

/** Options of {@link outOfDistributionRate}. */
export interface OutOfDistributionOptions {
  /** Share of exact draws below the level, in (0, 1); default 0.01. */
  readonly quantile?: number;
}

/** What {@link outOfDistributionRate} returns. */
export interface OutOfDistributionResult {
  /** Share of draws with `log p(x) < level`, in [0, 1]. */
  readonly rate: number;
  /** The level: `floor(quantile * m)` of the `m` exact log-densities lie strictly below it. */
  readonly level: number;
}

/**
 * Share of draws whose true log-density lies below the level that a `quantile` share (1% by
 * default) of exact draws fall under. Exact draws score `quantile` on average; draws between
 * the modes of a target score more. Only log-densities are needed, up to one shared constant.
 *
 * @param logDensity `[n]`: true log-density at each draw, n >= 1; NaN counts as below the level
 * @param exactLogDensity `[m]`: true log-density at exact draws, m >= 1, finite
 * @param options.quantile in (0, 1), default 0.01
 * @returns the rate and the level
 * @throws InvalidArgumentError when a set is empty, an exact value is not finite, or the
 *   quantile is outside (0, 1)
 * @example
 * ```ts
 * const { rate } = outOfDistributionRate(
 *   target.logDensity(draws, n).logDensity,
 *   target.logDensity(exact, m).logDensity,
 * );
 * ```
 */
export function outOfDistributionRate(
  logDensity: ArrayLike<number>,
  exactLogDensity: ArrayLike<number>,
  options: OutOfDistributionOptions = {},
): OutOfDistributionResult {
  const where = 'outOfDistributionRate()';
  const quantile = options.quantile ?? 0.01;
  if (typeof quantile !== 'number' || !(quantile > 0 && quantile < 1)) {
    throw new InvalidArgumentError(where, [
      `options.quantile must be a number in (0, 1); received ${describeValue(quantile)}. ` +
        'Pass e.g. 0.01.',
    ]);
  }
  for (const [name, values] of [
    ['logDensity', logDensity],
    ['exactLogDensity', exactLogDensity],
  ] as const) {
    if (values === null || typeof values !== 'object' || typeof values.length !== 'number') {
      throw new InvalidArgumentError(where, [
        `${name} must be an array of log-densities, one per draw; received ` +
          `${describeValue(values)}.`,
      ]);
    }
    if (values.length === 0) {
      throw new InvalidArgumentError(where, [`${name} is empty; pass at least one value.`]);
    }
  }
  const sorted = Float64Array.from(exactLogDensity);
  for (let k = 0; k < sorted.length; k++) {
    if (!Number.isFinite(sorted[k])) {
      throw new InvalidArgumentError(where, [
        `exactLogDensity[${k}] is ${describeValue(sorted[k])}; exact draws must have finite ` +
          'log-densities. Check the target density.',
      ]);
    }
  }

  sorted.sort();
  const level = sorted[Math.min(sorted.length - 1, Math.floor(quantile * sorted.length))];
  let below = 0;
  for (let i = 0; i < logDensity.length; i++) {
    // Written as !(>=) so that NaN (a draw where the density is undefined) counts as outside.
    if (!(logDensity[i] >= level)) below++;
  }
  return { rate: below / logDensity.length, level };
}
