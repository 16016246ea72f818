/**
 * Gradients at kinks and domain edges (0, -0, ties, clip bounds, powers of 0) follow PyTorch's
 * conventions, so that a VJP here matches `torch.autograd` on the model that was exported.
 * Finite differences cannot check these points (the functions are not differentiable there),
 * so the expected values are constants, recorded from torch 1.13 autograd in float64 by
 * record-edge-gradients.py beside this file, case by case in the same order.
 */
import { describe, expect, it } from 'vitest';
import { buildVjpModel } from '../../src/autodiff/index.js';
import type { AttributeValue } from '../../src/autodiff/proto.js';
import { DOUBLE, FLOAT, INT64, type Feed, makeModel, node, run, value } from './helpers.js';

/** One graph input: its element type and values, a vector `[k]` or a scalar `[]`. */
interface Input {
  readonly type: number;
  readonly data: readonly number[];
  readonly scalar?: boolean;
}

/** `y = op(inputs)`; the VJP with respect to `inputs[wrt]` for cotangent `dy`. */
interface EdgeCase {
  readonly op: string;
  readonly attributes?: Readonly<Record<string, AttributeValue>>;
  readonly inputs: readonly Input[];
  readonly wrt: number;
  readonly dy: readonly number[];
  /** From torch 1.13 autograd (record-edge-gradients.py). */
  readonly expected: readonly number[];
}

const f64 = (...data: number[]): Input => ({ type: DOUBLE, data });
const f32 = (...data: number[]): Input => ({ type: FLOAT, data });

const Z = [0, -0, 0.25, -4];
const DZ = [1.5, -1, 1, 2];
const BASE = [0, 0, 0, 0, 0, -0, -0, 2, -2, 0];
const EXPONENT = [0, 1, 2, 0.5, -1, -1, 2, 0, 0.5, -2.5];
const ONES = BASE.map(() => 1);
const [A, B, DM] = [
  [1, 0, -0, 2],
  [1, -0, 0, 3],
  [2, 1, -1, 1],
];

// Named by the case name that record-edge-gradients.py prints.
const cases: Record<string, EdgeCase> = {
  'Abs at 0 and -0 (sign(0) = 0)': {
    op: 'Abs',
    inputs: [f64(...Z)],
    wrt: 0,
    dy: DZ,
    expected: [0, -0, 1, -2],
  },
  'Relu at 0 and -0 (no gradient at the kink)': {
    op: 'Relu',
    inputs: [f64(...Z)],
    wrt: 0,
    dy: DZ,
    expected: [0, 0, 1, 0],
  },
  'Sqrt at 0 and -0 (infinite slope)': {
    op: 'Sqrt',
    inputs: [f64(...Z)],
    wrt: 0,
    dy: DZ,
    expected: [Infinity, Infinity, 1, NaN],
  },
  'Log at 0 and -0': {
    op: 'Log',
    inputs: [f64(...Z)],
    wrt: 0,
    dy: DZ,
    expected: [Infinity, Infinity, 4, -0.5],
  },
  'LeakyRelu at 0 and -0 (the negative slope)': {
    op: 'LeakyRelu',
    attributes: { alpha: { float: 0.2 } },
    inputs: [f32(...Z)],
    wrt: 0,
    dy: DZ,
    expected: [0.30000000000000004, -0.2, 1, 0.4],
  },
  'Elu at 0 and -0 (the negative branch)': {
    op: 'Elu',
    attributes: { alpha: { float: 0.7 } },
    inputs: [f32(...Z)],
    wrt: 0,
    dy: DZ,
    expected: [1.0499999999999998, -0.7, 1, 0.025641894444227847],
  },
  'Softplus at 0 and -0': {
    op: 'Softplus',
    inputs: [f32(...Z)],
    wrt: 0,
    dy: DZ,
    expected: [0.75, -0.5, 0.5621765008857981, 0.03597241992418311],
  },
  'Clip at both bounds (the gradient passes)': {
    op: 'Clip',
    inputs: [f64(-0.5, 0.4, 0, 1), { ...f64(-0.5), scalar: true }, { ...f64(0.4), scalar: true }],
    wrt: 0,
    dy: DZ,
    expected: [1.5, -1, 1, 0],
  },
  'Pow with respect to the base, at base 0 and -0': {
    op: 'Pow',
    inputs: [f64(...BASE), f64(...EXPONENT)],
    wrt: 0,
    dy: ONES,
    expected: [0, 1, 0, Infinity, -Infinity, -Infinity, -0, 0, NaN, -Infinity],
  },
  'Pow with respect to the exponent, at base 0 and -0': {
    op: 'Pow',
    inputs: [f64(...BASE), f64(...EXPONENT)],
    wrt: 1,
    dy: ONES,
    expected: [0, 0, 0, 0, -Infinity, Infinity, 0, 0.6931471805599453, NaN, -Infinity],
  },
  'Pow with an integer exponent, at base 0 and -0': {
    op: 'Pow',
    inputs: [f64(0, 0, 0, 0, -0, -1.5, 1.5, -1.5), { type: INT64, data: [0, 1, 2, 3, 0, 0, 2, 3] }],
    wrt: 0,
    dy: [1, 1, 1, 1, 1, 1, 1, 1],
    expected: [0, 1, 0, 0, 0, 0, 3, 6.75],
  },
  'Max with respect to a, with ties (split evenly, 0 and -0 tie)': {
    op: 'Max',
    inputs: [f64(...A), f64(...B)],
    wrt: 0,
    dy: DM,
    expected: [1, 0.5, -0.5, 0],
  },
  'Max with respect to b, with ties': {
    op: 'Max',
    inputs: [f64(...A), f64(...B)],
    wrt: 1,
    dy: DM,
    expected: [1, 0.5, -0.5, 1],
  },
  'Min with respect to a, with ties': {
    op: 'Min',
    inputs: [f64(...A), f64(...B)],
    wrt: 0,
    dy: DM,
    expected: [1, 0.5, -0.5, 1],
  },
  'Min with respect to b, with ties': {
    op: 'Min',
    inputs: [f64(...A), f64(...B)],
    wrt: 1,
    dy: DM,
    expected: [1, 0.5, -0.5, 0],
  },
};

/**
 * Whether a gradient equals PyTorch's: NaN where it is NaN, the same infinity, else within
 * `tolerance` relative. The sign of a zero is not compared: PyTorch's masks give +0 where a
 * product with a negative cotangent gives -0, and both are the same gradient.
 */
function sameGradient(actual: number, expected: number, tolerance: number): boolean {
  if (Number.isNaN(expected)) return Number.isNaN(actual);
  if (!Number.isFinite(expected)) return actual === expected;
  return Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected));
}

/** The VJP of a one-node model `y = op(in0, in1, ...)` with respect to one input. */
async function edgeVjp(edge: EdgeCase): Promise<number[]> {
  const names = edge.inputs.map((_, i) => `in${i}`);
  const k = edge.dy.length;
  const dims = (input: Input) => (input.scalar === true ? [] : [input.data.length]);
  const outputType = edge.inputs[0].type;
  const model = makeModel({
    inputs: edge.inputs.map((input, i) => value(names[i], input.type, dims(input))),
    outputs: [value('y', outputType, [k])],
    nodes: [node(edge.op, names, ['y'], edge.attributes)],
  });
  const vjp = buildVjpModel(model, { input: names[edge.wrt], outputs: ['y'] });
  const feeds: Record<string, Feed> = {
    cotangent_y: { type: outputType, dims: [k], data: edge.dy },
  };
  edge.inputs.forEach((input, i) => {
    feeds[names[i]] = { type: input.type, dims: dims(input), data: input.data };
  });
  return (await run(vjp, feeds))[`vjp_${names[edge.wrt]}`].data;
}

describe('gradients at kinks and domain edges', () => {
  it.each(Object.entries(cases))('%s match PyTorch', async (_, edge) => {
    const tolerance = edge.inputs[edge.wrt].type === FLOAT ? 1e-6 : 1e-12;
    const vjp = await edgeVjp(edge);
    expect(vjp).toHaveLength(edge.expected.length);
    const wrong = vjp
      .map((actual, i) => ({ i, actual, expected: edge.expected[i] }))
      .filter(({ actual, expected }) => !sameGradient(actual, expected, tolerance));
    expect(wrong).toEqual([]);
  });

  it('stops at Equal next to the path: a mask from z == c selects and scales z', async () => {
    // y = Where(z == c, exp(z), z * z) + Cast(z == c) * z; at z = c the slope is exp(z) + 1,
    // elsewhere 2z. Equal's output carries no gradient, and -0 == 0.
    const model = makeModel({
      inputs: [value('z', DOUBLE, ['n']), value('c', DOUBLE, ['n'])],
      outputs: [value('y', DOUBLE, ['n'])],
      nodes: [
        node('Equal', ['z', 'c'], ['mask']),
        node('Exp', ['z'], ['e']),
        node('Mul', ['z', 'z'], ['square']),
        node('Where', ['mask', 'e', 'square'], ['selected']),
        node('Cast', ['mask'], ['weight'], { to: DOUBLE }),
        node('Mul', ['weight', 'z'], ['scaled']),
        node('Add', ['selected', 'scaled'], ['y']),
      ],
    });
    const vjp = buildVjpModel(model, { input: 'z', outputs: ['y'] });
    const result = await run(vjp, {
      z: { type: DOUBLE, dims: [5], data: [0, -0, 1, 0.5, 2] },
      c: { type: DOUBLE, dims: [5], data: [0, 0, 1, 2, 2] },
      cotangent_y: { type: DOUBLE, dims: [5], data: [1, 1, -1, 1, 0.5] },
    });
    // From torch 1.13 autograd ("Equal mask" in record-edge-gradients.py).
    const expected = [2, 2, -3.718281828459045, 1, 4.194528049465325];
    result.vjp_z.data.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 12));
  });

  it('keeps Pow exact away from 0: the masks change no gradient elsewhere', async () => {
    const model = makeModel({
      inputs: [value('a', DOUBLE, [3]), value('e', DOUBLE, [3])],
      outputs: [value('y', DOUBLE, [3])],
      nodes: [node('Pow', ['a', 'e'], ['y'])],
    });
    const a = [0.5, 2, 3];
    const e = [-1.5, 0, 2.5];
    const vjpA = buildVjpModel(model, { input: 'a', outputs: ['y'] });
    const vjpE = buildVjpModel(model, { input: 'e', outputs: ['y'] });
    const feeds = {
      a: { type: DOUBLE, dims: [3], data: a },
      e: { type: DOUBLE, dims: [3], data: e },
      cotangent_y: { type: DOUBLE, dims: [3], data: [1, 1, 1] },
    };
    const da = (await run(vjpA, feeds)).vjp_a.data;
    const de = (await run(vjpE, feeds)).vjp_e.data;
    a.forEach((base, i) => {
      expect(da[i]).toBeCloseTo(e[i] * base ** (e[i] - 1), 12);
      expect(de[i]).toBeCloseTo(base ** e[i] * Math.log(base), 12);
    });
  });
});
