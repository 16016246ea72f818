/**
 * Convergence diagnostics of one scalar quantity across chains: rank-normalised split R-hat and
 * bulk and tail effective sample sizes (ESS), after Vehtari, Gelman, Simpson, Carpenter and
 * Bürkner (2021), "Rank-normalization, folding, and localization: an improved R-hat for assessing
 * convergence of MCMC", Bayesian Analysis 16(2), 667-718. The definitions are those of the R
 * package posterior and of ArviZ:
 *
 * - Each chain is split into halves, so that a trend within a chain reads as disagreement
 *   between chains. When the number of draws is odd the middle draw is left out of the halves.
 * - Rank normalisation replaces each draw by `Phi^{-1}((r - 3/8) / (S + 1/4))`, where `r` is its
 *   rank among all `S` split draws, tied draws sharing their average rank.
 * - Folding replaces each draw by its distance to the median of all draws (middle draws
 *   included), so that a difference in scale reads as a difference in location.
 * - ESS uses the chain-averaged autocorrelations of the paper's equation (10), summed up to
 *   Geyer's (1992) initial monotone sequence; it is capped at `S * log10(S)`.
 *
 * Every function returns NaN, rather than throwing, when the draws cannot answer the question:
 * fewer than 4 draws per chain, a non-finite draw (NaN or an infinity), or every draw equal
 * (posterior does the same; ArviZ returns NaN for R-hat but the number of draws for the ESS of a
 * constant). Only arguments of the wrong form throw.
 */
import { InvalidArgumentError, describeValue } from './errors.js';
import { autocovariance } from './fft.js';

/**
 * Where the draws of one scalar quantity lie in a flat array. `values` holds a row-major
 * `[chains, draws, stride]` array and the quantity is coordinate `offset` of the last axis:
 * draw `t` of chain `c` is `values[offset + (c * draws + t) * stride]`. With the defaults the
 * array is `[chains, draws]`; with `stride: d, offset: j` it is coordinate `j` of the
 * `[chains, draws, d]` draws of a sampler, read in place. Use `subarray` for other layouts.
 */
export interface DrawsLayout {
  /** Number of chains, a positive integer. */
  readonly chains: number;
  /** Draws per chain, a positive integer; fewer than 4 gives NaN diagnostics. */
  readonly draws: number;
  /** Size of the last axis, a positive integer; 1 by default. */
  readonly stride?: number;
  /** Coordinate on the last axis, an integer in [0, stride); 0 by default. */
  readonly offset?: number;
}

/**
 * Rank-normalised split R-hat: the larger of the bulk R-hat (rank-normalised split chains) and
 * the tail R-hat (rank-normalised folded split chains); Vehtari et al. (2021) suggest trusting
 * draws only when it is below 1.01. A single chain is allowed: its two halves are compared (as in
 * posterior; ArviZ asks for two chains).
 *
 * @param values `[chains, draws, stride]` row-major, see {@link DrawsLayout}
 * @param layout chains and draws counts, and optionally the stride and offset of a strided view
 * @returns R-hat, at least about 1; Infinity when each split chain is constant but they differ;
 *   NaN when fewer than 4 draws per chain, a draw is not finite, or all draws (or all folded
 *   draws) are equal
 * @throws {InvalidArgumentError} when `layout` is not a valid layout of `values`
 * @example
 * ```ts
 * // 2 chains of 4 draws: [chains, draws]
 * const draws = new Float64Array([0.1, -0.3, 0.8, 0.2, 0.5, -1.1, 0.4, 0.0]);
 * const rHat = splitRhat(draws, { chains: 2, draws: 4 });
 * ```
 */
export function splitRhat(values: ArrayLike<number>, layout: DrawsLayout): number {
  const draws = readDraws('splitRhat()', values, layout);
  if (!isInformative(draws)) return NaN;

  const bulk = basicRhat(rankNormalize(splitChains(draws)));
  const tail = basicRhat(rankNormalize(splitChains(fold(draws))));
  return Number.isNaN(bulk) || Number.isNaN(tail) ? NaN : Math.max(bulk, tail);
}

/**
 * Bulk effective sample size: the ESS of the rank-normalised split chains, which measures how well
 * the draws pin down the centre of the distribution, even one without a finite mean.
 *
 * @param values `[chains, draws, stride]` row-major, see {@link DrawsLayout}
 * @param layout chains and draws counts, and optionally the stride and offset of a strided view
 * @returns ESS in (0, S * log10(S)] for `S` split draws; NaN when fewer than 4 draws per chain, a
 *   draw is not finite, or all draws are equal
 * @throws {InvalidArgumentError} when `layout` is not a valid layout of `values`
 * @example
 * ```ts
 * // coordinate 1 of [4, 1000, 2] draws, read in place
 * const bulk = essBulk(samples, { chains: 4, draws: 1000, stride: 2, offset: 1 });
 * ```
 */
export function essBulk(values: ArrayLike<number>, layout: DrawsLayout): number {
  const draws = readDraws('essBulk()', values, layout);
  if (!isInformative(draws)) return NaN;

  return basicEss(rankNormalize(splitChains(draws)));
}

/**
 * Tail effective sample size: the smaller ESS of the indicators `x <= q05` and `x <= q95` on split
 * chains, `q` being the quantiles of all draws, which measures how well the draws pin down the
 * 5% and 95% quantiles.
 *
 * @param values `[chains, draws, stride]` row-major, see {@link DrawsLayout}
 * @param layout chains and draws counts, and optionally the stride and offset of a strided view
 * @returns ESS in (0, S * log10(S)] for `S` split draws; NaN when fewer than 4 draws per chain, a
 *   draw is not finite, all draws are equal, or an indicator is constant (heavy ties)
 * @throws {InvalidArgumentError} when `layout` is not a valid layout of `values`
 * @example
 * ```ts
 * const tail = essTail(draws, { chains: 4, draws: 1000 });
 * ```
 */
export function essTail(values: ArrayLike<number>, layout: DrawsLayout): number {
  const draws = readDraws('essTail()', values, layout);
  if (!isInformative(draws)) return NaN;

  const sorted = draws.values.slice().sort();
  const low = basicEss(splitChains(indicator(draws, quantileOfSorted(sorted, 0.05))));
  const high = basicEss(splitChains(indicator(draws, quantileOfSorted(sorted, 0.95))));
  return Math.min(low, high);
}

/**
 * Effective sample size of the mean on split chains, without rank normalisation: the basic
 * estimator that the bulk and tail ESS apply to transformed draws. It assumes a finite variance;
 * prefer {@link essBulk} when that is in doubt.
 *
 * @param values `[chains, draws, stride]` row-major, see {@link DrawsLayout}
 * @param layout chains and draws counts, and optionally the stride and offset of a strided view
 * @returns ESS in (0, S * log10(S)] for `S` split draws; NaN when fewer than 4 draws per chain, a
 *   draw is not finite, or all draws are equal
 * @throws {InvalidArgumentError} when `layout` is not a valid layout of `values`
 * @example
 * ```ts
 * const meanEss = ess(draws, { chains: 4, draws: 1000 });
 * const monteCarloError = standardDeviation / Math.sqrt(meanEss);
 * ```
 */
export function ess(values: ArrayLike<number>, layout: DrawsLayout): number {
  const draws = readDraws('ess()', values, layout);
  if (!isInformative(draws)) return NaN;

  return basicEss(splitChains(draws));
}

/**
 * Quantile function of the standard normal distribution, `Phi^{-1}(p)`, by Wichura's algorithm
 * AS 241 (PPND16, Applied Statistics 37(3), 1988), accurate to about 1e-16 relative.
 *
 * @param p probability in [0, 1]
 * @returns the `z` with `Phi(z) = p`: -Infinity at 0, Infinity at 1, NaN outside [0, 1] or at NaN
 * @example
 * ```ts
 * normalQuantile(0.975); // 1.959963984540054
 * ```
 */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;

  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (q * polynomial(CENTRAL_NUMERATOR, r)) / polynomial(CENTRAL_DENOMINATOR, r);
  }

  let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  let z: number;
  if (r <= 5) {
    r -= 1.6;
    z = polynomial(INTERMEDIATE_NUMERATOR, r) / polynomial(INTERMEDIATE_DENOMINATOR, r);
  } else {
    r -= 5;
    z = polynomial(TAIL_NUMERATOR, r) / polynomial(TAIL_DENOMINATOR, r);
  }
  return q < 0 ? -z : z;
}

// Coefficients of AS 241, lowest degree first, rounded to the nearest double: for |p - 0.5| at
// most 0.425, then for sqrt(-log(min(p, 1 - p))) at most 5 (down to p of about 1e-11), then beyond.
const CENTRAL_NUMERATOR = [
  3.3871328727963665, 133.14166789178438, 1971.5909503065513, 13731.69376550946, 45921.95393154987,
  67265.7709270087, 33430.57558358813, 2509.0809287301227,
];
const CENTRAL_DENOMINATOR = [
  1, 42.31333070160091, 687.1870074920579, 5394.196021424751, 21213.794301586597, 39307.89580009271,
  28729.085735721943, 5226.495278852546,
];
const INTERMEDIATE_NUMERATOR = [
  1.4234371107496835, 4.630337846156546, 5.769497221460691, 3.6478483247632045, 1.2704582524523684,
  0.2417807251774506, 0.022723844989269184, 0.0007745450142783414,
];
const INTERMEDIATE_DENOMINATOR = [
  1, 2.053191626637759, 1.6763848301838038, 0.6897673349851, 0.14810397642748008,
  0.015198666563616457, 0.0005475938084995345, 1.0507500716444169e-9,
];
const TAIL_NUMERATOR = [
  6.657904643501103, 5.463784911164114, 1.7848265399172913, 0.29656057182850487,
  0.026532189526576124, 0.0012426609473880784, 0.000027115555687434876, 2.0103343992922881e-7,
];
const TAIL_DENOMINATOR = [
  1, 0.599832206555888, 0.1369298809227358, 0.014875361290850615, 0.0007868691311456133,
  0.000018463183175100548, 1.421511758316446e-7, 2.0442631033899397e-15,
];

/** Evaluates `sum_i coefficients[i] * x^i` by Horner's rule. */
function polynomial(coefficients: readonly number[], x: number): number {
  let sum = 0;
  for (let i = coefficients.length - 1; i >= 0; i--) sum = sum * x + coefficients[i];
  return sum;
}

/** Fewest draws per chain for which the diagnostics are defined: two per split half. */
const MIN_DRAWS = 4;

/** Draws of one quantity, `[chains, draws]` row-major. */
interface ChainMatrix {
  readonly values: Float64Array;
  readonly chains: number;
  readonly draws: number;
}

/** Validates `layout` against `values` and copies the draws it describes into a matrix. */
function readDraws(where: string, values: ArrayLike<number>, layout: DrawsLayout): ChainMatrix {
  if (layout === null || typeof layout !== 'object') {
    throw new InvalidArgumentError(where, [
      `layout must be an object { chains, draws, stride?, offset? }; received ` +
        `${describeValue(layout)}. Pass the number of chains and of draws per chain.`,
    ]);
  }
  const { chains, draws, stride = 1, offset = 0 } = layout;
  const issues: string[] = [];
  const isArrayLike =
    values !== null && typeof values === 'object' && Number.isInteger(values.length);
  if (!isArrayLike) {
    issues.push(
      `values must be a Float64Array or an array of numbers; received ${describeValue(values)}. ` +
        'Pass the draws as a [chains, draws] or [chains, draws, stride] row-major array.',
    );
  }
  if (!isPositiveInteger(chains)) {
    issues.push(
      `chains must be a positive integer; received ${describeValue(chains)}. ` +
        'Pass the number of chains.',
    );
  }
  if (!isPositiveInteger(draws)) {
    issues.push(
      `draws must be a positive integer; received ${describeValue(draws)}. ` +
        'Pass the number of draws per chain.',
    );
  }
  if (!isPositiveInteger(stride)) {
    issues.push(
      `stride must be a positive integer; received ${describeValue(stride)}. ` +
        'Pass the size of the last axis of [chains, draws, stride] draws, or omit it.',
    );
  } else if (!(Number.isInteger(offset) && offset >= 0 && offset < stride)) {
    issues.push(
      `offset must be an integer in [0, stride) = [0, ${stride}); received ` +
        `${describeValue(offset)}. Pass the coordinate to read from the last axis, or omit it.`,
    );
  }
  if (issues.length === 0 && values.length !== chains * draws * stride) {
    issues.push(
      `values must hold chains * draws * stride = ${chains} * ${draws} * ${stride} = ` +
        `${chains * draws * stride} numbers; received ${describeValue(values)}. ` +
        'Pass the counts that match the array, or the array that matches the counts.',
    );
  }
  if (issues.length > 0) throw new InvalidArgumentError(where, issues);

  const copy = new Float64Array(chains * draws);
  for (let i = 0; i < copy.length; i++) copy[i] = values[offset + i * stride];
  return { values: copy, chains, draws };
}

function isPositiveInteger(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 1;
}

/** Whether the diagnostics are defined: enough draws, all finite, not all equal. */
function isInformative(matrix: ChainMatrix): boolean {
  if (matrix.draws < MIN_DRAWS) return false;
  return !isConstantOrNonFinite(matrix.values);
}

function isConstantOrNonFinite(values: Float64Array): boolean {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (!Number.isFinite(value)) return true;
    if (value < min) min = value;
    if (value > max) max = value;
  }
  return min === max;
}

/** Halves of every chain as chains of their own, `[2 * chains, floor(draws / 2)]`. */
function splitChains(matrix: ChainMatrix): ChainMatrix {
  const { values, chains, draws } = matrix;
  const half = Math.floor(draws / 2);
  const split = new Float64Array(2 * chains * half);
  for (let c = 0; c < chains; c++) {
    const first = values.subarray(c * draws, c * draws + half);
    const second = values.subarray((c + 1) * draws - half, (c + 1) * draws);
    split.set(first, 2 * c * half);
    split.set(second, (2 * c + 1) * half);
  }
  return { values: split, chains: 2 * chains, draws: half };
}

/** Rank normalisation `Phi^{-1}((r - 3/8) / (S + 1/4))` with average ranks for ties. */
function rankNormalize(matrix: ChainMatrix): ChainMatrix {
  const { values } = matrix;
  const size = values.length;
  const sorted = values.slice().sort();

  // Tied draws occupy sorted positions [below, upTo): ranks below + 1 to upTo, average below +
  // (upTo - below + 1) / 2.
  const z = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    const below = countBelow(sorted, values[i], false);
    const upTo = countBelow(sorted, values[i], true);
    const rank = (below + upTo + 1) / 2;
    z[i] = normalQuantile((rank - 3 / 8) / (size + 1 / 4));
  }
  return { ...matrix, values: z };
}

/** Number of entries of ascending `sorted` below `value` (or at most `value`, when inclusive). */
function countBelow(sorted: Float64Array, value: number, inclusive: boolean): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle] < value || (inclusive && sorted[middle] === value)) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Folded draws `|x - median(x)|`, the median taken over all draws. */
function fold(matrix: ChainMatrix): ChainMatrix {
  const sorted = matrix.values.slice().sort();
  const median = quantileOfSorted(sorted, 0.5);
  return { ...matrix, values: matrix.values.map((value) => Math.abs(value - median)) };
}

/** Quantile by linear interpolation between order statistics (type 7 of R, numpy's default). */
function quantileOfSorted(sorted: Float64Array, probability: number): number {
  const position = (sorted.length - 1) * probability;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
}

/** Indicator draws `x <= threshold`, as 0 and 1. */
function indicator(matrix: ChainMatrix, threshold: number): ChainMatrix {
  return { ...matrix, values: matrix.values.map((value) => (value <= threshold ? 1 : 0)) };
}

/**
 * Potential scale reduction `sqrt(((n - 1) / n * W + B / n) / W)` of chains taken as they are,
 * with `W` the mean within-chain variance and `B / n` the variance of the chain means (Gelman
 * et al., Bayesian Data Analysis, 3rd ed., section 11.4).
 */
function basicRhat(matrix: ChainMatrix): number {
  const { values, chains, draws } = matrix;
  const means = chainMeans(matrix);

  let within = 0;
  for (let c = 0; c < chains; c++) {
    let sum = 0;
    for (let t = 0; t < draws; t++) sum += (values[c * draws + t] - means[c]) ** 2;
    within += sum / (draws - 1);
  }
  within /= chains;
  const between = draws * sampleVariance(means);

  return Math.sqrt((between / within + draws - 1) / draws);
}

/**
 * Effective sample size of chains taken as they are: `S / tau`, with `tau = -1 + 2 * sum rho_t`
 * over the autocorrelations of equation (10) of Vehtari et al. (2021), truncated and made
 * monotone by Geyer's initial monotone sequence estimator. NaN for constant draws.
 */
function basicEss(matrix: ChainMatrix): number {
  const { values, chains, draws } = matrix;
  if (isConstantOrNonFinite(values)) return NaN;

  const meanAutocovariance = new Float64Array(draws);
  for (let c = 0; c < chains; c++) {
    const acov = autocovariance(values.subarray(c * draws, (c + 1) * draws));
    for (let t = 0; t < draws; t++) meanAutocovariance[t] += acov[t] / chains;
  }
  const meanVariance = (meanAutocovariance[0] * draws) / (draws - 1);
  let variancePlus = (meanVariance * (draws - 1)) / draws;
  if (chains > 1) variancePlus += sampleVariance(chainMeans(matrix));
  const rho = (lag: number): number => 1 - (meanVariance - meanAutocovariance[lag]) / variancePlus;

  // Geyer's initial positive sequence: sum pairs (rho_{2k}, rho_{2k+1}) while the pair sum is
  // positive. The last even rho is kept when positive, which lowers the variance of the estimate
  // for antithetic chains (as in Stan, posterior and ArviZ).
  const rhos = new Float64Array(draws);
  rhos[0] = 1;
  let even = 1;
  let odd = rho(1);
  rhos[1] = odd;
  let t = 1;
  while (t < draws - 3 && even + odd > 0) {
    even = rho(t + 1);
    odd = rho(t + 2);
    if (even + odd >= 0) {
      rhos[t + 1] = even;
      rhos[t + 2] = odd;
    }
    t += 2;
  }
  const last = t - 2;
  if (even > 0) rhos[last + 1] = even;

  // Geyer's initial monotone sequence: pair sums may not increase.
  for (let s = 1; s <= last - 2; s += 2) {
    if (rhos[s + 1] + rhos[s + 2] > rhos[s - 1] + rhos[s]) {
      rhos[s + 1] = (rhos[s - 1] + rhos[s]) / 2;
      rhos[s + 2] = rhos[s + 1];
    }
  }

  const size = chains * draws;
  let tau = -1 + rhos[last + 1];
  for (let s = 0; s <= last; s++) tau += 2 * rhos[s];
  tau = Math.max(tau, 1 / Math.log10(size));
  return Number.isFinite(tau) ? size / tau : NaN;
}

function chainMeans(matrix: ChainMatrix): Float64Array {
  const { values, chains, draws } = matrix;
  const means = new Float64Array(chains);
  for (let c = 0; c < chains; c++) {
    let sum = 0;
    for (let t = 0; t < draws; t++) sum += values[c * draws + t];
    means[c] = sum / draws;
  }
  return means;
}

/** Variance with denominator `n - 1`. */
function sampleVariance(values: Float64Array): number {
  let mean = 0;
  for (let i = 0; i < values.length; i++) mean += values[i];
  mean /= values.length;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += (values[i] - mean) ** 2;
  return sum / (values.length - 1);
}
