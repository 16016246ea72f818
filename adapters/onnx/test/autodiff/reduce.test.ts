import { describe, expect, it } from 'vitest';
import type { AttributeValue, onnx } from '../../src/autodiff/proto.js';
import { DOUBLE, INT64, checkVjp, makeModel, node, randomFeed, tensor, value } from './helpers.js';

/** Double precision, central differences with step 1e-5. */
const TOLERANCE = 1e-6;

/** y = Reduce(z) * Reduce(z), z of dims `['n', 3, 4]`, run at `[2, 3, 4]`. */
function reduceModel(
  op: string,
  attributes: Record<string, AttributeValue>,
  axes: number[] | null,
  opset: number,
): onnx.ModelProto {
  return makeModel({
    inputs: [value('z', DOUBLE, ['n', 3, 4])],
    outputs: [value('y', DOUBLE)],
    nodes: [
      node(op, axes ? ['z', 'axes'] : ['z'], ['r'], attributes),
      node('Mul', ['r', 'r'], ['y']),
    ],
    initializers: axes ? [tensor('axes', INT64, [axes.length], axes)] : [],
    opset,
  });
}

async function expectVjp(model: onnx.ModelProto, low = -1, high = 1): Promise<void> {
  const feeds = { z: randomFeed(DOUBLE, [2, 3, 4], 5, low, high) };
  const check = await checkVjp({ model, input: 'z', outputs: ['y'], feeds });
  expect(check.error).toBeLessThan(TOLERANCE);
}

describe('ReduceSum (axes input)', () => {
  // [description, attributes, axes or null]
  const cases: [string, Record<string, AttributeValue>, number[] | null][] = [
    ['axis 1, keepdims', { keepdims: 1 }, [1]],
    ['axis -1, no keepdims', { keepdims: 0 }, [-1]],
    ['axes 0 and 2, no keepdims', { keepdims: 0 }, [0, 2]],
    ['all axes (absent), keepdims', { keepdims: 1 }, null],
    ['all axes (absent), no keepdims', { keepdims: 0 }, null],
    ['empty axes, noop', { keepdims: 0, noop_with_empty_axes: 1 }, []],
    ['empty axes, reduce all', { keepdims: 0 }, []],
  ];

  it.each(cases)('over %s', async (_, attributes, axes) => {
    await expectVjp(reduceModel('ReduceSum', attributes, axes, 13));
  });

  it('with axes computed in the graph', async () => {
    const model = makeModel({
      inputs: [value('z', DOUBLE, ['n', 3, 4])],
      outputs: [value('y', DOUBLE)],
      nodes: [
        node('Shape', ['z'], ['s']),
        node('Size', ['s'], ['rank']),
        node('Sub', ['rank', 'one'], ['last']),
        node('Unsqueeze', ['last', 'zero'], ['axes']),
        node('ReduceSum', ['z', 'axes'], ['r'], { keepdims: 0 }),
        node('Mul', ['r', 'r'], ['y']),
      ],
      initializers: [tensor('one', INT64, [], [1]), tensor('zero', INT64, [1], [0])],
    });
    await expectVjp(model);
  });
});

describe('reductions with attribute axes (opset 13) and input axes (opset 18)', () => {
  // [operator, input range]
  const ops: [string, number, number][] = [
    ['ReduceMean', -1, 1],
    ['ReduceMax', -1, 1],
    ['ReduceMin', -1, 1],
    ['ReduceSumSquare', -1, 1],
    ['ReduceL1', 0.1, 1],
    ['ReduceL2', -1, 1],
    ['ReduceLogSumExp', -1, 1],
    ['ReduceLogSum', 0.1, 1],
  ];
  // [description, keepdims, axes or null]
  const shapes: [string, number, number[] | null][] = [
    ['axis 1, keepdims', 1, [1]],
    ['axes -1 and 0, no keepdims', 0, [-1, 0]],
    ['all axes, no keepdims', 0, null],
  ];
  const cases = ops.flatMap(([op, low, high]) =>
    shapes.map(
      ([description, keepdims, axes]) => [op, description, keepdims, axes, low, high] as const,
    ),
  );

  it.each(cases)('%s over %s at opset 13', async (op, _, keepdims, axes, low, high) => {
    const attributes: Record<string, AttributeValue> = { keepdims };
    if (axes) attributes.axes = axes;
    await expectVjp(reduceModel(op, attributes, null, 13), low, high);
  });

  it.each(cases)('%s over %s at opset 18', async (op, _, keepdims, axes, low, high) => {
    await expectVjp(reduceModel(op, { keepdims }, axes, 18), low, high);
  });
});

describe('CumSum', () => {
  it.each([
    [0, 0],
    [1, 0],
    [0, 1],
    [1, 1],
  ])('with exclusive %i and reverse %i', async (exclusive, reverse) => {
    const model = makeModel({
      inputs: [value('z', DOUBLE, ['n', 5])],
      outputs: [value('y', DOUBLE)],
      nodes: [
        node('CumSum', ['z', 'axis'], ['c'], { exclusive, reverse }),
        node('Mul', ['c', 'c'], ['y']),
      ],
      initializers: [tensor('axis', INT64, [], [1])],
    });
    const feeds = { z: randomFeed(DOUBLE, [3, 5], 6) };
    const check = await checkVjp({ model, input: 'z', outputs: ['y'], feeds });
    expect(check.error).toBeLessThan(TOLERANCE);
  });
});
