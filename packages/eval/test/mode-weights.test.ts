import { describe, expect, it } from 'vitest';

import { InvalidArgumentError } from '@latent-langevin/core';
import { modeWeightTotalVariation } from '@latent-langevin/eval';

const f64 = (values: number[]) => Float64Array.from(values);

describe('modeWeightTotalVariation', () => {
  it('assigns draws to the nearest mean and sums half the absolute weight errors', () => {
    // Means -1.5 and 2: draws -1, -2 go to mode 0 and 3 to mode 1: weights (2/3, 1/3) against
    // (1/2, 1/2) give 0.5 * (1/6 + 1/6) = 1/6.
    const result = modeWeightTotalVariation(f64([-1, -2, 3]), {
      dimension: 1,
      weights: [0.5, 0.5],
      means: [-1.5, 2],
    });
    expect(result.value).toBeCloseTo(1 / 6, 14);
    expect(Array.from(result.weights)).toEqual([2 / 3, 1 / 3]);
  });

  it('uses an assignment function when one is given', () => {
    // Left of 0 is mode 0: 1 of 4 draws against a true weight 0.7: 0.5 * (0.45 + 0.45) = 0.45.
    const result = modeWeightTotalVariation(f64([-1, 0, 1, 0, 2, 5, 3, 3]), {
      dimension: 2,
      weights: [0.7, 0.3],
      assign: (x, n) => Int32Array.from({ length: n }, (_, i) => (x[2 * i] < 0 ? 0 : 1)),
    });
    expect(result.value).toBeCloseTo(0.45, 14);
  });

  it('is 0 when the shares match and 1 when all draws sit in a mode of weight 0', () => {
    const options = { dimension: 1, weights: [1, 0], means: [0, 10] };
    expect(modeWeightTotalVariation(f64([0.1, -0.2]), options).value).toBe(0);
    expect(modeWeightTotalVariation(f64([9, 11]), options).value).toBe(1);
  });

  it.each([
    [
      'the weights do not sum to 1',
      { weights: [0.5, 0.6], means: [0, 1] },
      /options.weights must be a non-empty array of non-negative numbers summing to 1/,
    ],
    ['neither assign nor means is given', { weights: [1] }, /received neither/],
    [
      'means has the wrong length',
      { weights: [0.5, 0.5], means: [0] },
      /options.means must hold \[K, D\] = \[2, 1\] values/,
    ],
    [
      'the assignment is out of range',
      { weights: [0.5, 0.5], assign: () => [0, 2] },
      /gave row 1 the mode 2, out of range \[0, 2\)/,
    ],
  ])('throws an InvalidArgumentError when %s', (_, options, message) => {
    const call = () => modeWeightTotalVariation(f64([0, 1]), { dimension: 1, ...options });
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow(message);
  });

  it('throws naming x when the draws are empty or hold NaN', () => {
    const options = { dimension: 1, weights: [1], means: [0] };
    expect(() => modeWeightTotalVariation(f64([]), options)).toThrow(/x holds 0 points/);
    expect(() => modeWeightTotalVariation(f64([NaN]), options)).toThrow(/x\[0, 0\] is NaN/);
  });
});
