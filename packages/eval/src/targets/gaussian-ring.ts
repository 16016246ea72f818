/**
 * The ring of 8 Gaussians of the fixture `ring-realnvp` (`fixtures/scripts/common.py`): equal
 * weights, means `4 (cos(2 pi k / 8), sin(2 pi k / 8))` for k = 0..7, standard deviation 0.2.
 */
import { type GaussianMixtureTarget, gaussianMixture } from './gaussian-mixture.js';

/** Parameters of the ring, exactly as the fixtures define them. */
export const GAUSSIAN_RING = { components: 8, radius: 4, std: 0.2 } as const;

/**
 * The 8-Gaussian ring: a normalised log-density with its gradient, exact draws, and each draw's
 * mode, the nearest mean (modes k = 0..7 counter-clockwise from the positive x axis, weights
 * 1/8 each).
 *
 * @returns the target, a {@link gaussianMixture} named `gaussian-ring`
 * @example
 * ```ts
 * const ring = gaussianRing();
 * const draws = ring.sample(1000, 1); // [1000, 2]
 * const modes = ring.modeOf(draws, 1000);
 * ```
 */
export function gaussianRing(): GaussianMixtureTarget {
  const { components, radius, std } = GAUSSIAN_RING;
  const means: number[] = [];
  for (let c = 0; c < components; c++) {
    const angle = (2 * Math.PI * c) / components;
    means.push(radius * Math.cos(angle), radius * Math.sin(angle));
  }
  return gaussianMixture({
    name: 'gaussian-ring',
    dimension: 2,
    weights: new Array<number>(components).fill(1 / components),
    means,
    stds: new Array<number>(components).fill(std),
  });
}
