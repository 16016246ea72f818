import { describe, expect, it } from 'vitest';

import { affineFlow, couplingFlow2d } from '../src/analytic-flows.js';
import type { AnalyticFlow } from '../src/analytic-flows.js';
import { InvalidArgumentError } from '../src/errors.js';
import { createStreams } from '../src/random.js';

const SEED = 20240611;

/** `count` standard normal draws of a fixed stream, scaled by `scale`. */
function normals(count: number, scale = 1, stream = 0): Float64Array {
  const [random] = createStreams(SEED, 1, stream);
  return Float64Array.from({ length: count }, () => scale * random.normal());
}

/** `sum_i c_x[i] . x_i + c_ld[i] * logDet_i` in float64: the scalar whose gradient is the VJP. */
function pairing(
  flow: AnalyticFlow,
  z: Float64Array,
  n: number,
  cx: Float64Array,
  cl: Float64Array,
) {
  const { x, logDet } = flow.float64.forward(z, n);
  let total = 0;
  for (let k = 0; k < x.length; k++) total += cx[k] * x[k];
  for (let i = 0; i < n; i++) total += cl[i] * logDet[i];
  return total;
}

/** Central finite differences of `pairing` in float64, step `h` on every coordinate. */
function finiteDifferenceVjp(
  flow: AnalyticFlow,
  z: Float64Array,
  n: number,
  cx: Float64Array,
  cl: Float64Array,
  h: number,
): Float64Array {
  const gradient = new Float64Array(z.length);
  for (let k = 0; k < z.length; k++) {
    const plus = Float64Array.from(z);
    const minus = Float64Array.from(z);
    plus[k] += h;
    minus[k] -= h;
    gradient[k] = (pairing(flow, plus, n, cx, cl) - pairing(flow, minus, n, cx, cl)) / (2 * h);
  }
  return gradient;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number) {
  expect(actual.length).toBe(expected.length);
  for (let k = 0; k < expected.length; k++) {
    const scale = Math.max(1, Math.abs(expected[k]));
    expect(Math.abs(actual[k] - expected[k]) / scale, `entry ${k}`).toBeLessThan(tolerance);
  }
}

const N = 16; // test points per flow; the coupling map is exercised over [-3, 3]^2 and beyond

const flows: [string, () => AnalyticFlow][] = [
  ['affineFlow in d = 3', () => affineFlow({ scale: [2, -0.5, 3], shift: [1, 0, -2] })],
  ['couplingFlow2d with default weights', () => couplingFlow2d()],
  [
    'couplingFlow2d with seed 7, width 4, scaleBound 1.5',
    () => couplingFlow2d({ seed: 7, hiddenWidth: 4, scaleBound: 1.5 }),
  ],
];

describe.each(flows)('%s', (_name, make) => {
  const flow = make();
  const d = flow.latentDim;
  const z = normals(N * d, 1.5);
  const cx = normals(N * d, 1, 1);
  const cl = normals(N, 1, 2);

  it('declares an exact gradient and a flat data shape [d]', () => {
    expect(flow.gradient).toBe('exact');
    expect(flow.dataShape).toEqual([d]);
  });

  it('has a VJP equal to central finite differences in float64 within 1e-6', () => {
    const exact = flow.float64.vjp(z, N, { x: cx, logDet: cl });
    const numeric = finiteDifferenceVjp(flow, z, N, cx, cl, 1e-5);
    expectClose(exact.z, numeric, 1e-6);
  });

  it('returns the forward outputs from vjp', () => {
    const exact = flow.float64.vjp(z, N, { x: cx });
    const forward = flow.float64.forward(z, N);
    expect(exact.x).toEqual(forward.x);
    expect(exact.logDet).toEqual(forward.logDet);
  });

  it('has Jacobian rows equal to VJPs with unit cotangents', () => {
    const { jacobian } = flow.float64.jacobian(z, N);
    for (let a = 0; a < d; a++) {
      const unit = new Float64Array(N * d);
      for (let i = 0; i < N; i++) unit[i * d + a] = 1;
      const row = flow.float64.vjp(z, N, { x: unit }).z;
      const fromJacobian = new Float64Array(N * d);
      for (let i = 0; i < N; i++) {
        for (let b = 0; b < d; b++) fromJacobian[i * d + b] = jacobian[i * d * d + a * d + b];
      }
      expectClose(fromJacobian, row, 1e-12);
    }
  });

  it('has logDet equal to log|det jacobian| within 1e-12', () => {
    const { jacobian, logDet } = flow.float64.jacobian(z, N);
    for (let i = 0; i < N; i++) {
      const block = jacobian.subarray(i * d * d, (i + 1) * d * d);
      expect(Math.abs(logDet[i] - Math.log(Math.abs(determinant(block, d))))).toBeLessThan(1e-12);
    }
  });

  it('inverts its forward map to 1e-12 in float64 and to float32 rounding in float32', async () => {
    const { x } = flow.float64.forward(z, N);
    expectClose(flow.float64.inverse(x, N), z, 1e-12);

    const z32 = new Float32Array(z);
    const forward32 = await flow.forward(z32, N);
    expectClose(flow.inverse(forward32.x, N), z32, 1e-5);
  });

  it('rounds the float64 results to float32 in its DifferentiableFlow methods', async () => {
    const z32 = new Float32Array(z);
    const exact = flow.float64.vjp(z32, N, { x: cx, logDet: cl });
    const rounded = await flow.vjp(z32, N, {
      x: new Float32Array(cx),
      logDet: new Float32Array(cl),
    });
    const exactRounded = flow.float64.vjp(z32, N, {
      x: new Float32Array(cx),
      logDet: new Float32Array(cl),
    });
    expect(rounded.z).toEqual(new Float32Array(exactRounded.z));
    expect(rounded.x).toEqual(new Float32Array(exact.x));
    expect(rounded.logDet).toEqual(new Float32Array(exact.logDet));

    const { jacobian } = await flow.jacobian(z32, N);
    expect(jacobian).toEqual(new Float32Array(flow.float64.jacobian(z32, N).jacobian));
  });

  it('treats a missing cotangent entry as zero', () => {
    const withZeros = flow.float64.vjp(z, N, { x: cx, logDet: new Float64Array(N) });
    expect(flow.float64.vjp(z, N, { x: cx }).z).toEqual(withZeros.z);
    expect(flow.float64.vjp(z, N, {}).z).toEqual(new Float64Array(N * d));
  });

  it.each([
    ['n is 0', 0, N * d],
    ['n is not an integer', 2.5, N * d],
    ['z is one value short', N, N * d - 1],
  ])('rejects a batch when %s', async (_case, n, length) => {
    const bad = new Float32Array(length);
    await expect(flow.forward(bad, n)).rejects.toThrow(InvalidArgumentError);
    await expect(flow.vjp(bad, n, {})).rejects.toThrow(/vjp\(\): (n|z) is/);
    await expect(flow.jacobian(bad, n)).rejects.toThrow(InvalidArgumentError);
    expect(() => flow.inverse(bad, n)).toThrow(/inverse\(\): (n|x) is/);
  });

  it('rejects cotangents of the wrong length, naming each', async () => {
    const promise = flow.vjp(new Float32Array(2 * d), 2, {
      x: new Float32Array(d),
      logDet: new Float32Array(3),
    });
    await expect(promise).rejects.toThrow(/cotangent\.x is Float32Array\(\d+\)/);
    await expect(
      flow.vjp(new Float32Array(2 * d), 2, { logDet: new Float32Array(3) }),
    ).rejects.toThrow(/cotangent\.logDet is Float32Array\(3\); expected 2 numbers/);
  });
});

describe('affineFlow', () => {
  it('maps z to scale * z + shift with logDet sum log|scale|', async () => {
    const flow = affineFlow({ scale: [2, -0.5], shift: [0, 1] });
    const { x, logDet } = await flow.forward(new Float32Array([1, 1, -2, 4]), 2);
    expect(Array.from(x)).toEqual([2, 0.5, -4, -1]);
    expect(logDet[0]).toBeCloseTo(Math.log(2) + Math.log(0.5), 6);
    expect(logDet[1]).toBe(logDet[0]);
  });

  it('defaults the shift to zero', async () => {
    const { x } = await affineFlow({ scale: new Float32Array([3]) }).forward(
      new Float32Array([2]),
      1,
    );
    expect(Array.from(x)).toEqual([6]);
  });

  it.each([
    ['a zero scale', { scale: [1, 0] }, /options\.scale is an array of length 2; entry 1 is 0/],
    ['a non-finite shift', { scale: [1], shift: [NaN] }, /entry 0 is NaN/],
    ['an empty scale', { scale: [] }, /expected a non-empty array/],
    ['a missing scale', {}, /options\.scale is undefined/],
    ['shift and scale of different lengths', { scale: [1, 2], shift: [0] }, /expected 2 values/],
    [
      'an unknown option',
      { scale: [1], shfit: [0] },
      /options\.shfit is not an option; did you mean .shift.\?/,
    ],
    ['options that are not an object', 3, /options is 3; expected an options object/],
  ])('rejects %s', (_case, options, message) => {
    const make = () => affineFlow(options as Parameters<typeof affineFlow>[0]);
    expect(make).toThrow(InvalidArgumentError);
    expect(make).toThrow(message);
  });
});

describe('couplingFlow2d', () => {
  it('has a Jacobian that varies across the latent space', () => {
    const flow = couplingFlow2d();
    const { jacobian, logDet } = flow.float64.jacobian(new Float64Array([0, 0, 2, -2]), 2);
    const change = [0, 1, 2, 3].map((k) => Math.abs(jacobian[k] - jacobian[4 + k]));
    expect(Math.max(...change)).toBeGreaterThan(0.5);
    expect(Math.abs(logDet[0] - logDet[1])).toBeGreaterThan(0.1);
  });

  it('keeps |logDet| below 2 * scaleBound', () => {
    const flow = couplingFlow2d({ scaleBound: 0.5 });
    const { logDet } = flow.float64.forward(normals(2000, 3), 1000);
    for (const value of logDet) expect(Math.abs(value)).toBeLessThanOrEqual(1);
  });

  it('draws the same weights for the same seed, and explicit layers reproduce them', () => {
    const first = couplingFlow2d({ seed: 11 });
    const again = couplingFlow2d({ seed: 11 });
    const other = couplingFlow2d({ seed: 12 });
    expect(again.layers).toEqual(first.layers);
    expect(other.layers).not.toEqual(first.layers);

    const explicit = couplingFlow2d({ layers: first.layers });
    const z = normals(20, 1.5);
    expect(explicit.float64.forward(z, 10)).toEqual(first.float64.forward(z, 10));
  });

  it('uses the given hidden width for default weights', () => {
    const flow = couplingFlow2d({ hiddenWidth: 3 });
    expect(flow.layers[0].hiddenWeights).toHaveLength(3);
    expect(flow.layers[1].shiftWeights).toHaveLength(3);
  });

  it.each([
    ['hiddenWidth 0', { hiddenWidth: 0 }, /options\.hiddenWidth is 0; expected an integer/],
    ['a negative seed', { seed: -1 }, /options\.seed is -1/],
    ['scaleBound 0', { scaleBound: 0 }, /options\.scaleBound is 0; expected a number in \(0, 10\]/],
    ['one layer', { layers: [] }, /expected a pair \[layer1, layer2\]/],
  ])('rejects %s', (_case, options, message) => {
    const make = () => couplingFlow2d(options as Parameters<typeof couplingFlow2d>[0]);
    expect(make).toThrow(InvalidArgumentError);
    expect(make).toThrow(message);
  });

  it('rejects layers whose weight arrays differ in length, naming the array', () => {
    const { layers } = couplingFlow2d();
    const broken = [layers[0], { ...layers[1], scaleWeights: [1, 2] }] as const;
    expect(() => couplingFlow2d({ layers: broken })).toThrow(
      /layers\[1\]\.scaleWeights is an array of length 2; expected 8 finite numbers/,
    );
  });

  it('lists every invalid option in one error', () => {
    try {
      couplingFlow2d({ seed: 0.5, hiddenWidth: 2000 });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).issues).toHaveLength(2);
    }
  });
});

/** Determinant of a `[d, d]` row-major matrix by Gaussian elimination with partial pivoting. */
function determinant(matrix: ArrayLike<number>, d: number): number {
  const a = Float64Array.from(matrix);
  let det = 1;
  for (let col = 0; col < d; col++) {
    let pivot = col;
    for (let row = col + 1; row < d; row++) {
      if (Math.abs(a[row * d + col]) > Math.abs(a[pivot * d + col])) pivot = row;
    }
    if (pivot !== col) {
      for (let k = 0; k < d; k++) {
        [a[col * d + k], a[pivot * d + k]] = [a[pivot * d + k], a[col * d + k]];
      }
      det = -det;
    }
    det *= a[col * d + col];
    for (let row = col + 1; row < d; row++) {
      const factor = a[row * d + col] / a[col * d + col];
      for (let k = col; k < d; k++) a[row * d + k] -= factor * a[col * d + k];
    }
  }
  return det;
}
