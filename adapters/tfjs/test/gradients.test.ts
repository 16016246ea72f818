/**
 * Every gradient this package registers, against central finite differences of the kernel it
 * differentiates, on cpu and wasm.
 *
 * Each case differentiates `L(x) = sum(w * op(x))` with fixed random weights `w`. Slices, gathers,
 * scatters and einsums are linear in each operand, so central differences of L are exact up to
 * float32 rounding at any step: the step is 1 and the tolerance 1e-4 relative to the gradient's
 * scale. Piecewise-constant kernels are checked through `where(x > 0, x, 2x)`, away from 0.
 */
import './helpers/quiet-greeting.js';
import { RandomStream, streamState } from '@latent-langevin/core';
import { TfjsFlowError, registerGradients, useBackend } from '@latent-langevin/tfjs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';

const registered = registerGradients();

describe('registerGradients()', () => {
  it('registers the gradients tfjs 4.22 lacks, once', () => {
    expect(registered).toEqual([
      'StridedSlice',
      'Einsum',
      'GatherNd',
      'ScatterNd',
      'Equal',
      'NotEqual',
      'Greater',
      'Less',
      'LessEqual',
      'LogicalAnd',
      'LogicalOr',
      'LogicalNot',
      'SearchSorted',
    ]);
    expect(registerGradients()).toBe(registered);
  });

  it.each([
    ['ij,jk', "no '->'"],
    ['...ij,...jk->...ik', 'an ellipsis'],
  ])('makes the Einsum gradient reject %s with a TfjsFlowError that says why', (equation, why) => {
    const [a, b, dy] = [tf.ones([2, 2]), tf.ones([2, 2]), tf.ones([2, 2])];
    const grads = tf.getGradient('Einsum')!.gradFunc(dy, [a, b], { equation });
    let error: unknown;
    try {
      grads['0']();
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TfjsFlowError);
    expect((error as TfjsFlowError).code).toBe('UNSUPPORTED_OPERATOR');
    expect((error as Error).message).toContain(`the equation '${equation}' has ${why}`);
    tf.dispose([a, b, dy]);
  });
});

/** `count` standard normal draws from a seeded stream, as float32. */
function values(count: number, seed: number): Float32Array {
  const random = new RandomStream(streamState(seed, 0));
  return Float32Array.from({ length: count }, () => random.normal());
}

/**
 * `tf.grad` of `L(x) = sum(w * op(x))` and its central differences with step `h`, both flat, at
 * `start` or else at standard normal draws.
 */
function gradients(
  op: (x: tf.Tensor) => tf.Tensor,
  shape: number[],
  seed: number,
  h = 1,
  start?: Float32Array,
): { exact: Float32Array; numeric: Float64Array } {
  const size = shape.reduce((a, b) => a * b, 1);
  const x0 = start ?? values(size, seed);
  const outShape = tf.tidy(() => op(tf.tensor(x0, shape)).shape);
  const w = tf.tensor(
    values(
      outShape.reduce((a, b) => a * b, 1),
      seed + 1,
    ),
    outShape,
  );
  const loss = (x: tf.Tensor) => tf.sum(tf.mul(op(x), w));
  const exact = tf.tidy(() => tf.grad(loss)(tf.tensor(x0, shape)).dataSync() as Float32Array);
  const numeric = new Float64Array(size);
  for (let k = 0; k < size; k++) {
    const plus = Float32Array.from(x0);
    const minus = Float32Array.from(x0);
    plus[k] += h;
    minus[k] -= h;
    const f = (x: Float32Array) => tf.tidy(() => loss(tf.tensor(x, shape)).dataSync()[0]);
    numeric[k] = (f(plus) - f(minus)) / (plus[k] - minus[k]);
  }
  w.dispose();
  return { exact, numeric };
}

function expectClose(exact: ArrayLike<number>, numeric: ArrayLike<number>, tolerance = 1e-4) {
  let scale = 0;
  let worst = 0;
  for (let k = 0; k < numeric.length; k++) {
    scale = Math.max(scale, Math.abs(numeric[k]));
    worst = Math.max(worst, Math.abs(exact[k] - numeric[k]));
  }
  expect(scale).toBeGreaterThan(0);
  expect(worst / scale).toBeLessThan(tolerance);
}

/** Strided slices: name, x shape, begin, end, strides, masks (begin, end, ellipsis, new, shrink) */
const SLICES: [string, number[], number[], number[], number[], number[]][] = [
  ['y[:, 1:2] (a coupling split)', [4, 3], [0, 1], [0, 2], [1, 1], [1, 1, 0, 0, 0]],
  ['y[:, :1]', [5, 2], [0, 0], [0, 1], [1, 1], [3, 1, 0, 0, 0]],
  ['y[::2, 1:4:2]', [5, 6], [0, 1], [0, 4], [2, 2], [1, 1, 0, 0, 0]],
  ['y[3::-2, 1:3]', [4, 5], [3, 1], [0, 3], [-2, 1], [0, 1, 0, 0, 0]],
  ['y[::-1]', [3, 4], [0], [0], [-1], [1, 1, 0, 0, 0]],
  ['y[..., 2]', [2, 3, 4], [0, 2], [0, 3], [1, 1], [0, 0, 1, 0, 2]],
  ['y[None, 1:3, -1]', [4, 5], [0, 1, -1], [0, 3, 0], [1, 1, 1], [0, 0, 0, 1, 4]],
  ['y[1:3, ..., ::3]', [4, 2, 7], [1, 0, 0], [3, 0, 0], [1, 1, 3], [4, 4, 2, 0, 0]],
  ['y[2:2] (empty)', [4, 2], [2], [2], [1], [0, 0, 0, 0, 0]],
];

/** Einsums tfjs runs: [equation, operand shapes]. */
const EINSUMS: [string, number[][]][] = [
  [
    'ij,jk->ik',
    [
      [3, 4],
      [4, 5],
    ],
  ],
  [
    'bij,bjk->bik',
    [
      [2, 3, 4],
      [2, 4, 2],
    ],
  ],
  ['ij,j->i', [[3, 4], [4]]],
  ['i,j->ij', [[3], [4]]],
  [
    'ij,ij->',
    [
      [3, 4],
      [3, 4],
    ],
  ],
  ['ij->ji', [[3, 4]]],
  ['ij->i', [[3, 4]]],
  ['ijk->', [[2, 3, 2]]],
];

describe.each(['cpu', 'wasm'])('registered gradients on %s', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it.each(SLICES)('StridedSlice %s matches finite differences', (_, shape, b, e, s, masks) => {
    const [beginMask, endMask, ellipsisMask, newAxisMask, shrinkAxisMask] = masks;
    const op = (x: tf.Tensor) =>
      tf.stridedSlice(x, b, e, s, beginMask, endMask, ellipsisMask, newAxisMask, shrinkAxisMask);
    const empty = tf.tidy(() => op(tf.zeros(shape)).size === 0);
    if (empty) {
      // Nothing is read: the gradient is zero everywhere.
      const dx = tf.tidy(() =>
        tf
          .grad((x) => tf.sum(op(x)))(tf.ones(shape))
          .dataSync(),
      );
      expect(Array.from(dx).every((v) => v === 0)).toBe(true);
      return;
    }
    const { exact, numeric } = gradients(op, shape, 3);
    expectClose(exact, numeric);
  });

  // tfjs-backend-wasm has no Einsum kernel: an einsum cannot run there, forward or backward.
  it.runIf(backend === 'cpu').each(EINSUMS)(
    'Einsum %s matches finite differences in each operand',
    (equation, shapes) => {
      shapes.forEach((shape, k) => {
        const others = shapes.map((s, j) =>
          tf.tensor(
            values(
              s.reduce((a, c) => a * c, 1),
              7 + j,
            ),
            s,
          ),
        );
        const op = (x: tf.Tensor) =>
          tf.einsum(equation, ...others.map((o, j) => (j === k ? x : o)));
        const { exact, numeric } = gradients(op, shape, 11 + k);
        expectClose(exact, numeric);
        others.forEach((o) => o.dispose());
      });
    },
  );

  it('GatherNd matches finite differences, repeated indices included', () => {
    const indices = tf.tensor2d(
      [
        [0, 1],
        [2, 0],
        [0, 1],
        [1, 2],
      ],
      [4, 2],
      'int32',
    );
    const { exact, numeric } = gradients((x) => tf.gatherND(x, indices), [3, 3, 2], 5);
    expectClose(exact, numeric);
    indices.dispose();
  });

  it('ScatterNd matches finite differences, repeated indices included', () => {
    const indices = tf.tensor2d([[1], [3], [1]], [3, 1], 'int32');
    const { exact, numeric } = gradients((u) => tf.scatterND(indices, u, [5, 2]), [3, 2], 9);
    expectClose(exact, numeric);
    indices.dispose();
  });

  it.each([
    ['Greater', (x: tf.Tensor) => tf.greater(x, 0)],
    ['Less', (x: tf.Tensor) => tf.logicalNot(tf.less(x, 0))],
    ['LessEqual', (x: tf.Tensor) => tf.logicalNot(tf.lessEqual(x, 0))],
    ['NotEqual', (x: tf.Tensor) => tf.logicalAnd(tf.notEqual(x, 0), tf.greater(x, 0))],
    ['Equal', (x: tf.Tensor) => tf.logicalOr(tf.equal(x, 1e9), tf.greater(x, 0))],
  ] as const)(
    '%s (zero gradient) lets where(condition(x), x, 2x) match finite differences',
    (_, condition) => {
      const op = (x: tf.Tensor) => tf.where(condition(x), x, tf.mul(x, 2));
      const { exact, numeric } = gradients(op, [3, 4], 13, 1e-3);
      expectClose(exact, numeric, 1e-3);
    },
  );

  it('SearchSorted (zero gradient) lets a piecewise-linear map match finite differences', () => {
    const knots = tf.tensor1d([-1.5, -0.5, 0.5, 1.5]);
    const slopes = tf.tensor1d([0.5, 1, 2, 3, 4]);
    const op = (x: tf.Tensor) => {
      const flat = tf.reshape(x, [-1]);
      const bin = tf.searchSorted(knots, flat);
      // gatherND, not gather: tfjs' own GatherV2 gradient returns int32 for indices that
      // depend on x, which its backpropagation then rejects.
      return tf.reshape(tf.mul(flat, tf.gatherND(slopes, tf.reshape(bin, [-1, 1]))), x.shape);
    };
    // Points 0.4 apart from -2.2 to 2.2: every bin is visited and no point lies within 0.1 of a
    // knot, where a difference of step 1e-3 would straddle the jump.
    const start = Float32Array.from({ length: 12 }, (_, k) => -2.2 + 0.4 * k);
    const { exact, numeric } = gradients(op, [3, 4], 17, 1e-3, start);
    expectClose(exact, numeric, 1e-3);
    knots.dispose();
    slopes.dispose();
  });
});
