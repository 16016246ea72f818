import { describe, expect, it } from 'vitest';

import { createStreams } from '@latent-langevin/core';

import { choleskyInPlace, quadraticForm, solveLower, solveUpper } from '../src/linalg.js';

const SEED = 7;
const TOLERANCE = 1e-12; // relative to the largest entry involved; the matrices are well conditioned
const OFFSET = 5; // matrices are stored at an offset, with guard values around them
const GUARD = -12345.5;

/** A random SPD matrix `B B^T + d I`, `d x d` row-major, from a fixed stream. */
function randomSpd(d: number, stream: number): Float64Array {
  const [random] = createStreams(SEED, 1, stream);
  const b = Float64Array.from({ length: d * d }, () => random.normal());
  const a = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let sum = i === j ? d : 0;
      for (let k = 0; k < d; k++) sum += b[i * d + k] * b[j * d + k];
      a[i * d + j] = sum;
    }
  }
  return a;
}

function randomVector(d: number, stream: number): Float64Array {
  const [random] = createStreams(SEED + 1, 1, stream);
  return Float64Array.from({ length: d }, () => random.normal());
}

/** `a` copied into a flat array at OFFSET, with guard values before and after. */
function embed(a: Float64Array): Float64Array {
  const flat = new Float64Array(OFFSET + a.length + 3).fill(GUARD);
  flat.set(a, OFFSET);
  return flat;
}

/** log |det A| by Gaussian elimination with partial pivoting, independent of Cholesky. */
function logAbsDetByElimination(a: Float64Array, d: number): number {
  const m = Float64Array.from(a);
  let logDet = 0;
  for (let col = 0; col < d; col++) {
    let pivot = col;
    for (let r = col + 1; r < d; r++) {
      if (Math.abs(m[r * d + col]) > Math.abs(m[pivot * d + col])) pivot = r;
    }
    for (let k = 0; k < d; k++) {
      [m[col * d + k], m[pivot * d + k]] = [m[pivot * d + k], m[col * d + k]];
    }
    logDet += Math.log(Math.abs(m[col * d + col]));
    for (let r = col + 1; r < d; r++) {
      const factor = m[r * d + col] / m[col * d + col];
      for (let k = col; k < d; k++) m[r * d + k] -= factor * m[col * d + k];
    }
  }
  return logDet;
}

function maxAbs(values: ArrayLike<number>): number {
  let max = 0;
  for (let k = 0; k < values.length; k++) max = Math.max(max, Math.abs(values[k]));
  return max;
}

function multiply(a: Float64Array, d: number, v: Float64Array): Float64Array {
  const out = new Float64Array(d);
  for (let i = 0; i < d; i++) for (let k = 0; k < d; k++) out[i] += a[i * d + k] * v[k];
  return out;
}

const DIMENSIONS = [1, 3, 7];

describe('choleskyInPlace', () => {
  it.each(DIMENSIONS)('reconstructs A = L L^T to 1e-12 when d = %i', (d) => {
    const a = randomSpd(d, d);
    const flat = embed(a);

    const logDet = choleskyInPlace(flat, OFFSET, d);

    expect(Number.isFinite(logDet)).toBe(true);
    const l = flat.subarray(OFFSET, OFFSET + d * d);
    for (let i = 0; i < d; i++) {
      expect(l[i * d + i]).toBeGreaterThan(0);
      for (let j = i + 1; j < d; j++) expect(l[i * d + j]).toBe(0); // strict upper triangle
    }
    const scale = maxAbs(a);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        let sum = 0;
        for (let k = 0; k < d; k++) sum += l[i * d + k] * l[j * d + k];
        expect(Math.abs(sum - a[i * d + j]) / scale).toBeLessThan(TOLERANCE);
      }
    }
  });

  it.each(DIMENSIONS)('returns log det A matching Gaussian elimination when d = %i', (d) => {
    const a = randomSpd(d, d + 10);
    const logDet = choleskyInPlace(embed(a), OFFSET, d);
    const expected = logAbsDetByElimination(a, d);
    expect(Math.abs(logDet - expected)).toBeLessThan(TOLERANCE * Math.max(1, Math.abs(expected)));
  });

  it('gives log det = sum log a_ii when A is diagonal', () => {
    const diagonal = [0.25, 4, 9];
    const a = new Float64Array(9);
    diagonal.forEach((value, i) => (a[i * 3 + i] = value));
    expect(choleskyInPlace(a, 0, 3)).toBeCloseTo(Math.log(0.25 * 4 * 9), 14);
    expect([a[0], a[4], a[8]]).toEqual([0.5, 2, 3]);
  });

  it.each(DIMENSIONS)('leaves values outside the matrix untouched when d = %i', (d) => {
    const flat = embed(randomSpd(d, d + 20));
    choleskyInPlace(flat, OFFSET, d);
    expect([...flat.subarray(0, OFFSET)].every((v) => v === GUARD)).toBe(true);
    expect([...flat.subarray(OFFSET + d * d)].every((v) => v === GUARD)).toBe(true);
  });

  it.each([
    ['indefinite', [1, 2, 2, 1]],
    ['negative definite', [-1, 0, 0, -1]],
    ['singular (semidefinite)', [1, 1, 1, 1]],
    ['zero', [0, 0, 0, 0]],
    ['NaN on the diagonal', [Number.NaN, 0, 0, 1]],
    ['NaN off the diagonal', [1, Number.NaN, Number.NaN, 1]],
    ['+Infinity on the diagonal', [Infinity, 0, 0, 1]],
    ['-0 on the diagonal', [-0, 0, 0, 1]],
  ])('returns NaN when A is %s', (_label, entries) => {
    expect(choleskyInPlace(Float64Array.from(entries), 0, 2)).toBeNaN();
  });

  it('returns NaN when a 7 x 7 SPD matrix is made indefinite in its last pivot', () => {
    const d = 7;
    const a = randomSpd(d, 30);
    const v = randomVector(d, 30);
    // A - c v v^T with c just above 1 / (v^T A^-1 v) has exactly one negative eigenvalue.
    const l = embed(a);
    choleskyInPlace(l, OFFSET, d);
    const y = Float64Array.from(v);
    solveLower(l, OFFSET, d, y);
    let vAv = 0;
    for (const value of y) vAv += value * value;
    const c = 1.01 / vAv;
    const b = a.map((value, k) => value - c * v[Math.floor(k / d)] * v[k % d]);
    expect(choleskyInPlace(b, 0, d)).toBeNaN();
  });
});

describe('solveLower and solveUpper', () => {
  it.each(DIMENSIONS)('solve L y = b and L^T x = y, so that A x = b, when d = %i', (d) => {
    const a = randomSpd(d, d + 40);
    const flat = embed(a);
    choleskyInPlace(flat, OFFSET, d);
    const l = flat.subarray(OFFSET, OFFSET + d * d);
    const b = randomVector(d, d);

    const y = Float64Array.from(b);
    solveLower(flat, OFFSET, d, y);
    const ly = new Float64Array(d);
    for (let i = 0; i < d; i++) for (let k = 0; k <= i; k++) ly[i] += l[i * d + k] * y[k];
    for (let i = 0; i < d; i++) expect(Math.abs(ly[i] - b[i])).toBeLessThan(TOLERANCE * 10);

    const x = Float64Array.from(y);
    solveUpper(flat, OFFSET, d, x);
    const ax = multiply(a, d, x);
    const scale = maxAbs(a) * maxAbs(x);
    for (let i = 0; i < d; i++) expect(Math.abs(ax[i] - b[i]) / scale).toBeLessThan(TOLERANCE);
  });
});

describe('quadraticForm', () => {
  it.each(DIMENSIONS)('equals v^T A v when d = %i', (d) => {
    const a = randomSpd(d, d + 50);
    const flat = embed(a);
    choleskyInPlace(flat, OFFSET, d);
    const v = randomVector(d, d + 50);

    const expected = v.reduce((sum, vi, i) => sum + vi * multiply(a, d, v)[i], 0);

    expect(Math.abs(quadraticForm(flat, OFFSET, d, v) - expected) / expected).toBeLessThan(
      TOLERANCE,
    );
  });

  it('is zero when v is zero', () => {
    const flat = embed(randomSpd(3, 60));
    choleskyInPlace(flat, OFFSET, 3);
    expect(quadraticForm(flat, OFFSET, 3, new Float64Array(3))).toBe(0);
  });
});
