/**
 * Gradient rules of operators that move elements without arithmetic: reshapes, transposes,
 * concatenation and splitting, slicing, gathering and scattering, padding, tiling, masking.
 *
 * Shapes are read at run time with `Shape`, so every rule works with a dynamic batch.
 */

import type { GradientBuilder } from '../graph-builder.js';
import { DataType, makeTensor } from '../proto.js';
import {
  type Dim,
  type ShapeContext,
  clampSlice,
  isNumber,
  normalizeAxis,
} from '../rank-inference.js';
import { type GradientRule, type NodeView, type OperatorRule, onlyInputs } from './rule.js';

/** An index tensor as int64 (ONNX allows int32 indices; the emitted ops mix them with int64). */
function asInt64(b: GradientBuilder, name: string): string {
  return b.dtype(name) === DataType.INT64 ? name : b.op('Cast', [name], { to: DataType.INT64 });
}

/** A scalar int64 constant. */
function int64Scalar(b: GradientBuilder, value: number): string {
  return b.constant([value], DataType.INT64, []);
}

/** `null` for every input but the first. */
function firstOnly(node: NodeView, dx: string): (string | null)[] {
  return Array.from({ length: node.inputCount }, (_, i) => (i === 0 ? dx : null));
}

// Reshape, Flatten, Squeeze, Unsqueeze: the gradient is dy reshaped to the input's shape.
const reshapeBack: GradientRule = (node, b, [dy]) =>
  firstOnly(node, b.op('Reshape', [dy!, b.shapeOf(node.input(0))]));

const transpose: GradientRule = (node, b, [dy]) => {
  const rank = b.rank(node.input(0));
  const perm = node.ints('perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  const inverse = new Array<number>(rank);
  perm.forEach((axis, i) => (inverse[axis] = i));
  return [b.op('Transpose', [dy!], { perm: inverse })];
};

// Concat: split dy back along the axis, at the inputs' (run-time) sizes.
const concat: GradientRule = (node, b, [dy]) => {
  const inputs = Array.from({ length: node.inputCount }, (_, i) => node.input(i));
  if (inputs.length === 1) return [dy];
  const axis = normalizeAxis(node.int('axis', 0), b.rank(inputs[0]));
  const sizes = inputs.map((x) => b.dims(x)[axis]);
  const splits = sizes.every(isNumber)
    ? b.int64(sizes)
    : b.op(
        'Concat',
        inputs.map((x) => b.dimsOf(x, axis, axis + 1)),
        { axis: 0 },
      );
  const parts = b.ops('Split', [dy!, splits], inputs.length, { axis });
  return parts.map((part, i) => (node.needs(i) ? part : null));
};

// Split: concatenate the outputs' cotangents, zeros for outputs that got none.
const split: GradientRule = (node, b, dy) => {
  const x = node.input(0);
  const axis = normalizeAxis(node.int('axis', 0), b.rank(x));
  const parts = dy.map((d, i) => d ?? b.zerosLike(node.output(i)));
  const dx = parts.length === 1 ? parts[0] : b.op('Concat', parts, { axis });
  return firstOnly(node, dx);
};

/** Axes a Slice node slices along, when known statically. */
function sliceAxes(node: NodeView, ctx: ShapeContext): number[] | null {
  if (node.has(3)) return ctx.numbersOf(node.input(3));
  const count = ctx.dims(node.input(1))?.[0];
  return count !== undefined && isNumber(count) ? Array.from({ length: count }, (_, i) => i) : null;
}

/** Whether a slice statically keeps a whole axis (start 0, step 1, end past the size). */
function keepsWholeAxis(node: NodeView, ctx: ShapeContext, j: number, dim: Dim): boolean {
  const start = ctx.numbersOf(node.input(1))?.[j];
  const end = ctx.numbersOf(node.input(2))?.[j];
  const step = node.has(4) ? ctx.numbersOf(node.input(4))?.[j] : 1;
  if (start === undefined || end === undefined || step !== 1) return false;
  return (start === 0 || (isNumber(dim) && start === -dim)) && isNumber(dim) && end >= dim;
}

/** Whether every step of a Slice node is statically 1 (steps left out default to 1). */
function unitSteps(node: NodeView, ctx: ShapeContext): boolean {
  if (!node.has(4)) return true;
  return ctx.numbersOf(node.input(4))?.every((step) => step === 1) ?? false;
}

// Slice with unit steps keeps the block [s, max(s, e)) of each sliced axis, s and e the bounds
// clamped to [0, size] after wrapping negatives (ONNX Slice), so dx is dy padded with zeros by s
// before and size - max(s, e) after. The pads are constants when the bounds and sizes are static,
// else computed at run time with the same clamping; a Pad is far cheaper than the scatter below.
function slicePad(node: NodeView, b: GradientBuilder, dy: string, axes: number[]): string {
  const data = node.input(0);
  const dataDims = b.dims(data);
  const rank = dataDims.length;
  const sliced = axes.map((axis) => normalizeAxis(axis, rank));
  const starts = b.ctx.numbersOf(node.input(1));
  const ends = b.ctx.numbersOf(node.input(2));
  const sizes = sliced.map((a) => dataDims[a]);

  let pads: string;
  if (starts && ends && sizes.every(isNumber)) {
    const values = new Array<number>(2 * rank).fill(0);
    sliced.forEach((a, j) => {
      const [s, e] = clampSlice(starts[j], ends[j], 1, sizes[j] as number);
      values[a] = s;
      values[rank + a] = (sizes[j] as number) - Math.max(s, e);
    });
    pads = b.int64(values);
  } else {
    const size = b.op('Gather', [b.shapeOf(data), b.int64(sliced)]);
    const zero = int64Scalar(b, 0);
    const clamp = (bounds: string): string => {
      const wrapped = b.op('Where', [b.op('Less', [bounds, zero]), b.add(bounds, size), bounds]);
      return b.op('Max', [b.op('Min', [wrapped, size]), zero]);
    };
    const begin = clamp(asInt64(b, node.input(1)));
    const end = b.sub(size, b.op('Max', [begin, clamp(asInt64(b, node.input(2)))]));
    const slots = b.int64([...sliced, ...sliced.map((a) => rank + a)]);
    const updates = b.op('Concat', [begin, end], { axis: 0 });
    const zeros = b.int64(new Array<number>(2 * rank).fill(0));
    pads = b.op('ScatterElements', [zeros, slots, updates], { axis: 0 });
  }
  const dx = b.op('Pad', [dy, pads], { mode: 'constant' });
  b.ctx.infos.set(dx, { dtype: b.dtype(dy), dims: dataDims });
  return dx;
}

// Slice with other steps: scatter dy into zeros, one sliced axis at a time. The indices an axis
// keeps are found by slicing Range(0, size) with the node's own start, end and step, so negative
// and clamped bounds and any step (negative too) behave exactly as in the forward Slice. The
// kept indices are distinct, so a plain ScatterElements (opset 13) is exact.
const slice: GradientRule = (node, b, [dy]) => {
  const data = node.input(0);
  const rank = b.rank(data);
  const axes = sliceAxes(node, b.ctx)!;
  if (unitSteps(node, b.ctx)) return firstOnly(node, slicePad(node, b, dy!, axes));
  const starts = asInt64(b, node.input(1));
  const ends = asInt64(b, node.input(2));
  const steps = node.has(4) ? asInt64(b, node.input(4)) : null;
  const dataShape = b.shapeOf(data);
  const dyShape = b.shapeOf(dy!);
  const dataDims = b.dims(data);
  const done = new Array<number>(rank).fill(0);
  let g = dy!;
  axes.forEach((axis, j) => {
    const a = normalizeAxis(axis, rank);
    done[a] = 1;
    if (keepsWholeAxis(node, b.ctx, j, dataDims[a])) return;
    const pick = (bounds: string): string =>
      b.op('Slice', [bounds, b.int64([j]), b.int64([j + 1])]);
    const size = b.op('Gather', [dataShape, int64Scalar(b, a)]);
    const iota = b.op('Range', [int64Scalar(b, 0), size, int64Scalar(b, 1)]);
    const kept = b.op('Slice', [
      iota,
      pick(starts),
      pick(ends),
      b.int64([0]),
      ...(steps ? [pick(steps)] : []),
    ]);
    const column = done.map((_, i) => (i === a ? -1 : 1));
    const indices = b.op('Expand', [b.op('Reshape', [kept, b.int64(column)]), b.shapeOf(g)]);
    const mask = b.constant(done, DataType.BOOL, [rank]);
    const shape = b.op('Where', [mask, dataShape, dyShape]);
    const zeros = b.op('ConstantOfShape', [shape], { value: makeTensor([0], b.dtype(g), [1]) });
    g = b.op('ScatterElements', [zeros, indices, g], { axis: a });
  });
  return firstOnly(node, g);
};

// Gather along any axis, any index shape, duplicate and negative indices: dx = dy contracted with
// a one-hot matrix H[m, size] = (flat indices == Range(size)), by MatMul on the gathered axis.
// Works at opset 13 (ScatterND/ScatterElements only add duplicates from opset 16 on), at the
// cost of an [m, size] matrix, small for the permutations and column picks of flows.
const gather: GradientRule = (node, b, [dy]) => {
  const [data, indices] = [node.input(0), node.input(1)];
  const rank = b.rank(data);
  const q = b.rank(indices);
  const axis = normalizeAxis(node.int('axis', 0), rank);
  const dataShape = b.shapeOf(data);

  const size = b.op('Gather', [dataShape, int64Scalar(b, axis)]);
  const index = asInt64(b, indices);
  const wrapped = b.op('Where', [
    b.op('Less', [index, int64Scalar(b, 0)]),
    b.add(index, size),
    index,
  ]);
  const flat = b.op('Reshape', [wrapped, b.int64([-1, 1])]);
  const iota = b.op('Range', [int64Scalar(b, 0), size, int64Scalar(b, 1)]);
  const oneHot = b.castLike(b.op('Equal', [flat, iota]), dy!);

  const dyShape = b.shapeOf(dy!);
  const count = b.op('Reshape', [b.op('Size', [indices]), b.int64([1])]);
  const merged = b.op(
    'Concat',
    [
      b.op('Slice', [dyShape, b.int64([0]), b.int64([axis])]),
      count,
      b.op('Slice', [dyShape, b.int64([axis + q]), b.int64([rank + q - 1])]),
    ],
    { axis: 0 },
  );
  const g = b.op('Reshape', [dy!, merged]);
  if (axis === rank - 1) return [b.op('MatMul', [g, oneHot]), null];
  const perm = [...Array.from({ length: rank }, (_, i) => i).filter((i) => i !== axis), axis];
  const inverse = new Array<number>(rank);
  perm.forEach((p, i) => (inverse[p] = i));
  const moved = b.op('MatMul', [b.op('Transpose', [g], { perm }), oneHot]);
  return [b.op('Transpose', [moved], { perm: inverse }), null];
};

// GatherElements: scatter-add dy into zeros (ScatterElements reduction 'add', opset >= 16).
const gatherElements: GradientRule = (node, b, [dy]) => {
  const [data, indices] = [node.input(0), node.input(1)];
  const zeros = b.zerosLike(data);
  const axis = node.int('axis', 0);
  return [b.op('ScatterElements', [zeros, indices, dy!], { axis, reduction: 'add' }), null];
};

// GatherND (batch_dims 0): scatter-add dy into zeros (ScatterND reduction 'add', opset >= 16).
const gatherNd: GradientRule = (node, b, [dy]) => {
  const [data, indices] = [node.input(0), node.input(1)];
  return [
    b.op('ScatterND', [b.zerosLike(data), asInt64(b, indices), dy!], { reduction: 'add' }),
    null,
  ];
};

// ScatterND / ScatterElements (no reduction): the overwritten entries get no gradient from data;
// updates get the gradient gathered at their indices.
function scatter(gatherOp: string, withAxis: boolean): GradientRule {
  return (node, b, [dy]) => {
    const [indices, updates] = [node.input(1), node.input(2)];
    const attributes: Record<string, number> = withAxis ? { axis: node.int('axis', 0) } : {};
    const opType = withAxis ? 'ScatterElements' : 'ScatterND';
    return [
      node.needs(0) ? b.op(opType, [dy!, indices, b.zerosLike(updates)], attributes) : null,
      null,
      node.needs(2) ? b.op(gatherOp, [dy!, indices], attributes) : null,
    ];
  };
}

// Expand: a broadcast, so the gradient is the broadcast reduction.
const expand: GradientRule = (node, b, [dy]) => [b.reduceTo(dy!, node.input(0)), null];

// Tile: view dy as [r0, d0, r1, d1, ...] and sum over the repeat axes.
const tile: GradientRule = (node, b, [dy]) => {
  const x = node.input(0);
  const rank = b.rank(x);
  const repeats = b.op('Unsqueeze', [asInt64(b, node.input(1)), b.int64([1])]);
  const sizes = b.op('Unsqueeze', [b.shapeOf(x), b.int64([1])]);
  const pairs = b.op('Concat', [repeats, sizes], { axis: 1 });
  const interleaved = b.op('Reshape', [dy!, b.op('Reshape', [pairs, b.int64([-1])])]);
  const axes = b.int64(Array.from({ length: rank }, (_, i) => 2 * i));
  return [b.op('ReduceSum', [interleaved, axes], { keepdims: 0 }), null];
};

// Pad (constant mode): padding by p is undone by padding by -p (negative pads crop).
const pad: GradientRule = (node, b, [dy]) => {
  const inputs = [dy!, b.neg(asInt64(b, node.input(1)))];
  if (node.has(3)) inputs.push('', node.input(3));
  return firstOnly(node, b.op('Pad', inputs, { mode: 'constant' }));
};

// DepthToSpace (DCR) and SpaceToDepth are inverse permutations of each other.
const depthToSpace: GradientRule = (node, b, [dy]) => [
  b.op('SpaceToDepth', [dy!], { blocksize: node.int('blocksize', 1) }),
];
const spaceToDepth: GradientRule = (node, b, [dy]) => [
  b.op('DepthToSpace', [dy!], { blocksize: node.int('blocksize', 1), mode: 'DCR' }),
];

// Trilu keeps a triangle: the same mask applies to the gradient.
const trilu: GradientRule = (node, b, [dy]) => {
  const inputs = node.has(1) ? [dy!, node.input(1)] : [dy!];
  return [b.op('Trilu', inputs, { upper: node.int('upper', 1) }), null];
};

/** Rules of data-movement operators, keyed by operator type. */
export const shapeRules: Readonly<Record<string, OperatorRule>> = {
  Reshape: { vjp: reshapeBack },
  Flatten: { vjp: reshapeBack },
  Squeeze: { vjp: reshapeBack },
  Unsqueeze: { vjp: reshapeBack },
  Transpose: { vjp: transpose },
  Concat: { vjp: concat },
  Split: { vjp: split },
  Slice: {
    vjp: slice,
    check: (node, ctx) =>
      sliceAxes(node, ctx) === null ? 'its axes input is not a constant' : null,
  },
  Gather: { vjp: gather },
  GatherElements: {
    vjp: gatherElements,
    check: (node) =>
      node.opset < 16 ? 'needs opset 16 (ScatterElements with reduction add)' : null,
  },
  GatherND: {
    vjp: gatherNd,
    check: (node) => {
      if (node.opset < 16) return 'needs opset 16 (ScatterND with reduction add)';
      return node.int('batch_dims', 0) !== 0 ? 'batch_dims other than 0' : null;
    },
  },
  ScatterND: {
    vjp: scatter('GatherND', false),
    check: (node) =>
      node.string('reduction', 'none') !== 'none' ? 'reduction other than none' : null,
  },
  ScatterElements: {
    vjp: scatter('GatherElements', true),
    check: (node) =>
      node.string('reduction', 'none') !== 'none' ? 'reduction other than none' : null,
  },
  Expand: { vjp: expand },
  Tile: { vjp: tile },
  Pad: {
    vjp: pad,
    check: (node) => {
      const mode = node.string('mode', 'constant');
      if (mode !== 'constant') return `mode '${mode}' (only 'constant' is differentiated)`;
      return onlyInputs(0)(node);
    },
  },
  DepthToSpace: {
    vjp: depthToSpace,
    check: (node) => (node.string('mode', 'DCR') !== 'DCR' ? "mode 'CRD'" : null),
  },
  SpaceToDepth: { vjp: spaceToDepth },
  Trilu: { vjp: trilu },
};
