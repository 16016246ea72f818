import { describe, expect, it } from 'vitest';

import { erfc } from '../../../test/helpers/statistics.js';
import { chiSquaredSurvival, chiSquaredTest, logGamma } from './chi-squared.js';

describe('chiSquaredSurvival', () => {
  it.each([0.1, 1, 3.84, 10, 50, 200])(
    'is exp(-x / 2) with 2 degrees of freedom at x = %d',
    (x) => {
      expect(chiSquaredSurvival(x, 2) / Math.exp(-x / 2)).toBeCloseTo(1, 12);
    },
  );

  it.each([0.5, 1, 3.84, 12, 40])(
    'is erfc(sqrt(x / 2)) with 1 degree of freedom at x = %d',
    (x) => {
      expect(chiSquaredSurvival(x, 1) / erfc(Math.sqrt(x / 2))).toBeCloseTo(1, 11);
    },
  );

  it.each([0.5, 4, 9.49, 30])(
    'is exp(-x / 2) (1 + x / 2) with 4 degrees of freedom at x = %d',
    (x) => {
      expect(chiSquaredSurvival(x, 4) / (Math.exp(-x / 2) * (1 + x / 2))).toBeCloseTo(1, 11);
    },
  );

  it('gives the tabulated 0.1% critical values their p-value', () => {
    // Critical values of chi^2 at p = 0.001 for 10 and 100 degrees of freedom (standard tables).
    expect(chiSquaredSurvival(29.588, 10)).toBeCloseTo(0.001, 5);
    expect(chiSquaredSurvival(149.449, 100)).toBeCloseTo(0.001, 5);
    expect(chiSquaredSurvival(0, 5)).toBe(1);
  });
});

describe('logGamma', () => {
  it.each([
    [1, 0],
    [0.5, 0.5 * Math.log(Math.PI)],
    [5, Math.log(24)],
    // Gamma(10.5) = 0.5 * 1.5 * ... * 9.5 * sqrt(pi).
    [
      10.5,
      0.5 * Math.log(Math.PI) +
        Array.from({ length: 10 }, (_, k) => Math.log(k + 0.5)).reduce((a, b) => a + b),
    ],
  ])('gives log Gamma(%d)', (a, value) => {
    expect(logGamma(a)).toBeCloseTo(value, 12);
  });
});

describe('chiSquaredTest', () => {
  it('computes Pearson statistic by hand for three cells', () => {
    // (12 - 10)^2 / 10 + (8 - 10)^2 / 10 + (30 - 30)^2 / 30 = 0.8, 2 degrees of freedom.
    const result = chiSquaredTest([12, 8, 30], [10, 10, 30]);
    expect(result.statistic).toBeCloseTo(0.8, 14);
    expect(result.dof).toBe(2);
    expect(result.pValue).toBeCloseTo(Math.exp(-0.4), 12);
  });
});
