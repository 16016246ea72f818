import { describe, expect, it } from 'vitest';
import {
  OnnxAutodiffError,
  buildVjpModel,
  supportedOperators,
  unsupportedOperators,
} from '../../src/autodiff/index.js';
import {
  DOUBLE,
  FLOAT,
  INT64,
  makeModel,
  node,
  onnx,
  randomFeed,
  run,
  tensor,
  value,
} from './helpers.js';
import { GradientBuilder } from '../../src/autodiff/graph-builder.js';
import { ShapeContext } from '../../src/autodiff/rank-inference.js';

/** z -> Foo -> FusedMatMul (com.microsoft) -> Exp -> y, plus Einsum and Det off the path. */
const unsupported = makeModel({
  inputs: [value('z', FLOAT, ['n', 2])],
  outputs: [value('y', FLOAT), value('k', FLOAT)],
  nodes: [
    node('Einsum', ['w0'], ['w'], { equation: 'ij->ji' }),
    node('Det', ['w'], ['k']),
    node('Foo', ['z'], ['a']),
    node('Foo', ['a'], ['b']),
    node('FusedMatMul', ['b', 'w'], ['c'], {}, 'com.microsoft'),
    node('Exp', ['c'], ['y']),
  ],
  initializers: [tensor('w0', FLOAT, [2, 2], [1, 2, 3, 4])],
});

function thrown(fn: () => unknown): OnnxAutodiffError {
  try {
    fn();
  } catch (error) {
    if (error instanceof OnnxAutodiffError) return error;
    throw error;
  }
  throw new Error('expected an OnnxAutodiffError');
}

describe('unsupported operators', () => {
  it('buildVjpModel names every operator on the path without a rule, once each', () => {
    const error = thrown(() => buildVjpModel(unsupported, { input: 'z', outputs: ['y'] }));
    expect(error.code).toBe('UNSUPPORTED_OPERATOR');
    expect(error.operators.map((op) => op.opType)).toEqual(['Foo', 'com.microsoft.FusedMatMul']);
    expect(error.operators[0].nodes).toEqual(['Foo_a', 'Foo_b']);
    expect(error.message).toContain('Foo');
    expect(error.message).toContain('com.microsoft.FusedMatMul');
    expect(error.message).toContain('finite differences');
    expect(error.message).not.toContain('Einsum');
  });

  it('unsupportedOperators lists them without building, and nothing off the path', () => {
    expect(unsupportedOperators(unsupported, 'z', ['y'])).toEqual([
      'Foo',
      'com.microsoft.FusedMatMul',
    ]);
    expect(unsupportedOperators(unsupported, 'z', ['k'])).toEqual([]);
  });

  it('reports rules that refuse an attribute or input, with the reason', () => {
    const model = makeModel({
      inputs: [value('z', FLOAT, ['n', 4, 3, 3])],
      outputs: [value('y', FLOAT)],
      nodes: [
        node('Pad', ['z', 'pads'], ['p'], { mode: 'reflect' }),
        node('Reshape', ['z', 'wShape'], ['w']),
        node('Conv', ['p', 'w'], ['y'], { group: 2 }),
      ],
      initializers: [
        tensor('pads', INT64, [8], [0, 0, 1, 1, 0, 0, 1, 1]),
        tensor('wShape', INT64, [4], [-1, 2, 3, 3]),
      ],
    });
    const listed = unsupportedOperators(model, 'z', ['y']);
    expect(listed).toHaveLength(2);
    expect(listed[0]).toMatch(/^Pad \(mode 'reflect'/);
    expect(listed[1]).toMatch(/^Conv \(weight gradient with group > 1/);
  });

  it('supportedOperators lists the rule table, sorted', () => {
    expect(supportedOperators).toEqual([...supportedOperators].sort());
    for (const op of ['Add', 'MatMul', 'Gemm', 'Conv', 'Slice', 'Gather', 'ReduceSum', 'Shape']) {
      expect(supportedOperators).toContain(op);
    }
    expect(supportedOperators).not.toContain('Foo');
  });
});

describe('argument and model checks', () => {
  const model = makeModel({
    inputs: [value('z', DOUBLE, ['n', 2]), value('index', INT64, ['n'])],
    outputs: [value('y', DOUBLE, ['n', 2]), value('count', INT64, [])],
    nodes: [node('Exp', ['z'], ['y']), node('Size', ['index'], ['count'])],
  });

  it.each([
    ['opset 12', 12, /opset 12, expected 13 or above\. Re-export/],
    ['opset 11', 11, /opset 11/],
  ])('refuses models at %s', (_, opset, message) => {
    const old = makeModel({
      inputs: [value('z', DOUBLE, ['n', 2])],
      outputs: [value('y', DOUBLE, ['n', 2])],
      nodes: [node('Exp', ['z'], ['y'])],
      opset,
    });
    const error = thrown(() => buildVjpModel(old, { input: 'z', outputs: ['y'] }));
    expect(error.code).toBe('UNSUPPORTED_OPSET');
    expect(error.message).toMatch(message);
    expect(thrown(() => unsupportedOperators(old, 'z', ['y'])).code).toBe('UNSUPPORTED_OPSET');
  });

  it.each([
    ['an unknown input', { input: 'q', outputs: ['y'] }, /input "q" is not an input.*\[z, index\]/],
    ['an unknown output', { input: 'z', outputs: ['x'] }, /\[x\] are not outputs.*\[y, count\]/],
    ['no outputs', { input: 'z', outputs: [] }, /at least one/],
    ['a repeated output', { input: 'z', outputs: ['y', 'y'] }, /twice/],
    ['an integer output', { input: 'z', outputs: ['count'] }, /'count' has element type INT64/],
    ['an integer input', { input: 'index', outputs: ['y'] }, /'index' has element type INT64/],
    ['a gradient name in use', { input: 'z', outputs: ['y'], gradientName: 'y' }, /gradientName/],
    [
      'a cotangent name in use',
      { input: 'z', outputs: ['y'], cotangentNames: { y: 'z' } },
      /cotangentNames\['y'\]/,
    ],
  ])('refuses %s with INVALID_ARGUMENT', (_, options, message) => {
    const error = thrown(() => buildVjpModel(model, options));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toMatch(message);
  });

  it('reports a rank that a rule needs and cannot be inferred, naming the tensor', () => {
    const opaque = makeModel({
      inputs: [value('z', FLOAT, ['n', 2])],
      outputs: [value('y', FLOAT)],
      nodes: [
        node('Custom', ['w0'], ['w'], {}, 'example.domain'),
        node('MatMul', ['z', 'w'], ['y']),
      ],
      initializers: [tensor('w0', FLOAT, [2, 2], [1, 2, 3, 4])],
    });
    expect(unsupportedOperators(opaque, 'z', ['y'])).toEqual([]);
    const error = thrown(() => buildVjpModel(opaque, { input: 'z', outputs: ['y'] }));
    expect(error.code).toBe('RANK_INFERENCE');
    expect(error.message).toMatch(
      /MatMul rule failed at node 'MatMul_y'.*rank of tensor 'w'.*value_info/,
    );
    expect(error.operators).toEqual([
      {
        opType: 'MatMul',
        nodes: ['MatMul_y'],
        reason: "the rank of tensor 'w' could not be inferred, and a gradient rule needs it",
      },
    ]);
    expect(error.cause).toBeInstanceOf(OnnxAutodiffError);
  });

  it('refuses, as INTERNAL, a broadcast reduction to a tensor of higher rank', () => {
    const ctx = new ShapeContext(13);
    ctx.setTensor('g', { dtype: FLOAT, dims: ['n'] });
    ctx.setTensor('t', { dtype: FLOAT, dims: ['n', 2] });
    const error = thrown(() => new GradientBuilder(ctx, ['g', 't']).reduceTo('g', 't'));
    expect(error.code).toBe('INTERNAL');
    expect(error.message).toMatch(/reduce 'g' \(rank 1\) to the shape of 't' \(rank 2\).*a bug/);
  });

  it('refuses graphs whose nodes are not topologically sorted', () => {
    const unsorted = makeModel({
      inputs: [value('z', DOUBLE, ['n', 2])],
      outputs: [value('y', DOUBLE, ['n', 2])],
      nodes: [node('Exp', ['a'], ['y']), node('Neg', ['z'], ['a'])],
    });
    expect(thrown(() => buildVjpModel(unsorted, { input: 'z', outputs: ['y'] })).code).toBe(
      'INVALID_MODEL',
    );
  });
});

describe('the built model', () => {
  it('does not modify the model it is given', () => {
    const model = makeModel({
      inputs: [value('z', DOUBLE, ['n', 2])],
      outputs: [value('y', DOUBLE, ['n', 2])],
      nodes: [node('Exp', ['z'], ['y'])],
    });
    const before = onnx.ModelProto.encode(model).finish();
    buildVjpModel(model, { input: 'z', outputs: ['y'] });
    expect(onnx.ModelProto.encode(model).finish()).toEqual(before);
  });

  it('declares cotangents like the outputs and the VJP like the input, with custom names', () => {
    const model = makeModel({
      inputs: [value('z', FLOAT, ['batch', 3])],
      outputs: [value('x', FLOAT, ['batch', 3]), value('logdet', FLOAT)],
      nodes: [
        node('Exp', ['z'], ['x']),
        node('ReduceSum', ['z', 'axes'], ['logdet'], { keepdims: 0 }),
      ],
      initializers: [tensor('axes', INT64, [1], [1])],
    });
    const vjp = buildVjpModel(model, {
      input: 'z',
      outputs: ['x', 'logdet'],
      cotangentNames: { x: 'dx' },
      gradientName: 'grad_z',
    });
    const graph = vjp.graph!;
    const dims = (v: onnx.IValueInfoProto) =>
      v.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue));
    expect(graph.input!.map((v) => v.name)).toEqual(['z', 'dx', 'cotangent_logdet']);
    expect(graph.output!.map((v) => v.name)).toEqual(['x', 'logdet', 'grad_z']);
    expect(dims(graph.input![1])).toEqual(['batch', 3]);
    expect(graph.input![2].type!.tensorType!.shape!.dim).toHaveLength(1);
    expect(dims(graph.output![2])).toEqual(['batch', 3]);
    expect(vjp.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 13]]);
  });

  it('returns zeros when the outputs do not depend on the input', async () => {
    const model = makeModel({
      inputs: [value('z', DOUBLE, ['n', 2]), value('u', DOUBLE, ['n', 2])],
      outputs: [value('y', DOUBLE, ['n', 2])],
      nodes: [node('Shape', ['z'], ['s']), node('Expand', ['u', 's'], ['y'])],
    });
    const vjp = buildVjpModel(model, { input: 'z', outputs: ['y'] });
    const result = await run(vjp, {
      z: randomFeed(DOUBLE, [3, 2], 1),
      u: randomFeed(DOUBLE, [3, 2], 2),
      cotangent_y: randomFeed(DOUBLE, [3, 2], 3),
    });
    expect(result.vjp_z.data).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('differentiates an output that is the input itself', async () => {
    const model = makeModel({
      inputs: [value('z', DOUBLE, ['n', 2])],
      outputs: [value('z', DOUBLE, ['n', 2]), value('y', DOUBLE, ['n', 2])],
      nodes: [node('Neg', ['z'], ['y'])],
    });
    const vjp = buildVjpModel(model, { input: 'z', outputs: ['z', 'y'] });
    const result = await run(vjp, {
      z: randomFeed(DOUBLE, [1, 2], 1),
      cotangent_z: { type: DOUBLE, dims: [1, 2], data: [1, 2] },
      cotangent_y: { type: DOUBLE, dims: [1, 2], data: [5, 7] },
    });
    expect(result.vjp_z.data).toEqual([-4, -5]);
  });
});
