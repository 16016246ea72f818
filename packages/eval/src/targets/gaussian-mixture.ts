/**
 * Mixtures of isotropic Gaussians, `p(x) = sum_k w_k N(x; mu_k, sigma_k^2 I)`, normalised, with
 * their gradient, exact draws, and each point's most probable component as its mode.
 */
import {
  InvalidArgumentError,
  RandomStream,
  describeValue,
  streamState,
} from '@latent-langevin/core';

import {
  type ModalTarget,
  type TargetDensity,
  checkBatch,
  checkSampleArguments,
} from './synthetic-target.js';

/** Options of {@link gaussianMixture}. */
export interface GaussianMixtureOptions {
  /** `[K]` component weights, positive, summing to 1 (within 1e-9). */
  readonly weights: readonly number[];
  /** `[K, D]` component means, row-major. */
  readonly means: readonly number[];
  /** `[K]` standard deviations `sigma_k > 0`: component k has covariance `sigma_k^2 I`. */
  readonly stds: readonly number[];
  /** Size `D` of one point. */
  readonly dimension: number;
  /** Name of the target; default `gaussian-mixture`. */
  readonly name?: string;
}

/** A Gaussian mixture target, with its parameters. */
export interface GaussianMixtureTarget extends ModalTarget {
  /** `[K, D]`, row-major. */
  readonly means: Float64Array;
  /** `[K]`. */
  readonly stds: Float64Array;
}

const LOG_TWO_PI = Math.log(2 * Math.PI);

/**
 * A mixture of isotropic Gaussians with a normalised log-density, its gradient
 * `sum_k r_k(x) (mu_k - x) / sigma_k^2` (`r_k` the responsibilities), exact draws (a component
 * by its weight, then a Gaussian draw), and `modeOf` giving the component of largest
 * responsibility (the Bayes assignment).
 *
 * @param options weights `[K]`, means `[K, D]`, stds `[K]`, dimension `D`
 * @returns the target; `extent` is each coordinate's range of `mu_k +- 4 sigma_k`
 * @throws InvalidArgumentError when the weights are not positive and summing to 1, the means
 *   are not `[K, D]` finite numbers, or a standard deviation is not finite and > 0
 * @example
 * ```ts
 * const mixture = gaussianMixture({
 *   dimension: 1,
 *   weights: [0.25, 0.75],
 *   means: [-2, 2],
 *   stds: [0.5, 1],
 * });
 * const { logDensity, gradient } = mixture.logDensity(new Float64Array([0]), 1);
 * ```
 */
export function gaussianMixture(options: GaussianMixtureOptions): GaussianMixtureTarget {
  const where = 'gaussianMixture()';
  const dimension = options?.dimension;
  if (typeof dimension !== 'number' || !Number.isInteger(dimension) || dimension < 1) {
    throw new InvalidArgumentError(where, [
      `options.dimension must be an integer >= 1; received ${describeValue(dimension)}.`,
    ]);
  }
  const { weights, means: meanList, stds: stdList } = options;
  const problems: string[] = [];
  const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  if (
    !Array.isArray(weights) ||
    weights.length === 0 ||
    !weights.every((w) => finite(w) && w > 0) ||
    Math.abs(weights.reduce((s, w) => s + w, 0) - 1) > 1e-9
  ) {
    problems.push(
      `options.weights must be positive numbers summing to 1; received ${describeValue(weights)}.`,
    );
  }
  const k = Array.isArray(weights) ? weights.length : 0;
  if (!Array.isArray(meanList) || meanList.length !== k * dimension || !meanList.every(finite)) {
    problems.push(
      `options.means must be [K, D] = [${k}, ${dimension}] finite numbers, row-major; ` +
        `received ${describeValue(meanList)}.`,
    );
  }
  if (
    !Array.isArray(stdList) ||
    stdList.length !== k ||
    !stdList.every((s) => finite(s) && s > 0)
  ) {
    problems.push(
      `options.stds must be ${k} finite numbers > 0, one per component; received ` +
        `${describeValue(stdList)}.`,
    );
  }
  if (problems.length > 0) throw new InvalidArgumentError(where, problems);

  const name = options.name ?? 'gaussian-mixture';
  const means = Float64Array.from(meanList);
  const stds = Float64Array.from(stdList);
  // log w_k - D/2 log(2 pi sigma_k^2), the constant of each component's log-density.
  const constants = Float64Array.from(
    weights,
    (w, c) => Math.log(w) - 0.5 * dimension * (LOG_TWO_PI + 2 * Math.log(stds[c])),
  );
  const cumulative = new Float64Array(k);
  weights.reduce((sum, w, c) => (cumulative[c] = sum + w), 0);

  /** Fills `terms[c]` with log w_c N(x_i; mu_c, sigma_c^2 I) and returns their maximum. */
  const componentTerms = (x: ArrayLike<number>, i: number, terms: Float64Array): number => {
    let max = -Infinity;
    for (let c = 0; c < k; c++) {
      let sum = 0;
      for (let j = 0; j < dimension; j++) {
        const t = x[i * dimension + j] - means[c * dimension + j];
        sum += t * t;
      }
      terms[c] = constants[c] - (0.5 * sum) / (stds[c] * stds[c]);
      if (terms[c] > max) max = terms[c];
    }
    return max;
  };

  const logDensity = (x: ArrayLike<number>, n: number): TargetDensity => {
    checkBatch(`${name}.logDensity()`, x, n, dimension);
    const out = new Float64Array(n);
    const gradient = new Float64Array(n * dimension);
    const terms = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      const max = componentTerms(x, i, terms);
      let total = 0;
      for (let c = 0; c < k; c++) {
        terms[c] = Math.exp(terms[c] - max);
        total += terms[c];
      }
      out[i] = max + Math.log(total);
      for (let c = 0; c < k; c++) {
        const weight = terms[c] / total / (stds[c] * stds[c]);
        for (let j = 0; j < dimension; j++) {
          gradient[i * dimension + j] += weight * (means[c * dimension + j] - x[i * dimension + j]);
        }
      }
    }
    return { logDensity: out, gradient };
  };

  const sample = (count: number, seed: number): Float64Array => {
    checkSampleArguments(`${name}.sample()`, count, seed);
    const random = new RandomStream(streamState(seed, 0));
    const out = new Float64Array(count * dimension);
    for (let i = 0; i < count; i++) {
      const u = random.uniform();
      let c = 0;
      while (c < k - 1 && cumulative[c] <= u) c++;
      for (let j = 0; j < dimension; j++) {
        out[i * dimension + j] = means[c * dimension + j] + stds[c] * random.normal();
      }
    }
    return out;
  };

  const modeOf = (x: ArrayLike<number>, n: number): Int32Array => {
    checkBatch(`${name}.modeOf()`, x, n, dimension);
    const modes = new Int32Array(n);
    const terms = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      componentTerms(x, i, terms);
      let best = 0;
      for (let c = 1; c < k; c++) if (terms[c] > terms[best]) best = c;
      modes[i] = best;
    }
    return modes;
  };

  const extent = Array.from({ length: dimension }, (_, j): [number, number] => {
    let lo = Infinity;
    let hi = -Infinity;
    for (let c = 0; c < k; c++) {
      lo = Math.min(lo, means[c * dimension + j] - 4 * stds[c]);
      hi = Math.max(hi, means[c * dimension + j] + 4 * stds[c]);
    }
    return [lo, hi];
  });

  return {
    name,
    dimension,
    logDensity,
    sample,
    logNormaliser: 0,
    extent,
    modeWeights: [...weights],
    modeOf,
    means,
    stds,
  };
}
