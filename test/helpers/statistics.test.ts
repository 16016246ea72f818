import { describe, expect, it } from 'vitest';

import { createStreams } from '@latent-langevin/core';

import { erfc, kolmogorovSurvival, ksOneSample, ksTwoSample, normalCdf } from './statistics.js';

/** Relative distance, with an absolute floor for values near zero. */
function relativeError(actual: number, expected: number, floor = 0): number {
  return Math.abs(actual - expected) / Math.max(Math.abs(expected), floor);
}

const uniformCdf = (x: number): number => Math.min(1, Math.max(0, x));

describe('normalCdf', () => {
  // Reference values from mpmath.ncdf at 40 digits.
  it.each([
    [0, 0.5],
    [-0.25, 0.4012936743170763],
    [0.5, 0.6914624612740131],
    [1, 0.8413447460685429],
    [-1, 0.15865525393145705],
    [1.959963984540054, 0.975],
    [-2, 0.02275013194817921],
    [-3, 0.0013498980316300946],
    [3, 0.9986501019683699],
    [-5, 2.866515718791939e-7],
    [8, 0.9999999999999993],
    [-10, 7.619853024160525e-24],
    [-20, 2.7536241186062337e-89],
    [-37, 5.725571222524577e-300],
  ])('gives Phi(%s) = %s to 1e-12 relative', (x, expected) => {
    expect(relativeError(normalCdf(x), expected)).toBeLessThan(1e-12);
  });

  it('is continuous where erfc switches from the series to the continued fraction', () => {
    const x = -1.5 * Math.SQRT2; // erfc(1.5), where the two methods meet
    const below = normalCdf(x - 1e-9);
    const above = normalCdf(x + 1e-9);
    expect(above).toBeGreaterThan(below);
    expect(relativeError(above, below)).toBeLessThan(1e-8);
  });

  it('satisfies Phi(x) + Phi(-x) = 1 when x ranges over [-8, 8]', () => {
    for (let x = -8; x <= 8; x += 0.125) {
      expect(Math.abs(normalCdf(x) + normalCdf(-x) - 1)).toBeLessThan(1e-15);
    }
  });

  it.each([
    [Infinity, 1],
    [-Infinity, 0],
    [Number.NaN, Number.NaN],
  ])('maps the edge value %s to %s', (x, expected) => {
    expect(normalCdf(x)).toBe(expected);
  });
});

describe('erfc', () => {
  it.each([
    [0, 1],
    [0.5, 0.4795001221869535],
    [2, 0.004677734981047266],
    [-1, 1.8427007929497148],
    [5, 1.5374597944280349e-12],
  ])('gives erfc(%s) = %s to 1e-12 relative', (x, expected) => {
    expect(relativeError(erfc(x), expected)).toBeLessThan(1e-12);
  });
});

describe('kolmogorovSurvival', () => {
  // Reference values from scipy.special.kolmogorov; 1.2238..., 1.3581... and 1.6276... are the
  // classical 10%, 5% and 1% critical values.
  it.each([
    [0.2, 0.999999999999495],
    [0.5, 0.9639452436648751],
    [1, 0.26999967167735456],
    [1.2238478702170823, 0.1],
    [1.3580986393225505, 0.05],
    [1.6276236115189, 0.01],
    [2, 0.0006709252557796953],
    [3, 3.045995948942526e-8],
  ])('gives Q(%s) = %s to 1e-10 relative', (lambda, expected) => {
    expect(relativeError(kolmogorovSurvival(lambda), expected)).toBeLessThan(1e-10);
  });

  it('is 1 when lambda <= 0 and decreases continuously across the switch at 1.18', () => {
    expect(kolmogorovSurvival(0)).toBe(1);
    expect(kolmogorovSurvival(-1)).toBe(1);
    const below = kolmogorovSurvival(1.18 - 1e-9);
    const above = kolmogorovSurvival(1.18 + 1e-9);
    expect(below).toBeGreaterThan(above);
    expect(below - above).toBeLessThan(1e-8);
  });
});

describe('ksOneSample', () => {
  // p-values: Q((sqrt(n) + 0.12 + 0.11 / sqrt(n)) D) evaluated with scipy.special.kolmogorov.
  it.each([
    { values: [0.5], statistic: 0.5, pValue: 0.8438198245415606 },
    { values: [0.7, 0.1, 0.4], statistic: 0.3, pValue: 0.89594472765883 },
    { values: [0.25, 0.25, 0.25, 0.25], statistic: 0.75, pValue: undefined },
  ])('gives D = $statistic for the uniform hand case $values', ({ values, statistic, pValue }) => {
    const result = ksOneSample(values, uniformCdf);
    expect(result.statistic).toBeCloseTo(statistic, 15);
    if (pValue !== undefined) expect(relativeError(result.pValue, pValue)).toBeLessThan(1e-10);
  });

  it('rejects an empty sample or one holding NaN', () => {
    expect(() => ksOneSample([], uniformCdf)).toThrow(RangeError);
    expect(() => ksOneSample([0.1, Number.NaN], uniformCdf)).toThrow(/NaN/);
  });

  it('gives p-values of the right size when the null hypothesis holds', () => {
    // REPLICATES = 400 tests of SIZE = 200 uniforms each. Under the null the share of p < 0.1
    // is Binomial(400, 0.1)/400 (sd 0.015); we accept [0.04, 0.16], 4 sd either side, which a
    // correct helper misses with probability about 1e-4. The seed is fixed.
    const REPLICATES = 400;
    const SIZE = 200;
    const [random] = createStreams(2718, 1);
    let small = 0;
    for (let r = 0; r < REPLICATES; r++) {
      const sample = Array.from({ length: SIZE }, () => random.uniform());
      if (ksOneSample(sample, uniformCdf).pValue < 0.1) small++;
    }
    expect(small / REPLICATES).toBeGreaterThan(0.04);
    expect(small / REPLICATES).toBeLessThan(0.16);
  });

  it('rejects a shifted sample when the shift is 0.1 sd and n = 10000', () => {
    const [random] = createStreams(31, 1);
    const shifted = Array.from({ length: 10_000 }, () => random.normal() + 0.1);
    expect(ksOneSample(shifted, normalCdf).pValue).toBeLessThan(1e-6);
  });
});

describe('ksTwoSample', () => {
  // p-values: Q((sqrt(m) + 0.12 + 0.11 / sqrt(m)) D), m = n_a n_b / (n_a + n_b), from scipy.
  it.each([
    { a: [1, 2, 3], b: [4, 5, 6], statistic: 1, pValue: 0.03262165165202116 },
    { a: [1, 2, 3], b: [1, 2, 3], statistic: 0, pValue: 1 },
    { a: [1, 1, 2], b: [1, 2, 2], statistic: 1 / 3, pValue: 0.9762126488644778 },
    { a: [4, 1, 3, 2], b: [2.5], statistic: 0.5, pValue: 0.9028156368711795 },
    { a: [0, 0, 0], b: [0], statistic: 0, pValue: 1 },
  ])('gives D = $statistic for $a against $b, ties stepped over together', (c) => {
    const result = ksTwoSample(c.a, c.b);
    expect(result.statistic).toBeCloseTo(c.statistic, 15);
    expect(relativeError(result.pValue, c.pValue)).toBeLessThan(1e-10);
    expect(ksTwoSample(c.b, c.a).statistic).toBeCloseTo(c.statistic, 15);
  });

  it('gives p-values of the right size when both samples come from one distribution', () => {
    // REPLICATES = 400 pairs of samples of 150 and 250 normals; share of p < 0.1 accepted in
    // [0.04, 0.16], as for ksOneSample (the asymptotic p-value is slightly conservative).
    const REPLICATES = 400;
    const [random] = createStreams(1618, 1);
    const draw = (count: number) => Array.from({ length: count }, () => random.normal());
    let small = 0;
    for (let r = 0; r < REPLICATES; r++) {
      if (ksTwoSample(draw(150), draw(250)).pValue < 0.1) small++;
    }
    expect(small / REPLICATES).toBeGreaterThan(0.04);
    expect(small / REPLICATES).toBeLessThan(0.16);
  });

  it('rejects an empty sample', () => {
    expect(() => ksTwoSample([], [1])).toThrow(RangeError);
    expect(() => ksTwoSample([1], [])).toThrow(RangeError);
  });
});
