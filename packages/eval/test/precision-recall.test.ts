import { describe, expect, it } from 'vitest';

import { InvalidArgumentError, RandomStream, streamState } from '@latent-langevin/core';
import { precisionRecall } from '@latent-langevin/eval';

const f64 = (values: number[]) => Float64Array.from(values);

function normals(count: number, dimension: number, shift: number, seed: number): Float64Array {
  const random = new RandomStream(streamState(seed, 0));
  return Float64Array.from({ length: count * dimension }, () => shift + random.normal());
}

describe('precisionRecall', () => {
  it('matches the hand computation with k = 1 in one dimension', () => {
    // Real {0, 1, 2, 10}: radii to the nearest other point 1, 1, 1, 8.
    // Generated {0.5, 5, 20}: radii 4.5, 4.5, 15.
    // Precision: 0.5 (within 1 of 0) and 5 (within 8 of 10) are covered, 20 is not: 2/3.
    // Recall: 0, 1, 2 lie within 4.5 of 0.5; 10 lies within 15 of 20: 4/4.
    const result = precisionRecall(f64([0.5, 5, 20]), f64([0, 1, 2, 10]), {
      dimension: 1,
      k: 1,
    });
    expect(result.precision).toBeCloseTo(2 / 3, 14);
    expect(result.recall).toBe(1);
  });

  it('counts a point on the boundary of a ball as inside', () => {
    // Real {0, 2}: radius 2 each (k = 1). Generated {4, 4.5}: 4 lies on the ball of 2.
    expect(precisionRecall(f64([4, 4.5]), f64([0, 2]), { dimension: 1, k: 1 }).precision).toBe(0.5);
  });

  it('gives precision and recall 1 for identical sets', () => {
    const x = normals(50, 3, 0, 1);
    expect(precisionRecall(x, x, { dimension: 3 })).toEqual({ precision: 1, recall: 1 });
  });

  it('keeps precision high but loses recall when the draws cover half of the data', () => {
    // Real: N(0, I) in 8 dimensions; generated: only the real points' copies with x1 < 0
    // (the same points, so every one is inside its own real ball): precision 1, recall < 0.8.
    const real = normals(400, 8, 0, 2);
    const half: number[] = [];
    for (let i = 0; i < 400; i++) {
      if (real[8 * i] < 0) half.push(...real.subarray(8 * i, 8 * i + 8));
    }
    const result = precisionRecall(f64(half), real, { dimension: 8 });
    expect(result.precision).toBe(1);
    expect(result.recall).toBeLessThan(0.8);
  });

  it('loses precision when the draws are shifted away from the data', () => {
    // Shifted by 3 in each of 8 coordinates (|shift| = 8.5 against a radius near 3): almost no
    // generated point falls in the real manifold.
    const result = precisionRecall(normals(300, 8, 3, 3), normals(300, 8, 0, 4), {
      dimension: 8,
    });
    expect(result.precision).toBeLessThan(0.05);
    expect(result.recall).toBeLessThan(0.05);
  });

  it.each([
    ['k is not below the set sizes', f64([0, 1, 2]), f64([0, 1, 2]), 3, /holds 3 points/],
    ['generated has a NaN', f64([0, NaN, 2, 3]), f64([0, 1, 2, 3]), 1, /generated\[1, 0\] is NaN/],
    ['k is zero', f64([0, 1]), f64([0, 1]), 0, /options.k must be an integer >= 1; received 0/],
  ])('throws an InvalidArgumentError naming the argument when %s', (_, g, r, k, message) => {
    const call = () => precisionRecall(g, r, { dimension: 1, k });
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow(message);
  });
});
