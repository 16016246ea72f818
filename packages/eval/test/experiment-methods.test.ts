import { describe, expect, it } from 'vitest';

import { SYNTHETIC_METHODS, rowsPerIteration, thin } from '../src/experiments/methods.js';
import { formatNumber } from '../src/experiments/report.js';

describe('thin', () => {
  // 2 chains x 4 draws of width 1: chain 0 holds 0..3, chain 1 holds 10..13.
  const values = Float32Array.from([0, 1, 2, 3, 10, 11, 12, 13]);

  it('takes draws round-robin over the chains, each chain from its last draw back', () => {
    // 4 rows: 2 a chain, at draws 3 and 1 (evenly spaced, ending at the last one).
    expect(Array.from(thin(values, 2, 4, 1, 4))).toEqual([3, 13, 1, 11]);
  });

  it('gives the first chains one more row when the count does not divide', () => {
    expect(Array.from(thin(values, 2, 4, 1, 3))).toEqual([3, 13, 1]);
  });

  it('returns every row when asked for more than there are', () => {
    expect(Array.from(thin(values, 2, 4, 1, 20)).sort((a, b) => a - b)).toEqual(Array.from(values));
  });

  it('copies whole rows when the width is above 1', () => {
    const wide = Float32Array.from([0, 0, 1, 1, 5, 5, 6, 6]); // 2 chains x 2 draws x 2
    expect(Array.from(thin(wide, 2, 2, 2, 2))).toEqual([1, 1, 6, 6]);
  });
});

describe('rowsPerIteration', () => {
  it.each([
    ['naive', 2, 1],
    ['mala-tempered-1', 2, 1],
    ['mala-pullback-identity', 2, 2],
    ['mala-pullback-jacobian', 2, 4],
    ['mala-pullback-jacobian', 8, 10],
    ['rwm-pullback', 2, 1],
  ])('counts the flow rows of %s per chain and iteration in dimension %i', (id, d, rows) => {
    const method = SYNTHETIC_METHODS.find((m) => m.id === id)!;
    expect(rowsPerIteration(method, d)).toBe(rows);
  });
});

describe('formatNumber', () => {
  it.each([
    [0, '0'],
    [0.123456, '0.123'],
    [12.3456, '12.3'],
    [0.0012345, '1.2e-3'],
    [-0.0012345, '-1.2e-3'],
    [123456, '1.2e+5'],
  ])('writes %d as %s', (value, text) => {
    expect(formatNumber(value)).toBe(text);
  });
});
