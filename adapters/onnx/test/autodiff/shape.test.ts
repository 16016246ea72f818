import { describe, expect, it } from 'vitest';
import { buildVjpModel } from '../../src/autodiff/index.js';
import type { onnx } from '../../src/autodiff/proto.js';
import {
  DOUBLE,
  type Feed,
  INT32,
  INT64,
  checkVjp,
  makeModel,
  node,
  randomFeed,
  tensor,
  value,
} from './helpers.js';

/** Double precision, central differences with step 1e-5. */
const TOLERANCE = 1e-6;

/** Differentiates `y` with respect to `z`, fed with seeded values of the given dims. */
async function expectVjp(
  model: onnx.ModelProto,
  dims: number[],
  extra: Record<string, Feed> = {},
): Promise<void> {
  const feeds = { z: randomFeed(DOUBLE, dims, dims.length * 7 + dims[0]), ...extra };
  const check = await checkVjp({ model, input: 'z', outputs: ['y'], feeds });
  expect(check.error).toBeLessThan(TOLERANCE);
  expect(check.forwardError).toBe(0);
}

/** A model z -> nodes -> y, y then multiplied by z-independent weights `w` when given. */
function chain(
  zDims: (number | string)[],
  nodes: onnx.NodeProto[],
  initializers: onnx.TensorProto[] = [],
  opset = 13,
): onnx.ModelProto {
  return makeModel({
    inputs: [value('z', DOUBLE, zDims)],
    outputs: [value('y', DOUBLE)],
    nodes,
    initializers,
    opset,
  });
}

const i64 = (name: string, values: number[], dims = [values.length]): onnx.TensorProto =>
  tensor(name, INT64, dims, values);

describe('reshaping rules', () => {
  it.each([1, 5])('Reshape to a constant shape at batch %i', async (batch) => {
    const model = chain(
      ['n', 6],
      [node('Reshape', ['z', 'shape'], ['r']), node('Mul', ['r', 'w'], ['y'])],
      [i64('shape', [-1, 2, 3]), tensor('w', DOUBLE, [2, 3], [1, -2, 3, 0.5, 2, -1])],
    );
    await expectVjp(model, [batch, 6]);
  });

  it.each([1, 5])(
    'Reshape to a shape computed with Shape, Gather, Concat at batch %i',
    async (n) => {
      const model = chain(
        ['n', 2, 3],
        [
          node('Shape', ['z'], ['s']),
          node('Gather', ['s', 'zero'], ['batch']),
          node('Unsqueeze', ['batch', 'axis0'], ['b1']),
          node('Concat', ['b1', 'minus1'], ['target'], { axis: 0 }),
          node('Reshape', ['z', 'target'], ['r']),
          node('Mul', ['r', 'r'], ['y']),
        ],
        [i64('zero', [0], []), i64('axis0', [0]), i64('minus1', [-1])],
      );
      await expectVjp(model, [n, 2, 3]);
    },
  );

  it('Flatten at axis 1', async () => {
    const model = chain(
      ['n', 2, 3],
      [node('Flatten', ['z'], ['f'], { axis: 1 }), node('Mul', ['f', 'w'], ['y'])],
      [tensor('w', DOUBLE, [6], [1, 2, 3, 4, 5, 6])],
    );
    await expectVjp(model, [3, 2, 3]);
  });

  it('Unsqueeze then broadcast then Squeeze', async () => {
    const model = chain(
      ['n', 3],
      [
        node('Unsqueeze', ['z', 'one'], ['u']),
        node('Mul', ['u', 'w'], ['m']),
        node('ReduceSum', ['m', 'one'], ['s'], { keepdims: 1 }),
        node('Squeeze', ['s', 'one'], ['q']),
        node('Mul', ['q', 'z'], ['y']),
      ],
      [i64('one', [1]), tensor('w', DOUBLE, [2, 1], [0.5, -1.5])],
    );
    await expectVjp(model, [4, 3]);
  });

  it.each([
    ['perm [2, 0, 1]', [2, 0, 1]],
    ['default perm', null],
  ])('Transpose with %s', async (_, perm) => {
    const model = chain(
      ['n', 2, 3],
      [
        node('Transpose', ['z'], ['t'], perm ? { perm } : {}),
        node('Exp', ['t'], ['e']),
        node('Mul', ['t', 'e'], ['y']),
      ],
    );
    await expectVjp(model, [4, 2, 3]);
  });
});

describe('concatenation and splitting rules', () => {
  it.each([
    ['axis 1', 1],
    ['axis -1', -1],
    ['axis 0 (the dynamic batch)', 0],
  ])('Concat along %s', async (_, axis) => {
    const model = chain(
      ['n', 2],
      [
        node('Exp', ['z'], ['e']),
        node('Concat', ['z', 'e', 'z'], ['c'], { axis }),
        node('Mul', ['c', 'c'], ['y']),
      ],
    );
    await expectVjp(model, [3, 2]);
  });

  it.each([
    ['both outputs used', true],
    ['second output unused', false],
  ])('Split with sizes input and %s', async (_, both) => {
    const model = chain(
      ['n', 5],
      [
        node('Split', ['z', 'sizes'], ['a', 'b'], { axis: 1 }),
        node('Mul', ['a', 'a'], ['aa']),
        both ? node('Concat', ['aa', 'b'], ['y'], { axis: 1 }) : node('Identity', ['aa'], ['y']),
      ],
      [i64('sizes', [2, 3])],
    );
    await expectVjp(model, [3, 5]);
  });

  it('Split with num_outputs at opset 18', async () => {
    const model = chain(
      ['n', 6],
      [
        node('Split', ['z'], ['a', 'b', 'c'], { axis: 1, num_outputs: 3 }),
        node('Mul', ['a', 'c'], ['y']),
      ],
      [],
      18,
    );
    await expectVjp(model, [2, 6]);
  });
});

describe('Slice', () => {
  // [description, dims, starts, ends, axes or null, steps or null]
  type Case = [string, number[], number[], number[], number[] | null, number[] | null];
  const cases: Case[] = [
    ['a middle range', [3, 6], [1], [4], [1], null],
    ['negative start, end past the size, step 2', [3, 6], [-4], [1000], [-1], [2]],
    ['a negative step', [3, 6], [5], [0], [1], [-2]],
    ['a negative step to the start', [3, 6], [-1], [-1000], [1], [-1]],
    ['two axes', [2, 4, 5], [1, 0], [3, -1], [1, 2], null],
    ['default axes', [3, 4], [0, 1], [1000, 3], null, null],
    ['the whole axis', [3, 4], [0], [2 ** 63], [1], null],
    ['unit steps, a negative start, end past the size', [3, 6], [-4], [1000], [1], [1]],
    ['a start clamped to 0, a negative end', [3, 6], [-1000], [-2], [1], null],
    ['an axes subset out of order, negative axis', [2, 4, 5], [1, -3], [1000, 3], [-1, 1], null],
    ['the dynamic batch axis, negative bounds', [5, 3], [-4], [-1], [0], null],
    ['the dynamic batch and a static axis', [4, 3], [1, 1], [1000, 2], [0, 1], [1, 1]],
  ];

  it.each(cases)('with %s', async (_, dims, starts, ends, axes, steps) => {
    const inputs = ['z', 'starts', 'ends'];
    const initializers = [i64('starts', starts), i64('ends', ends)];
    if (axes || steps) {
      inputs.push(axes ? 'axes' : '');
      if (axes) initializers.push(i64('axes', axes));
    }
    if (steps) {
      inputs.push('steps');
      initializers.push(i64('steps', steps));
    }
    const model = chain(
      ['n', ...dims.slice(1)],
      [node('Slice', inputs, ['s']), node('Exp', ['s'], ['e']), node('Mul', ['s', 'e'], ['y'])],
      initializers,
    );
    await expectVjp(model, dims);
  });

  // [description, starts, ends, axes]: bounds against the dynamic sizes [n, d] = [3, 6].
  const dynamicCases: [string, number[], number[], number[]][] = [
    ['a negative start, end past the size', [-4], [1000], [1]],
    ['an end at the batch size and a middle range', [1, 4], [3, 5], [0, 1]],
    ['both axes, start below -size', [-1000, 2], [2, -1], [0, 1]],
  ];

  it.each(dynamicCases)('on dynamic sizes with %s', async (_, starts, ends, axes) => {
    const model = chain(
      ['n', 'd'],
      [
        node('Slice', ['z', 'starts', 'ends', 'axes'], ['s']),
        node('Exp', ['s'], ['e']),
        node('Mul', ['s', 'e'], ['y']),
      ],
      [i64('starts', starts), i64('ends', ends), i64('axes', axes)],
    );
    await expectVjp(model, [3, 6]);
  });

  it('on dynamic sizes gives zeros when a start past the end empties the block', async () => {
    const model = chain(
      ['n', 'd'],
      [node('Slice', ['z', 'starts', 'ends', 'axes'], ['y'])],
      [i64('starts', [4]), i64('ends', [-3]), i64('axes', [1])],
    );
    const feeds = { z: randomFeed(DOUBLE, [3, 6], 5) };
    const check = await checkVjp({ model, input: 'z', outputs: ['y'], feeds, allowZero: true });
    expect(check.vjp).toEqual(new Array<number>(18).fill(0));
  });

  it.each([
    ['Pad alone for static bounds and sizes', ['n', 6], [1], [1], false],
    ['Pad with run-time pads for a dynamic size', ['n', 'd'], [1], [1], true],
    ['a scatter for step 2', ['n', 6], [1], [2], true],
  ] as const)('differentiates with %s', async (_, dims, axes, steps, scatters) => {
    const model = chain(
      [...dims],
      [node('Slice', ['z', 'starts', 'ends', 'axes', 'steps'], ['y'])],
      [i64('starts', [1]), i64('ends', [5]), i64('axes', [...axes]), i64('steps', [...steps])],
    );
    const ops = buildVjpModel(model, { input: 'z', outputs: ['y'] }).graph!.node!.map(
      (n) => n.opType,
    );
    expect(ops.includes('Pad')).toBe(steps[0] === 1);
    expect(ops.includes('ScatterElements')).toBe(scatters);
  });

  it('with int32 bounds computed at run time from Shape (x[:, : d // 2])', async () => {
    const model = chain(
      ['n', 'd'],
      [
        node('Shape', ['z'], ['s']),
        node('Gather', ['s', 'one'], ['d']),
        node('Div', ['d', 'two'], ['half']),
        node('Unsqueeze', ['half', 'axis0'], ['end64']),
        node('Cast', ['end64'], ['end'], { to: INT32 }),
        node('Slice', ['z', 'start', 'end', 'axes'], ['a']),
        node('Mul', ['a', 'a'], ['y']),
      ],
      [
        i64('one', [1], []),
        i64('two', [2], []),
        i64('axis0', [0]),
        tensor('start', INT32, [1], [0]),
        tensor('axes', INT32, [1], [1]),
      ],
    );
    await expectVjp(model, [3, 6]);
  });
});

describe('Gather', () => {
  // [description, dims, axis, indices, indices dims]
  type Case = [string, number[], number, number[], number[]];
  const cases: Case[] = [
    ['a permutation with duplicates and negatives', [3, 4], 1, [2, 0, -1, 2], [4]],
    ['a scalar column', [3, 4], 1, [1], []],
    ['a scalar row of the batch axis', [3, 4], 0, [-1], []],
    ['2-D indices', [3, 4], 1, [0, 1, 1, 1], [2, 2]],
    ['the last axis of a rank-3 tensor', [2, 3, 4], -1, [3, 3, 0], [3]],
    ['the middle axis of a rank-3 tensor', [2, 3, 4], 1, [2, 0], [2, 1]],
  ];

  it.each(cases)('with %s', async (_, dims, axis, indices, indexDims) => {
    const model = chain(
      ['n', ...dims.slice(1)],
      [
        node('Gather', ['z', 'idx'], ['g'], { axis }),
        node('Sin', ['g'], ['s']),
        node('Mul', ['g', 's'], ['y']),
      ],
      [i64('idx', indices, indexDims)],
    );
    await expectVjp(model, dims);
  });
});

describe('broadcasting, padding and masking rules', () => {
  it.each([1, 4])('Expand to [1, 4, 3] at batch %i', async (n) => {
    const model = chain(
      ['n', 1, 3],
      [node('Expand', ['z', 'shape'], ['e']), node('Mul', ['e', 'w'], ['y'])],
      [i64('shape', [1, 4, 3]), tensor('w', DOUBLE, [4, 1], [1, -1, 2, 0.5])],
    );
    await expectVjp(model, [n, 1, 3]);
  });

  it('Tile with repeats [2, 3]', async () => {
    const model = chain(
      ['n', 2],
      [node('Tile', ['z', 'repeats'], ['t']), node('Mul', ['t', 't'], ['y'])],
      [i64('repeats', [2, 3])],
    );
    await expectVjp(model, [3, 2]);
  });

  it.each([
    ['positive pads and a value', [0, 1, 0, 2], true, 13],
    ['negative pads (cropping)', [0, -1, 0, 1], false, 13],
    ['an axes input at opset 18', [1, 2], false, 18],
  ])('Pad with %s', async (_, pads, withValue, opset) => {
    const inputs = ['z', 'pads', withValue ? 'c' : ''];
    if (opset >= 18) inputs.push('axes');
    const model = chain(
      ['n', 3],
      [node('Pad', inputs, ['p']), node('Mul', ['p', 'p'], ['y'])],
      [i64('pads', pads), tensor('c', DOUBLE, [], [0.5]), i64('axes', [-1])],
      opset,
    );
    await expectVjp(model, [2, 3]);
  });

  it.each([
    ['DepthToSpace', [2, 8, 2, 3]],
    ['SpaceToDepth', [2, 2, 4, 6]],
  ])('%s with blocksize 2', async (op, dims) => {
    const model = chain(
      ['n', ...dims.slice(1)],
      [node(op, ['z'], ['d'], { blocksize: 2 }), node('Mul', ['d', 'd'], ['y'])],
    );
    await expectVjp(model, dims);
  });

  it.each([
    ['lower, k = 0', 0, null],
    ['upper, k = 1', 1, 1],
  ])('Trilu %s at opset 14', async (_, upper, k) => {
    const model = chain(
      ['n', 3, 3],
      [
        node('Trilu', k === null ? ['z'] : ['z', 'k'], ['t'], { upper }),
        node('Mul', ['t', 't'], ['y']),
      ],
      [i64('k', [k ?? 0], [])],
      14,
    );
    await expectVjp(model, [2, 3, 3]);
  });
});

describe('scatter and element gather rules', () => {
  it('ScatterND into rows, data and updates both depending on the input', async () => {
    const model = chain(
      [3, 4],
      [
        node('Slice', ['z', 'start', 'end'], ['rows']),
        node('Exp', ['rows'], ['updates']),
        node('ScatterND', ['z', 'idx', 'updates'], ['s']),
        node('Mul', ['s', 's'], ['y']),
      ],
      [i64('start', [1]), i64('end', [3]), i64('idx', [0, 2], [2, 1])],
    );
    await expectVjp(model, [3, 4]);
  });

  it('ScatterElements along axis 1', async () => {
    const model = chain(
      [3, 4],
      [
        node('Slice', ['z', 'start', 'end', 'axes'], ['cols']),
        node('Sigmoid', ['cols'], ['updates']),
        node('ScatterElements', ['z', 'idx', 'updates'], ['s'], { axis: 1 }),
        node('Mul', ['s', 's'], ['y']),
      ],
      [
        i64('start', [0]),
        i64('end', [2]),
        i64('axes', [1]),
        i64('idx', [3, 0, 1, 2, 0, 3], [3, 2]),
      ],
    );
    await expectVjp(model, [3, 4]);
  });

  it('GatherElements with duplicate indices at opset 16', async () => {
    const model = chain(
      [3, 4],
      [node('GatherElements', ['z', 'idx'], ['g'], { axis: 0 }), node('Mul', ['g', 'g'], ['y'])],
      [i64('idx', [0, 1, 2, 0, 2, 2, 0, 1], [2, 4])],
      16,
    );
    await expectVjp(model, [3, 4]);
  });

  it('GatherND with duplicate indices at opset 16', async () => {
    const model = chain(
      [3, 4],
      [node('GatherND', ['z', 'idx'], ['g']), node('Mul', ['g', 'g'], ['y'])],
      [i64('idx', [0, 1, 2, 3, 0, 1], [3, 2])],
      16,
    );
    await expectVjp(model, [3, 4]);
  });
});
