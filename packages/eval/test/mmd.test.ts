import { describe, expect, it } from 'vitest';

import { InvalidArgumentError, RandomStream, streamState } from '@latent-langevin/core';
import { medianBandwidth, mmdSquared } from '@latent-langevin/eval';

import { stickyChains } from './targets-helpers.js';

const f64 = (values: number[]) => Float64Array.from(values);
const k = (squaredDistance: number, sigma: number) =>
  Math.exp(-squaredDistance / (2 * sigma * sigma));

describe('mmdSquared', () => {
  it('matches the hand computation for two 1-D pairs when the bandwidth is given', () => {
    // x = {0, 1}, y = {3, 4}, sigma = 1:
    // within x: k(0, 1); within y: k(3, 4); across: k(0,3), k(0,4), k(1,3), k(1,4).
    const expected = k(1, 1) + k(1, 1) - (2 * (k(9, 1) + k(16, 1) + k(4, 1) + k(9, 1))) / 4;
    const { value, bandwidth } = mmdSquared(f64([0, 1]), f64([3, 4]), {
      dimension: 1,
      bandwidth: 1,
    });
    expect(bandwidth).toBe(1);
    expect(value).toBeCloseTo(expected, 14);
  });

  it('matches the hand computation for 2-D sets of unequal size', () => {
    // x = {(0,0), (1,0)}, y = {(0,1), (0,2), (1,1)}, sigma = 2.
    const x = f64([0, 0, 1, 0]);
    const y = f64([0, 1, 0, 2, 1, 1]);
    const sq = (a: number[], b: number[]) => (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2;
    const xs = [
      [0, 0],
      [1, 0],
    ];
    const ys = [
      [0, 1],
      [0, 2],
      [1, 1],
    ];
    const within = (set: number[][]) => {
      let s = 0;
      for (let i = 0; i < set.length; i++)
        for (let j = 0; j < set.length; j++) if (i !== j) s += k(sq(set[i], set[j]), 2);
      return s / (set.length * (set.length - 1));
    };
    let across = 0;
    for (const a of xs) for (const b of ys) across += k(sq(a, b), 2);
    const expected = within(xs) + within(ys) - (2 * across) / 6;
    expect(mmdSquared(x, y, { dimension: 2, bandwidth: 2 }).value).toBeCloseTo(expected, 14);
  });

  it('uses the median pairwise distance of the pooled sets when no bandwidth is given', () => {
    // Pooled {0, 1, 3, 4}: distances 1, 3, 4, 2, 3, 1; the median of six is (2 + 3) / 2.
    const { bandwidth } = mmdSquared(f64([0, 1]), f64([3, 4]), { dimension: 1 });
    expect(bandwidth).toBe(2.5);
  });

  it('is zero for identical sets of distinct points up to the unbiased correction', () => {
    // Unbiased: within terms skip the diagonal, so identical sets give a small negative value.
    const x = f64([0, 1, 2]);
    const { value } = mmdSquared(x, x, { dimension: 1, bandwidth: 1 });
    const off = (2 * (k(1, 1) + k(4, 1) + k(1, 1))) / 6;
    const across = (3 + 2 * (2 * k(1, 1) + k(4, 1))) / 9;
    expect(value).toBeCloseTo(2 * off - 2 * across, 14);
    expect(value).toBeLessThan(0);
  });

  it('agrees between the difference and dot-product forms when D crosses 8', () => {
    // The same 1-D sets embedded in 16 dimensions (one nonzero coordinate) give the same value.
    const embed = (values: number[]) => {
      const out = new Float64Array(values.length * 16);
      values.forEach((v, i) => (out[i * 16 + 5] = v + 100)); // offset tests the centring
      return out;
    };
    const low = mmdSquared(f64([0, 1, 2.5]), f64([3, 4]), { dimension: 1, bandwidth: 1.5 });
    const high = mmdSquared(embed([0, 1, 2.5]), embed([3, 4]), { dimension: 16, bandwidth: 1.5 });
    expect(high.value).toBeCloseTo(low.value, 12);
  });

  it('leaves pairs of one group out of the within-set mean when x is labelled', () => {
    // x = {0, 0, 2} with labels [1, 1, 2], y = {0, 2}, sigma = 1. Within x, only the pairs
    // across groups count: (0, 2) twice, mean k(4); without labels (1 + 2 k(4)) / 3.
    // Within y: k(4). Across: 0-0, 0-2, 0-0, 0-2, 2-0, 2-2, mean (3 + 3 k(4)) / 6.
    const x = f64([0, 0, 2]);
    const y = f64([0, 2]);
    const across = (3 + 3 * k(4, 1)) / 6;
    const grouped = mmdSquared(x, y, { dimension: 1, bandwidth: 1, xGroups: [1, 1, 2] });
    const plain = mmdSquared(x, y, { dimension: 1, bandwidth: 1 });
    expect(grouped.value).toBeCloseTo(2 * k(4, 1) - 2 * across, 14);
    expect(plain.value).toBeCloseTo((1 + 2 * k(4, 1)) / 3 + k(4, 1) - 2 * across, 14);
    // Labels on y work the same way; distinct labels everywhere change nothing.
    const swapped = mmdSquared(y, x, { dimension: 1, bandwidth: 1, yGroups: [1, 1, 2] });
    expect(swapped.value).toBeCloseTo(grouped.value, 14);
    const distinct = mmdSquared(x, y, { dimension: 1, bandwidth: 1, xGroups: [0, 1, 2] });
    expect(distinct.value).toBeCloseTo(plain.value, 14);
  });

  it('stays unbiased on MCMC-like draws with repeats when labelled by chain', () => {
    // SEEDS sets of 100 chains x 20 draws of N(0, I_2), each draw repeating the previous one
    // with probability 0.45 (a rejected proposal), against N = 2000 exact draws, sigma = 1.
    // Unlabelled, the repeated pairs (about 1,450 of 2e6) raise the within-x mean by about
    // 7.3e-4 (1 - 1/3) = 4.8e-4; labelled, the mean over seeds is 0 within 5 standard errors
    // (a t-test with 4 degrees of freedom, failure rate below 1%) and every seed's plain value
    // exceeds its labelled one by more than 3e-4.
    const SEEDS = [1, 2, 3, 4, 5];
    const N = 2000;
    const labelled: number[] = [];
    for (const seed of SEEDS) {
      const { draws, chain } = stickyChains(100, 20, 0.45, seed);
      const random = new RandomStream(streamState(seed, 999));
      const exact = Float64Array.from({ length: 2 * N }, () => random.normal());
      const options = { dimension: 2, bandwidth: 1 };
      const grouped = mmdSquared(draws, exact, { ...options, xGroups: chain }).value;
      const plain = mmdSquared(draws, exact, options).value;
      expect(plain - grouped).toBeGreaterThan(3e-4);
      labelled.push(grouped);
    }
    const mean = labelled.reduce((s, v) => s + v, 0) / SEEDS.length;
    const sd = Math.sqrt(labelled.reduce((s, v) => s + (v - mean) ** 2, 0) / (SEEDS.length - 1));
    expect(Math.abs(mean)).toBeLessThan((5 * sd) / Math.sqrt(SEEDS.length));
  });

  it.each([
    ['the labels are fewer than the rows', { xGroups: [0, 1] }, /one integer label per row of x/],
    ['a label is fractional', { xGroups: [0, 1, 1.5] }, /options.xGroups\[2\] is 1.5/],
    ['every row has one label', { yGroups: [4, 4] }, /gives every row of y the same label/],
  ])('throws an InvalidArgumentError when %s', (_, groups, message) => {
    const call = () =>
      mmdSquared(f64([0, 1, 2]), f64([0, 1]), { dimension: 1, bandwidth: 1, ...groups });
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow(message);
  });

  it.each([
    ['x is not a typed array', [0, 1], f64([0, 1]), /x must be a Float32Array or Float64Array/],
    ['x has a NaN', f64([0, NaN]), f64([0, 1]), /x\[1, 0\] is NaN/],
    ['y is empty', f64([0, 1]), f64([]), /y holds 0 points of dimension 1; at least 2/],
    ['y has one point', f64([0, 1]), f64([1]), /y holds 1 points/],
  ])('throws an InvalidArgumentError naming the argument when %s', (_, x, y, message) => {
    const call = () => mmdSquared(x as Float64Array, y, { dimension: 1, bandwidth: 1 });
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow(message);
  });

  it('throws when the dimensions do not divide the lengths', () => {
    expect(() => mmdSquared(f64([0, 1, 2]), f64([0, 1]), { dimension: 2 })).toThrow(
      /mmdSquared\(\): x has 3 values, not a multiple of dimension 2/,
    );
  });

  it('throws when the bandwidth is not positive', () => {
    expect(() => mmdSquared(f64([0, 1]), f64([0, 1]), { dimension: 1, bandwidth: 0 })).toThrow(
      /options.bandwidth must be a finite number > 0; received 0/,
    );
  });
});

describe('medianBandwidth', () => {
  it('returns the middle distance for an odd number of pairs', () => {
    // {0, 1, 3}: distances 1, 3, 2; median 2.
    expect(medianBandwidth([f64([0, 1, 3])], { dimension: 1 })).toBe(2);
  });

  it('gives the same bandwidth for the same seed when it subsamples', () => {
    const values = Float64Array.from({ length: 4000 }, (_, i) => Math.sin(i) * 3);
    const a = medianBandwidth([values], { dimension: 2, subsample: 300, seed: 5 });
    const b = medianBandwidth([values], { dimension: 2, subsample: 300, seed: 5 });
    const all = medianBandwidth([values], { dimension: 2, subsample: 2000 });
    expect(a).toBe(b);
    expect(Math.abs(a - all) / all).toBeLessThan(0.1);
  });

  it('throws when more than half the pairs coincide', () => {
    // {1, 1, 1, 1, 2}: six of the ten distances are 0.
    expect(() => medianBandwidth([f64([1, 1, 1, 1, 2])], { dimension: 1 })).toThrow(
      /median distance between the pooled points is 0/,
    );
  });
});
