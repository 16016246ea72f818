/**
 * The summary every figure of the benchmark carries: the median of repeated runs and their
 * spread (quartiles and range), so that a reader sees how much the machine's load moved it.
 */

/** Median, quartiles and range of repeated measurements of one quantity. */
export interface Spread {
  readonly median: number;
  /** First quartile (25%), linear interpolation between order statistics. */
  readonly q1: number;
  /** Third quartile (75%). */
  readonly q3: number;
  readonly min: number;
  readonly max: number;
  /** Number of repeats summarised. */
  readonly repeats: number;
}

/** Quantile `p` in [0, 1] of sorted values, linear between order statistics (R type 7). */
function quantileOfSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = p * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.min(sorted.length - 1, lower + 1);
  return sorted[lower] + (position - lower) * (sorted[upper] - sorted[lower]);
}

/**
 * Summarises repeated measurements by their median, quartiles and range. NaN values are left
 * out; with none left, every field is NaN and `repeats` is 0.
 *
 * @param values one value per repeat, any order
 * @returns the {@link Spread} of the finite-or-infinite (non-NaN) values
 * @example
 * ```ts
 * spreadOf([3, 1, 2, 5, 4]); // { median: 3, q1: 2, q3: 4, min: 1, max: 5, repeats: 5 }
 * ```
 */
export function spreadOf(values: readonly number[]): Spread {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  return {
    median: quantileOfSorted(sorted, 0.5),
    q1: quantileOfSorted(sorted, 0.25),
    q3: quantileOfSorted(sorted, 0.75),
    min: sorted.length > 0 ? sorted[0] : Number.NaN,
    max: sorted.length > 0 ? sorted[sorted.length - 1] : Number.NaN,
    repeats: sorted.length,
  };
}

/**
 * Applies `f` to every field of a spread; `f` must be monotone increasing (a positive scale, a
 * unit change) for the quartiles to stay quartiles.
 *
 * @example
 * ```ts
 * const seconds = mapSpread(milliseconds, (ms) => ms / 1000);
 * ```
 */
export function mapSpread(spread: Spread, f: (value: number) => number): Spread {
  return {
    median: f(spread.median),
    q1: f(spread.q1),
    q3: f(spread.q3),
    min: f(spread.min),
    max: f(spread.max),
    repeats: spread.repeats,
  };
}
