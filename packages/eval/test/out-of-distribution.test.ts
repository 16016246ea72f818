import { describe, expect, it } from 'vitest';

import { InvalidArgumentError, RandomStream, streamState } from '@latent-langevin/core';
import { outOfDistributionRate } from '@latent-langevin/eval';

import { normalCdf } from '../../../test/helpers/statistics.js';

/** log N(x; 0, 1) up to a constant at `count` draws of N(0, sd^2). */
function gaussianLogDensities(count: number, sd: number, seed: number): Float64Array {
  const random = new RandomStream(streamState(seed, 0));
  return Float64Array.from({ length: count }, () => -0.5 * (sd * random.normal()) ** 2);
}

describe('outOfDistributionRate', () => {
  it('takes the level below which floor(q m) exact values lie and counts draws under it', () => {
    // Exact values 0..99: level = sorted[floor(0.01 * 100)] = 1; draws 0.5 (below), 1, 2.
    const exact = Float64Array.from({ length: 100 }, (_, i) => 99 - i);
    const result = outOfDistributionRate([0.5, 1, 2], exact);
    expect(result.level).toBe(1);
    expect(result.rate).toBeCloseTo(1 / 3, 14);
  });

  it('counts a NaN log-density as out of distribution', () => {
    expect(outOfDistributionRate([NaN, 5], [1, 2, 3]).rate).toBe(0.5);
  });

  it('gives the quantile for exact draws and the tail mass beyond it for a wider Gaussian', () => {
    // Target N(0, 1): the 1% level of log p is the 99.5% quantile c = 2.5758 of |x|. Draws of
    // N(0, 2^2) fall beyond it with probability 2 (1 - Phi(c / 2)) = 0.1978. With N = 20000
    // draws on each side the standard error is about 0.003; the tolerance is 0.015.
    const N = 20000;
    const exact = gaussianLogDensities(N, 1, 1);
    const fresh = outOfDistributionRate(gaussianLogDensities(N, 1, 2), exact);
    const wide = outOfDistributionRate(gaussianLogDensities(N, 2, 3), exact);
    const expected = 2 * (1 - normalCdf(2.5758293035489 / 2));
    expect(Math.abs(fresh.rate - 0.01)).toBeLessThan(0.004);
    expect(Math.abs(wide.rate - expected)).toBeLessThan(0.015);
  });

  it('uses the given quantile', () => {
    const exact = Float64Array.from({ length: 10 }, (_, i) => i);
    expect(outOfDistributionRate([2.5, 3.5], exact, { quantile: 0.3 }).level).toBe(3);
  });

  it.each([
    ['the draws are empty', [], [1], /logDensity is empty/],
    ['the exact values are empty', [1], [], /exactLogDensity is empty/],
    ['an exact value is NaN', [1], [0, NaN], /exactLogDensity\[1\] is NaN/],
  ])('throws an InvalidArgumentError naming the argument when %s', (_, draws, exact, message) => {
    const call = () => outOfDistributionRate(draws, exact);
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow(message);
  });

  it('throws when the quantile is outside (0, 1)', () => {
    expect(() => outOfDistributionRate([1], [1], { quantile: 1 })).toThrow(
      /options.quantile must be a number in \(0, 1\); received 1/,
    );
  });
});
