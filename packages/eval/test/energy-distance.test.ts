import { describe, expect, it } from 'vitest';

import { InvalidArgumentError } from '@latent-langevin/core';
import { energyDistance } from '@latent-langevin/eval';

const f64 = (values: number[]) => Float64Array.from(values);

describe('energyDistance', () => {
  it('is 2 |a - b| for two point masses', () => {
    // Both within-set terms vanish; every cross distance is |(3, 4)| = 5.
    const x = f64([1, 1, 1, 1, 1, 1]);
    const y = f64([4, 5, 4, 5]);
    expect(energyDistance(x, y, { dimension: 2 })).toBeCloseTo(10, 12);
  });

  it('matches the hand computation for two 1-D pairs', () => {
    // x = {0, 1}, y = {3, 4}: cross mean (3 + 4 + 2 + 3) / 4 = 3, within means 1 and 1.
    expect(energyDistance(f64([0, 1]), f64([3, 4]), { dimension: 1 })).toBeCloseTo(4, 14);
  });

  it('matches the hand computation for 2-D sets of unequal size', () => {
    // x = {(0,0), (0,2)}, y = {(0,0), (2,0), (2,2)}.
    // Cross: 0, 2, sqrt 8, 2, sqrt 8, 2 -> mean (6 + 2 sqrt 8) / 6.
    // Within x: 2. Within y: pairs 2, sqrt 8, 2 -> mean (4 + sqrt 8) / 3.
    const s8 = Math.sqrt(8);
    const expected = (2 * (6 + 2 * s8)) / 6 - 2 - (4 + s8) / 3;
    const value = energyDistance(f64([0, 0, 0, 2]), f64([0, 0, 2, 0, 2, 2]), { dimension: 2 });
    expect(value).toBeCloseTo(expected, 14);
  });

  it('leaves pairs of one group out of the within-set mean when x is labelled', () => {
    // x = {0, 0, 2} with labels [1, 1, 2], y = {0, 2}: within x only (0, 2) twice counts, mean
    // 2 (unlabelled (0 + 2 + 2) / 3); within y 2; across, distances 0, 2, 0, 2, 2, 0, mean 1.
    const x = f64([0, 0, 2]);
    const y = f64([0, 2]);
    expect(energyDistance(x, y, { dimension: 1, xGroups: [1, 1, 2] })).toBeCloseTo(-2, 14);
    expect(energyDistance(x, y, { dimension: 1 })).toBeCloseTo(2 - 4 / 3 - 2, 14);
    expect(energyDistance(y, x, { dimension: 1, yGroups: [1, 1, 2] })).toBeCloseTo(-2, 14);
  });

  it('throws an InvalidArgumentError when the labels do not match the rows', () => {
    const call = () => energyDistance(f64([0, 1, 2]), f64([0, 1]), { dimension: 1, xGroups: [0] });
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow(/energyDistance\(\): options.xGroups must hold one integer label per row/);
  });

  it('computes the same value in float32 and float64 when the values are exact in both', () => {
    const x = [0.5, 1, -2, 0.25];
    const y = [4, 5, 4, 6];
    expect(energyDistance(Float32Array.from(x), Float32Array.from(y), { dimension: 2 })).toBe(
      energyDistance(f64(x), f64(y), { dimension: 2 }),
    );
  });

  it.each([
    ['x has one point', f64([1, 2]), f64([1, 2, 3, 4]), /x holds 1 points of dimension 2/],
    ['y has a NaN', f64([1, 2, 3, 4]), f64([1, NaN, 3, 4]), /y\[0, 1\] is NaN/],
    ['the lengths do not fit the dimension', f64([1, 2, 3]), f64([1, 2]), /x has 3 values/],
  ])('throws an InvalidArgumentError naming the argument when %s', (_, x, y, message) => {
    const call = () => energyDistance(x, y, { dimension: 2 });
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow(message);
  });

  it('throws when the dimension is missing', () => {
    expect(() =>
      energyDistance(f64([1, 2]), f64([1, 2]), {} as unknown as { dimension: number }),
    ).toThrow(
      /energyDistance\(\): options.dimension must be an integer >= 1, .*; received undefined/,
    );
  });
});
