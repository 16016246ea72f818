import { describe, expect, it } from 'vitest';

import { InvalidArgumentError, RandomStream, streamState } from '@latent-langevin/core';
import {
  GAUSSIAN_RING,
  gaussianMixture,
  gaussianRing,
  twoModeMixture,
} from '@latent-langevin/eval';

import { ksOneSample, normalCdf } from '../../../test/helpers/statistics.js';
import { project, worstGradientError } from './targets-helpers.js';

/*
 * Statistical checks fix their seeds; KS tests reject below p = 1e-3 (failure rate 1e-3 per
 * test over seeds for a correct sampler), mode shares are held to 5 standard errors.
 */

describe('gaussianMixture', () => {
  it('evaluates the normalised log-density of a 1-D mixture computed by hand', () => {
    // 0.25 N(-2, 0.5^2) + 0.75 N(2, 1) at x = 0.
    const mixture = gaussianMixture({
      dimension: 1,
      weights: [0.25, 0.75],
      means: [-2, 2],
      stds: [0.5, 1],
    });
    const expected =
      0.25 * (Math.exp(-0.5 * 16) / (0.5 * Math.sqrt(2 * Math.PI))) +
      0.75 * (Math.exp(-0.5 * 4) / Math.sqrt(2 * Math.PI));
    expect(mixture.logDensity(new Float64Array([0]), 1).logDensity[0]).toBeCloseTo(
      Math.log(expected),
      14,
    );
    expect(mixture.logNormaliser).toBe(0);
  });

  it('assigns each point to the component of largest responsibility', () => {
    // x = -0.5 is nearer -2 than 2, but log(0.25 N(-0.5; -2, 0.25)) = -6.11 is below
    // log(0.75 N(-0.5; 2, 1)) = -4.33: the Bayes assignment is component 1, not the nearest mean.
    const mixture = gaussianMixture({
      dimension: 1,
      weights: [0.25, 0.75],
      means: [-2, 2],
      stds: [0.5, 1],
    });
    expect(Array.from(mixture.modeOf(new Float64Array([-2, -0.5, 3]), 3))).toEqual([0, 1, 1]);
  });

  it.each([
    [{ weights: [0.5, 0.4], means: [0, 1], stds: [1, 1] }, /options.weights must be positive/],
    [
      { weights: [0.5, 0.5], means: [0], stds: [1, 1] },
      /options.means must be \[K, D\] = \[2, 1\]/,
    ],
    [{ weights: [1], means: [0], stds: [0] }, /options.stds must be 1 finite numbers > 0/],
  ])('throws an InvalidArgumentError for bad parameters (%#)', (parameters, message) => {
    const call = () => gaussianMixture({ dimension: 1, ...parameters });
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow(message);
  });
});

describe('gaussianRing', () => {
  const ring = gaussianRing();

  it('integrates to 1 on a grid', () => {
    const step = 0.02;
    const cells = Math.round(12 / step);
    const x = new Float64Array(2 * cells * cells);
    for (let k = 0; k < cells * cells; k++) {
      x[2 * k] = -6 + (Math.floor(k / cells) + 0.5) * step;
      x[2 * k + 1] = -6 + ((k % cells) + 0.5) * step;
    }
    const logP = ring.logDensity(x, cells * cells).logDensity;
    const total = logP.reduce((s, l) => s + Math.exp(l), 0) * step * step;
    expect(total).toBeCloseTo(1, 8);
  });

  it('returns gradients that match central differences', () => {
    const random = new RandomStream(streamState(3, 0));
    const x = Float64Array.from({ length: 40 }, () => 4 * random.normal());
    expect(worstGradientError(ring, x)).toBeLessThan(1e-6);
  });

  it('draws x1 with the exact mixture marginal', () => {
    // x1 ~ (1/8) sum_k N(4 cos(2 pi k / 8), 0.2^2); N = 5000.
    const N = 5000;
    const draws = ring.sample(N, 2);
    const cdf = (t: number) => {
      let sum = 0;
      for (let k = 0; k < 8; k++) {
        sum += normalCdf((t - 4 * Math.cos((2 * Math.PI * k) / 8)) / GAUSSIAN_RING.std) / 8;
      }
      return sum;
    };
    expect(ksOneSample(project(draws, [1, 0]), cdf).pValue).toBeGreaterThan(1e-3);
  });

  it('recovers equal mode weights from exact draws and maps each mean to its own mode', () => {
    // N = 8000: each share has standard error 0.0037; the total variation of 8 shares stays
    // below 0.03 (its mean is about 0.012).
    const N = 8000;
    const modes = ring.modeOf(ring.sample(N, 5), N);
    const counts = new Array<number>(8).fill(0);
    for (const m of modes) counts[m]++;
    const tv = 0.5 * counts.reduce((s, c) => s + Math.abs(c / N - 1 / 8), 0);
    expect(tv).toBeLessThan(0.03);
    expect(Array.from(ring.modeOf(ring.means, 8))).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});

describe('twoModeMixture', () => {
  it.each([2, 8, 32])('draws the exact law of two projections in dimension %i', (dimension) => {
    // u . x ~ 0.7 N(-4, 1) + 0.3 N(4, 1); (x1 - x2) / sqrt 2 ~ N(0, 1) (orthogonal to u).
    const N = 4000;
    const gmm = twoModeMixture({ dimension });
    const draws = gmm.sample(N, dimension);
    const u = new Array<number>(dimension).fill(1 / Math.sqrt(dimension));
    const across = new Array<number>(dimension).fill(0);
    across[0] = Math.SQRT1_2;
    across[1] = -Math.SQRT1_2;
    const alongCdf = (t: number) => 0.7 * normalCdf(t + 4) + 0.3 * normalCdf(t - 4);
    expect(ksOneSample(project(draws, u), alongCdf).pValue).toBeGreaterThan(1e-3);
    expect(ksOneSample(project(draws, across), normalCdf).pValue).toBeGreaterThan(1e-3);
  });

  it('puts 70% of the exact draws in mode 0', () => {
    // N = 8000: standard error 0.0051; 5 of them is 0.026.
    const N = 8000;
    const gmm = twoModeMixture({ dimension: 8 });
    const modes = gmm.modeOf(gmm.sample(N, 9), N);
    const share = modes.reduce((s, m) => s + (m === 0 ? 1 : 0), 0) / N;
    expect(Math.abs(share - 0.7)).toBeLessThan(0.026);
  });

  it('places the means 8 apart along the diagonal whatever the dimension', () => {
    for (const dimension of [2, 8, 32]) {
      const { means } = twoModeMixture({ dimension });
      let squared = 0;
      for (let j = 0; j < dimension; j++) squared += (means[dimension + j] - means[j]) ** 2;
      expect(Math.sqrt(squared)).toBeCloseTo(8, 12);
    }
  });

  it('returns gradients that match central differences in dimension 8', () => {
    const gmm = twoModeMixture({ dimension: 8 });
    const x = gmm.sample(10, 4);
    for (let k = 0; k < 8; k++) x[k] = 0.1 * k; // a point between the modes
    expect(worstGradientError(gmm, x)).toBeLessThan(1e-6);
  });

  it('throws an InvalidArgumentError when the dimension is not a positive integer', () => {
    expect(() => twoModeMixture({ dimension: 0 })).toThrow(
      /twoModeMixture\(\): options.dimension must be an integer >= 1; received 0/,
    );
  });
});
