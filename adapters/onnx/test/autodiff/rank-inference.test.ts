import { describe, expect, it } from 'vitest';
import { buildVjpModel, inferRanks } from '../../src/autodiff/index.js';
import { inferGraph } from '../../src/autodiff/rank-inference.js';
import { DOUBLE, FLOAT, INT64, makeModel, node, tensor, value } from './helpers.js';

const i64 = (name: string, values: number[], dims = [values.length]) =>
  tensor(name, INT64, dims, values);

/** A graph with the shape arithmetic PyTorch exports around a dynamic batch. */
const model = makeModel({
  inputs: [value('z', FLOAT, ['batch', 6]), value('v', FLOAT, [3])],
  outputs: [value('out', FLOAT)],
  nodes: [
    node('Shape', ['z'], ['shape']),
    node('Gather', ['shape', 'zero'], ['batch']),
    node('Unsqueeze', ['batch', 'axis0'], ['batch1']),
    node('Concat', ['batch1', 'twoThree'], ['target'], { axis: 0 }),
    node('Reshape', ['z', 'target'], ['r']),
    node('Reshape', ['z', 'flat'], ['f']),
    node('MatMul', ['r', 'v'], ['mv']),
    node('MatMul', ['v', 'v'], ['dot']),
    node('Transpose', ['r'], ['t'], { perm: [2, 0, 1] }),
    node('Unsqueeze', ['z', 'axes13'], ['t2']),
    node('Squeeze', ['t2', 'axis0'], ['sq']),
    node('ReduceSum', ['r', 'axes12'], ['rs'], { keepdims: 0 }),
    node('ReduceMean', ['r'], ['rm'], { axes: [-1], keepdims: 1 }),
    node('Gather', ['r', 'one'], ['g'], { axis: 1 }),
    node('Split', ['z', 'splits'], ['s1', 's2'], { axis: 1 }),
    node('Slice', ['z', 'start', 'end', 'axis1'], ['sl']),
    node('Expand', ['v', 'expandShape'], ['ex']),
    node('Reshape', ['z', 'imageShape'], ['img']),
    node('Conv', ['img', 'w'], ['c'], { strides: [2, 2], pads: [1, 1, 1, 1] }),
    node('Einsum', ['r', 'v'], ['es'], { equation: 'bij,j->bi' }),
    node('Custom', ['z'], ['unknown'], {}, 'example.domain'),
    node('Exp', ['unknown'], ['afterUnknown']),
    node('Greater', ['z', 'z'], ['mask']),
    node('Cast', ['mask'], ['maskInt'], { to: INT64 }),
    node('Identity', ['z'], ['out']),
  ],
  initializers: [
    i64('zero', [0], []),
    i64('one', [1], []),
    i64('axis0', [0]),
    i64('axis1', [1]),
    i64('axes13', [0, 2]),
    i64('axes12', [1, 2]),
    i64('twoThree', [2, 3]),
    i64('flat', [-1]),
    i64('splits', [2, 4]),
    i64('start', [1]),
    i64('end', [-1]),
    i64('expandShape', [4, 1, 3]),
    i64('imageShape', [-1, 1, 2, 3]),
    tensor('w', FLOAT, [5, 1, 3, 3], new Array<number>(45).fill(0.1)),
  ],
});

describe('inferRanks', () => {
  it('infers the rank of every tensor from input ranks and per-operator rules', () => {
    const ranks = Object.fromEntries(inferRanks(model));
    expect(ranks).toMatchObject({
      shape: 1,
      batch: 0,
      batch1: 1,
      target: 1,
      r: 3,
      f: 1,
      mv: 2,
      dot: 0,
      t: 3,
      t2: 4,
      sq: 3,
      rs: 1,
      rm: 3,
      g: 2,
      s1: 2,
      s2: 2,
      sl: 2,
      ex: 3,
      img: 4,
      c: 4,
      es: 2,
      mask: 2,
      maskInt: 2,
      out: 2,
    });
  });

  it('leaves outputs of unknown operators, and what depends on them, unknown', () => {
    const ranks = inferRanks(model);
    expect(ranks.get('unknown')).toBeNull();
    expect(ranks.get('afterUnknown')).toBeNull();
  });

  it('tracks symbolic and static dims through Shape -> Gather -> Concat -> Reshape', () => {
    const ctx = inferGraph(model.graph!, 13);
    expect(ctx.dims('r')).toEqual(['param:batch', 2, 3]);
    expect(ctx.dims('f')).toEqual([expect.any(String)]);
    expect(ctx.valuesOf('target')).toEqual(['param:batch', 2, 3]);
    expect(ctx.dims('img')).toEqual(['param:batch', 1, 2, 3]);
    expect(ctx.dims('c')).toEqual(['param:batch', 5, 1, 2]);
    expect(ctx.dims('s2')).toEqual(['param:batch', 4]);
    expect(ctx.dims('sl')).toEqual(['param:batch', 4]);
    expect(ctx.dims('ex')).toEqual([4, 1, 3]);
    expect(ctx.info('maskInt')?.dtype).toBe(INT64);
  });

  it('uses value_info declared by the model where its own rules know nothing', () => {
    const declared = makeModel({
      inputs: [value('z', FLOAT, ['n', 2])],
      outputs: [value('y', FLOAT, ['n', 2])],
      nodes: [node('Custom', ['z'], ['y'], {}, 'example.domain')],
    });
    expect(inferRanks(declared).get('y')).toBe(2);
  });
});

describe('broadcast reduction', () => {
  function countOps(dimsA: (number | string)[], dimsB: (number | string)[]) {
    const m = makeModel({
      inputs: [value('a', DOUBLE, dimsA), value('b', DOUBLE, dimsB)],
      outputs: [value('y', DOUBLE)],
      nodes: [node('Mul', ['a', 'b'], ['y'])],
    });
    const nodes = buildVjpModel(m, { input: 'b', outputs: ['y'] }).graph!.node!;
    const count = (op: string) => nodes.filter((n) => n.opType === op).length;
    return {
      compress: count('Compress'),
      reduceSum: count('ReduceSum'),
      squeeze: count('Squeeze'),
    };
  }

  it('uses constant axes when the dims tell which axes were broadcast', () => {
    expect(countOps(['n', 3], [3])).toEqual({ compress: 0, reduceSum: 1, squeeze: 1 });
    expect(countOps(['n', 3], ['n', 1])).toEqual({ compress: 0, reduceSum: 1, squeeze: 0 });
  });

  it('emits no reduction at all when the shapes are known to be equal', () => {
    expect(countOps(['n', 3], ['n', 3])).toEqual({ compress: 0, reduceSum: 0, squeeze: 0 });
  });

  it('computes the axes at run time when two dynamic dims may differ', () => {
    expect(countOps(['n', 3], ['m', 3])).toEqual({ compress: 1, reduceSum: 1, squeeze: 0 });
  });
});
