import { describe, expect, it } from 'vitest';
import type { AttributeValue } from '../../src/autodiff/proto.js';
import {
  BOOL,
  DOUBLE,
  FLOAT,
  INT64,
  checkVjp,
  makeModel,
  node,
  randomFeed,
  tensor,
  value,
} from './helpers.js';

/** Double precision: central differences with step 1e-5 are good to about 1e-9. */
const DOUBLE_TOLERANCE = 1e-6;
/** Float32 kernels: step 1e-2, error dominated by rounding (1e-7 / 1e-2) and h^2 terms. */
const FLOAT_TOLERANCE = 2e-3;
const FLOAT_STEP = 1e-2;

function tolerance(type: number): number {
  return type === DOUBLE ? DOUBLE_TOLERANCE : FLOAT_TOLERANCE;
}

function step(type: number): number | undefined {
  return type === DOUBLE ? undefined : FLOAT_STEP;
}

describe('unary rules', () => {
  // [operator, attributes, element type, input range]; ranges avoid kinks and domain edges.
  const cases: [string, Record<string, AttributeValue>, number, number, number][] = [
    ['Identity', {}, DOUBLE, -2, 2],
    ['Neg', {}, DOUBLE, -2, 2],
    ['Exp', {}, DOUBLE, -2, 2],
    ['Log', {}, DOUBLE, 0.5, 3],
    ['Sqrt', {}, DOUBLE, 0.5, 3],
    ['Reciprocal', {}, DOUBLE, 0.5, 3],
    ['Abs', {}, DOUBLE, -2, 2],
    ['Tanh', {}, DOUBLE, -2, 2],
    ['Sigmoid', {}, DOUBLE, -3, 3],
    ['Relu', {}, DOUBLE, -2, 2],
    ['LeakyRelu', { alpha: { float: 0.2 } }, FLOAT, -2, 2],
    ['Elu', { alpha: { float: 0.7 } }, FLOAT, -2, 2],
    ['Selu', {}, FLOAT, -2, 2],
    ['Softplus', {}, FLOAT, -3, 3],
    ['Softsign', {}, FLOAT, -3, 3],
    ['Erf', {}, FLOAT, -2, 2],
    ['Sin', {}, DOUBLE, -3, 3],
    ['Cos', {}, DOUBLE, -3, 3],
    ['Tan', {}, FLOAT, -1, 1],
    ['Asin', {}, FLOAT, -0.8, 0.8],
    ['Acos', {}, FLOAT, -0.8, 0.8],
    ['Atan', {}, FLOAT, -2, 2],
    ['Sinh', {}, FLOAT, -2, 2],
    ['Cosh', {}, FLOAT, -2, 2],
    ['Asinh', {}, FLOAT, -2, 2],
    ['Acosh', {}, FLOAT, 1.5, 3],
    ['Atanh', {}, FLOAT, -0.8, 0.8],
    ['HardSigmoid', { alpha: { float: 0.3 } }, FLOAT, -4, 4],
    ['Softmax', { axis: 1 }, DOUBLE, -2, 2],
    ['Softmax', {}, DOUBLE, -2, 2],
    ['LogSoftmax', { axis: -1 }, DOUBLE, -2, 2],
    ['LogSoftmax', { axis: 0 }, DOUBLE, -2, 2],
  ];

  it.each(cases)('%s %j matches finite differences', async (op, attributes, type, low, high) => {
    const model = makeModel({
      inputs: [value('z', type, ['n', 4])],
      outputs: [value('y', type, ['n', 4])],
      nodes: [node(op, ['z'], ['y'], attributes)],
    });
    const feeds = { z: randomFeed(type, [3, 4], 11, low, high) };
    const check = await checkVjp({ model, input: 'z', outputs: ['y'], feeds, step: step(type) });
    expect(check.error).toBeLessThan(tolerance(type));
    expect(check.forwardError).toBe(0);
  });

  it.each([
    ['min and max', ['z', 'lo', 'hi']],
    ['min only', ['z', 'lo']],
    ['max only', ['z', '', 'hi']],
  ])('Clip with %s matches finite differences', async (_, inputs) => {
    const model = makeModel({
      inputs: [value('z', DOUBLE, ['n', 4])],
      outputs: [value('y', DOUBLE, ['n', 4])],
      nodes: [node('Clip', inputs, ['y'])],
      initializers: [tensor('lo', DOUBLE, [], [-0.5]), tensor('hi', DOUBLE, [], [0.4])],
    });
    const feeds = { z: randomFeed(DOUBLE, [3, 4], 5, -1, 1) };
    const check = await checkVjp({ model, input: 'z', outputs: ['y'], feeds });
    expect(check.error).toBeLessThan(DOUBLE_TOLERANCE);
  });

  it('Clip passes gradients to tensor bounds that depend on the input', async () => {
    const model = makeModel({
      inputs: [value('z', DOUBLE, [2, 4])],
      outputs: [value('y', DOUBLE, [2, 4])],
      nodes: [
        node('ReduceMean', ['z'], ['m'], { axes: [0, 1], keepdims: 0 }),
        node('Neg', ['m'], ['lo']),
        node('Clip', ['z', 'lo', 'm'], ['y']),
      ],
    });
    const feeds = { z: randomFeed(DOUBLE, [2, 4], 21, -1, 1.5) };
    const check = await checkVjp({ model, input: 'z', outputs: ['y'], feeds });
    expect(check.error).toBeLessThan(DOUBLE_TOLERANCE);
  });

  it.each([
    ['FLOAT to DOUBLE', FLOAT, DOUBLE],
    ['DOUBLE to FLOAT', DOUBLE, FLOAT],
  ])('Cast %s carries the gradient back in the input type', async (_, from, to) => {
    const model = makeModel({
      inputs: [value('z', from, ['n', 3])],
      outputs: [value('y', to, ['n', 3])],
      nodes: [node('Cast', ['z'], ['c'], { to }), node('Mul', ['c', 'c'], ['y'])],
    });
    const feeds = { z: randomFeed(from, [2, 3], 3) };
    const check = await checkVjp({ model, input: 'z', outputs: ['y'], feeds, step: 1e-2 });
    expect(check.error).toBeLessThan(FLOAT_TOLERANCE);
  });

  it('Dropout in inference mode passes the gradient through', async () => {
    const model = makeModel({
      inputs: [value('z', DOUBLE, ['n', 3])],
      outputs: [value('y', DOUBLE, ['n', 3])],
      nodes: [node('Dropout', ['z'], ['d']), node('Exp', ['d'], ['y'])],
    });
    const check = await checkVjp({
      model,
      input: 'z',
      outputs: ['y'],
      feeds: { z: randomFeed(DOUBLE, [2, 3], 4) },
    });
    expect(check.error).toBeLessThan(DOUBLE_TOLERANCE);
  });
});

describe('broadcasting binary rules', () => {
  // [operator, dims of a, dims of b, run-time dims of a, run-time dims of b, b range].
  type Case = [string, (number | string)[], (number | string)[], number[], number[], number];
  const cases: Case[] = [
    ['Add', ['n', 3], [3], [4, 3], [3], -1],
    ['Add', ['n', 3], [3], [1, 3], [3], -1],
    ['Add', [], ['n', 2], [], [5, 2], -1],
    ['Sub', ['n', 3], ['n', 1], [4, 3], [4, 1], -1],
    ['Sub', ['n', 1, 4], [2, 1], [3, 1, 4], [2, 1], -1],
    ['Mul', ['n', 1, 4], [2, 1], [3, 1, 4], [2, 1], -1],
    ['Mul', ['n', 1, 4], [2, 1], [1, 1, 4], [2, 1], -1],
    ['Mul', ['n', 3], ['m', 3], [4, 3], [1, 3], -1],
    ['Mul', ['n', 3], ['m', 3], [4, 3], [4, 3], -1],
    ['Mul', ['n', 3], ['m', 'k'], [4, 3], [4, 1], -1],
    ['Div', ['n', 3], [1], [4, 3], [1], 0.5],
    ['Div', [3], ['n', 3], [3], [2, 3], 0.5],
    ['Pow', ['n', 3], [3], [4, 3], [3], 0.5],
    ['Pow', ['n', 3], ['n', 1], [2, 3], [2, 1], 0.5],
    ['Max', ['n', 3], [3], [4, 3], [3], -1],
    ['Min', ['n', 1], [1, 3], [4, 1], [1, 3], -1],
    ['Sum', ['n', 3], [3], [4, 3], [3], -1],
  ];

  describe.each(['a', 'b'])('with respect to %s', (input) => {
    it.each(cases)('%s %j and %j at %j and %j', async (op, da, db, ra, rb, low) => {
      const model = makeModel({
        inputs: [value('a', DOUBLE, da), value('b', DOUBLE, db)],
        outputs: [value('y', DOUBLE)],
        nodes: [node(op, ['a', 'b'], ['y'])],
      });
      const feeds = {
        a: randomFeed(DOUBLE, ra, 1, op === 'Pow' ? 0.5 : -1, 2),
        b: randomFeed(DOUBLE, rb, 2, low, 2),
      };
      const check = await checkVjp({ model, input, outputs: ['y'], feeds });
      expect(check.error).toBeLessThan(DOUBLE_TOLERANCE);
    });
  });

  it('Pow with an integer exponent differentiates the base only', async () => {
    const model = makeModel({
      inputs: [value('z', DOUBLE, ['n', 3])],
      outputs: [value('y', DOUBLE, ['n', 3])],
      nodes: [node('Pow', ['z', 'e'], ['y'])],
      initializers: [tensor('e', INT64, [], [3])],
    });
    const feeds = { z: randomFeed(DOUBLE, [2, 3], 9) };
    const check = await checkVjp({ model, input: 'z', outputs: ['y'], feeds });
    expect(check.error).toBeLessThan(DOUBLE_TOLERANCE);
  });

  it('Mean (float kernels only) of three broadcast inputs matches finite differences', async () => {
    const model = makeModel({
      inputs: [value('a', FLOAT, ['n', 3]), value('b', FLOAT, ['n', 1])],
      outputs: [value('y', FLOAT)],
      nodes: [node('Mean', ['a', 'b', 'a'], ['y'])],
    });
    const feeds = { a: randomFeed(FLOAT, [4, 3], 1), b: randomFeed(FLOAT, [4, 1], 2) };
    for (const input of ['a', 'b']) {
      const check = await checkVjp({ model, input, outputs: ['y'], feeds, step: FLOAT_STEP });
      expect(check.error).toBeLessThan(FLOAT_TOLERANCE);
    }
  });

  it('Max with three inputs and a shared tensor matches finite differences', async () => {
    const model = makeModel({
      inputs: [value('z', DOUBLE, ['n', 3])],
      outputs: [value('y', DOUBLE)],
      nodes: [node('Neg', ['z'], ['m']), node('Max', ['z', 'm', 'c'], ['y'])],
      initializers: [tensor('c', DOUBLE, [3], [0.1, -0.3, 0.2])],
    });
    const feeds = { z: randomFeed(DOUBLE, [4, 3], 31, -1, 1) };
    const check = await checkVjp({ model, input: 'z', outputs: ['y'], feeds });
    expect(check.error).toBeLessThan(DOUBLE_TOLERANCE);
  });

  it.each([
    ['both branches', ['n', 3], [3]],
    ['scalar branch', ['n', 3], []],
  ])('Where with %s matches finite differences', async (_, da, db) => {
    const model = makeModel({
      inputs: [value('z', DOUBLE, da), value('w', DOUBLE, db)],
      outputs: [value('y', DOUBLE)],
      nodes: [
        node('Greater', ['z', 'zero'], ['c']),
        node('Exp', ['z'], ['e']),
        node('Where', ['c', 'e', 'w'], ['t']),
        node('Mul', ['t', 'z'], ['y']),
      ],
      initializers: [tensor('zero', DOUBLE, [], [0])],
    });
    const feeds = {
      z: randomFeed(DOUBLE, [4, 3], 8),
      w: randomFeed(DOUBLE, db.length === 0 ? [] : [3], 9),
    };
    for (const input of ['z', 'w']) {
      const check = await checkVjp({ model, input, outputs: ['y'], feeds });
      expect(check.error).toBeLessThan(DOUBLE_TOLERANCE);
    }
  });

  it('PRelu differentiates input and slope', async () => {
    const model = makeModel({
      inputs: [value('z', FLOAT, ['n', 3, 2]), value('s', FLOAT, [3, 1])],
      outputs: [value('y', FLOAT, ['n', 3, 2])],
      nodes: [node('PRelu', ['z', 's'], ['y'])],
    });
    const feeds = { z: randomFeed(FLOAT, [2, 3, 2], 12), s: randomFeed(FLOAT, [3, 1], 13) };
    for (const input of ['z', 's']) {
      const check = await checkVjp({ model, input, outputs: ['y'], feeds, step: FLOAT_STEP });
      expect(check.error).toBeLessThan(FLOAT_TOLERANCE);
    }
  });

  it('accumulates the gradient of a tensor used by several nodes', async () => {
    // y = z * z + exp(z) - z / (1 + z^2), z used by five nodes.
    const model = makeModel({
      inputs: [value('z', DOUBLE, ['n', 3])],
      outputs: [value('y', DOUBLE, ['n', 3])],
      nodes: [
        node('Mul', ['z', 'z'], ['sq']),
        node('Exp', ['z'], ['e']),
        node('Add', ['sq', 'e'], ['s']),
        node('Add', ['sq', 'one'], ['d']),
        node('Div', ['z', 'd'], ['q']),
        node('Sub', ['s', 'q'], ['y']),
      ],
      initializers: [tensor('one', DOUBLE, [], [1])],
    });
    for (const batch of [1, 5]) {
      const feeds = { z: randomFeed(DOUBLE, [batch, 3], batch) };
      const check = await checkVjp({ model, input: 'z', outputs: ['y'], feeds });
      expect(check.error).toBeLessThan(DOUBLE_TOLERANCE);
    }
  });

  it('stops the gradient at comparisons, Shape and integer casts', async () => {
    // y = z * Cast(Cast(z > 0, int64), double) * Cast(Shape(z)[1]): piecewise linear in z.
    const model = makeModel({
      inputs: [value('z', DOUBLE, ['n', 3])],
      outputs: [value('y', DOUBLE, ['n', 3])],
      nodes: [
        node('Greater', ['z', 'zero'], ['positive']),
        node('Cast', ['positive'], ['mask'], { to: INT64 }),
        node('Cast', ['mask'], ['weight'], { to: DOUBLE }),
        node('Shape', ['z'], ['shape']),
        node('Gather', ['shape', 'one'], ['width']),
        node('Cast', ['width'], ['scale'], { to: DOUBLE }),
        node('Floor', ['z'], ['floor']),
        node('Mul', ['z', 'weight'], ['t']),
        node('Mul', ['t', 'scale'], ['u']),
        node('Add', ['u', 'floor'], ['y']),
      ],
      initializers: [tensor('zero', DOUBLE, [], [0]), tensor('one', INT64, [], [1])],
    });
    const feeds = { z: randomFeed(DOUBLE, [4, 3], 17, -0.9, 0.9) };
    const check = await checkVjp({ model, input: 'z', outputs: ['y'], feeds, step: 1e-6 });
    expect(check.error).toBeLessThan(DOUBLE_TOLERANCE);
  });

  it('treats EyeLike, ConstantOfShape, Range and Constant outputs as constants', async () => {
    // y = z * (I + 1 + Range(0, 3)) + c, square z: the factor does not depend on z's values.
    const model = makeModel({
      inputs: [value('z', DOUBLE, [3, 3])],
      outputs: [value('y', DOUBLE, [3, 3])],
      nodes: [
        node('EyeLike', ['z'], ['eye']),
        node('Shape', ['z'], ['shape']),
        node('ConstantOfShape', ['shape'], ['ones'], { value: tensor('', DOUBLE, [1], [1]) }),
        node('Constant', [], ['three'], { value: tensor('', DOUBLE, [], [3]) }),
        node('Range', ['zero', 'three', 'step'], ['range']),
        node('Add', ['eye', 'ones'], ['a']),
        node('Add', ['a', 'range'], ['factor']),
        node('Mul', ['z', 'factor'], ['m']),
        node('Add', ['m', 'three'], ['y']),
      ],
      initializers: [tensor('zero', DOUBLE, [], [0]), tensor('step', DOUBLE, [], [1])],
    });
    const feeds = { z: randomFeed(DOUBLE, [3, 3], 23) };
    const check = await checkVjp({ model, input: 'z', outputs: ['y'], feeds });
    expect(check.error).toBeLessThan(DOUBLE_TOLERANCE);
  });

  it('uses boolean inputs of Where without differentiating them', async () => {
    const model = makeModel({
      inputs: [value('z', DOUBLE, ['n', 2]), value('mask', BOOL, [2])],
      outputs: [value('y', DOUBLE, ['n', 2])],
      nodes: [node('Where', ['mask', 'z', 'zero'], ['y'])],
      initializers: [tensor('zero', DOUBLE, [], [0])],
    });
    const feeds = {
      z: randomFeed(DOUBLE, [3, 2], 1),
      mask: { type: BOOL, dims: [2], data: [1, 0] },
    };
    const check = await checkVjp({ model, input: 'z', outputs: ['y'], feeds });
    expect(check.error).toBeLessThan(DOUBLE_TOLERANCE);
  });
});
