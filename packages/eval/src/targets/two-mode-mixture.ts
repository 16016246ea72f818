/**
 * A two-component Gaussian mixture with unequal weights and modes far apart, in any dimension:
 * the test case where a continuous flow must put mass between the modes and a sampler must get
 * the 0.7 / 0.3 split right.
 */
import { InvalidArgumentError, describeValue } from '@latent-langevin/core';

import { type GaussianMixtureTarget, gaussianMixture } from './gaussian-mixture.js';

/** Parameters of {@link twoModeMixture}: `u = (1, ..., 1) / sqrt(D)`. */
export const TWO_MODE_MIXTURE = {
  weights: [0.7, 0.3],
  /** Component means are `-offset * u` and `+offset * u`, 8 apart whatever D. */
  offset: 4,
  /** Component standard deviations: both covariances are the identity. */
  stds: [1, 1],
} as const;

/**
 * Two Gaussians in dimension D: weight 0.7 on `N(-4 u, I)` and 0.3 on `N(4 u, I)`, with
 * `u = (1, ..., 1) / sqrt(D)`, so the means are 8 standard deviations apart in every dimension
 * and the projection `u . x` is `0.7 N(-4, 1) + 0.3 N(4, 1)`; orthogonal to `u` both components
 * are `N(0, I)`. Mode 0 is the heavier component; the Bayes boundary is `u . x = ln(7/3) / 8`.
 * The `gmm-d{2,8,32}-realnvp` fixtures are meant to be trained on this target.
 *
 * @param options.dimension `D`, an integer >= 1 (the experiments use 2, 8 and 32)
 * @returns the target, a {@link gaussianMixture} named `two-mode-mixture-d{D}`
 * @throws InvalidArgumentError when the dimension is not an integer >= 1
 * @example
 * ```ts
 * const gmm = twoModeMixture({ dimension: 8 });
 * const draws = gmm.sample(1000, 1); // [1000, 8]
 * ```
 */
export function twoModeMixture(options: { readonly dimension: number }): GaussianMixtureTarget {
  const dimension = options?.dimension;
  if (typeof dimension !== 'number' || !Number.isInteger(dimension) || dimension < 1) {
    throw new InvalidArgumentError('twoModeMixture()', [
      `options.dimension must be an integer >= 1; received ${describeValue(dimension)}. ` +
        'Pass e.g. { dimension: 8 }.',
    ]);
  }
  const { offset, stds, weights } = TWO_MODE_MIXTURE;
  const coordinate = offset / Math.sqrt(dimension);
  const means = [
    ...new Array<number>(dimension).fill(-coordinate),
    ...new Array<number>(dimension).fill(coordinate),
  ];
  return gaussianMixture({
    name: `two-mode-mixture-d${dimension}`,
    dimension,
    weights: [...weights],
    means,
    stds: [...stds],
  });
}
