import { describe, expect, it } from 'vitest';

import { InvalidArgumentError, RandomStream, streamState } from '@latent-langevin/core';
import { slicedWasserstein2 } from '@latent-langevin/eval';

import { wasserstein2SquaredSorted } from '../src/sliced-wasserstein.js';

const f64 = (values: number[]) => Float64Array.from(values);

function normals(count: number, mean: number, sd: number, seed: number): Float64Array {
  const random = new RandomStream(streamState(seed, 0));
  return Float64Array.from({ length: count }, () => mean + sd * random.normal());
}

describe('slicedWasserstein2', () => {
  it('is the exact W2 of two 1-D sets of equal size', () => {
    // Sorted {0, 1} against {2, 3}: every point moves by 2, in either direction of projection.
    expect(slicedWasserstein2(f64([1, 0]), f64([3, 2]), { dimension: 1 })).toBeCloseTo(2, 14);
  });

  it('integrates the quantile functions when the sizes differ', () => {
    // F^-1 = 0 on [0, 1]; G^-1 = 0 on [0, 1/2] and 2 on (1/2, 1]: W2^2 = 1/2 * 4 = 2.
    expect(slicedWasserstein2(f64([0]), f64([0, 2]), { dimension: 1 })).toBeCloseTo(Math.SQRT2, 14);
    // {0, 1, 2} against {0, 3}: slices [0,1/3] 0, [1/3,1/2] 1, [1/2,2/3] (1-3)^2, [2/3,1] 1.
    const expected = (1 / 6) * 1 + (1 / 6) * 4 + (1 / 3) * 1;
    expect(wasserstein2SquaredSorted(f64([0, 1, 2]), f64([0, 3]))).toBeCloseTo(expected, 14);
  });

  it('gives |a - b| / sqrt(2) for two point masses in the plane, averaged over directions', () => {
    // E[(theta . v)^2] = |v|^2 / 2 for theta uniform on the circle; with 4000 directions the
    // mean of cos^2 has standard deviation sqrt(1/8 / 4000) = 0.0056 (1.1% of 1/2), so the
    // distance is within 3% (more than 5 standard deviations).
    const a = f64([0, 0, 0, 0]);
    const b = f64([3, 4, 3, 4]);
    const value = slicedWasserstein2(a, b, { dimension: 2, projections: 4000, seed: 3 });
    expect(Math.abs(value - 5 / Math.SQRT2) / (5 / Math.SQRT2)).toBeLessThan(0.03);
  });

  it('recovers W2 between two 1-D Gaussians from large samples', () => {
    // W2(N(0, 1), N(1, 2^2))^2 = (0 - 1)^2 + (1 - 2)^2 = 2. With N = 20000 draws each the
    // empirical distance is within 0.05 of sqrt(2) (the tails dominate its error).
    const N = 20000;
    const value = slicedWasserstein2(normals(N, 0, 1, 1), normals(N, 1, 2, 2), { dimension: 1 });
    expect(Math.abs(value - Math.SQRT2)).toBeLessThan(0.05);
  });

  it('gives the same value for the same seed and a different one for another seed', () => {
    const x = normals(400, 0, 1, 3);
    const y = normals(400, 0.5, 1, 4);
    const one = slicedWasserstein2(x, y, { dimension: 2, projections: 8, seed: 1 });
    expect(slicedWasserstein2(x, y, { dimension: 2, projections: 8, seed: 1 })).toBe(one);
    expect(slicedWasserstein2(x, y, { dimension: 2, projections: 8, seed: 2 })).not.toBe(one);
  });

  it.each([
    ['x is empty', f64([]), f64([1]), 1, /x holds 0 points of dimension 1; at least 1/],
    ['y has an infinite value', f64([1]), f64([Infinity]), 1, /y\[0, 0\] is Infinity/],
    ['the dimensions do not match', f64([1, 2, 3]), f64([1, 2]), 2, /x has 3 values/],
  ])(
    'throws an InvalidArgumentError naming the argument when %s',
    (_, x, y, dimension, message) => {
      const call = () => slicedWasserstein2(x, y, { dimension });
      expect(call).toThrow(InvalidArgumentError);
      expect(call).toThrow(message);
    },
  );

  it('throws when the number of projections is not a positive integer', () => {
    expect(() => slicedWasserstein2(f64([1]), f64([2]), { dimension: 1, projections: 0 })).toThrow(
      /slicedWasserstein2\(\): options.projections must be an integer >= 1; received 0/,
    );
  });
});
