/**
 * Gradient rules of reductions (`ReduceSum`, `ReduceMean`, `ReduceMax`...) and `CumSum`.
 *
 * The reduced axes come from the `axes` attribute (ReduceMean and the others before opset 18) or
 * input (ReduceSum from opset 13, all of them from 18), and may be computed in the graph. With
 * `keepdims = 0` the reduced axes are put back with `Unsqueeze` on those same axes, so the
 * cotangent broadcasts against the input again.
 */

import type { GradientBuilder } from '../graph-builder.js';
import type { GradientRule, NodeView, OperatorRule } from './rule.js';

/** The reduced axes as a tensor, or `null` when absent (every axis, or none with noop). */
function axesOf(node: NodeView, b: GradientBuilder): string | null {
  if (node.opType === 'ReduceSum' || node.opset >= 18) return node.has(1) ? node.input(1) : null;
  const axes = node.ints('axes');
  return axes ? b.int64(axes) : null;
}

/** A tensor shaped like the reduction's output, given back its reduced axes (as size 1). */
function restore(node: NodeView, b: GradientBuilder, t: string): string {
  const axes = axesOf(node, b);
  if (node.int('keepdims', 1) === 1 || axes === null) return t;
  return b.op('Unsqueeze', [t, axes]);
}

/** dy broadcast back to the input's shape. */
function spread(node: NodeView, b: GradientBuilder, dy: string): string {
  return b.op('Expand', [restore(node, b, dy), b.shapeOf(node.input(0))]);
}

/** Returns `[dx]` followed by `null` for the axes input, if any. */
function result(node: NodeView, dx: string): (string | null)[] {
  return Array.from({ length: node.inputCount }, (_, i) => (i === 0 ? dx : null));
}

const reduceSum: GradientRule = (node, b, [dy]) => result(node, spread(node, b, dy!));

// ReduceMean: the sum's gradient divided by the number of elements averaged, Size(x) / Size(y).
const reduceMean: GradientRule = (node, b, [dy]) => {
  const [x, y] = [node.input(0), node.output(0)];
  const count = b.castLike(b.div(b.op('Size', [x]), b.op('Size', [y])), dy!);
  return result(node, b.div(spread(node, b, dy!), count));
};

// ReduceMax/Min: the gradient goes to the elements equal to the extremum, split evenly between
// ties (as torch.amax/amin do).
const reduceExtremum: GradientRule = (node, b, [dy]) => {
  const [x, y] = [node.input(0), node.output(0)];
  const mask = b.castLike(b.op('Equal', [x, restore(node, b, y)]), x);
  const axes = axesOf(node, b);
  const count = b.op('ReduceSum', axes ? [mask, axes] : [mask], {
    keepdims: 1,
    noop_with_empty_axes: node.int('noop_with_empty_axes', 0),
  });
  return result(node, b.div(b.mul(mask, restore(node, b, dy!)), count));
};

// ReduceSumSquare: d sum(x^2) = 2 x.
const reduceSumSquare: GradientRule = (node, b, [dy]) => {
  const x = node.input(0);
  return result(node, b.mul(b.mul(x, b.scalar(2, x)), restore(node, b, dy!)));
};

const reduceL1: GradientRule = (node, b, [dy]) => {
  const x = node.input(0);
  return result(node, b.mul(b.op('Sign', [x]), restore(node, b, dy!)));
};

// ReduceL2: d |x| = x / |x|, taken as 0 where |x| = 0 (PyTorch's norm subgradient).
const reduceL2: GradientRule = (node, b, [dy]) => {
  const [x, y] = [node.input(0), node.output(0)];
  const zero = b.scalar(0, y);
  const ratio = b.op('Where', [b.op('Equal', [y, zero]), zero, b.div(dy!, y)]);
  return result(node, b.mul(x, restore(node, b, ratio)));
};

// ReduceLogSumExp: the gradient is the softmax of x over the reduced axes.
const reduceLogSumExp: GradientRule = (node, b, [dy]) => {
  const [x, y] = [node.input(0), node.output(0)];
  const weights = b.op('Exp', [b.sub(x, restore(node, b, y))]);
  return result(node, b.mul(weights, restore(node, b, dy!)));
};

// ReduceLogSum: y = log(sum x), dx = dy / exp(y) = dy / sum x.
const reduceLogSum: GradientRule = (node, b, [dy]) => {
  const y = node.output(0);
  return result(node, spread(node, b, b.div(dy!, b.op('Exp', [y]))));
};

// CumSum: the adjoint of a prefix sum is the suffix sum (same exclusivity, reversed direction).
const cumSum: GradientRule = (node, b, [dy]) => [
  b.op('CumSum', [dy!, node.input(1)], {
    exclusive: node.int('exclusive', 0),
    reverse: 1 - node.int('reverse', 0),
  }),
  null,
];

/** Rules of reductions, keyed by operator type. */
export const reduceRules: Readonly<Record<string, OperatorRule>> = {
  ReduceSum: { vjp: reduceSum },
  ReduceMean: { vjp: reduceMean },
  ReduceMax: { vjp: reduceExtremum },
  ReduceMin: { vjp: reduceExtremum },
  ReduceSumSquare: { vjp: reduceSumSquare },
  ReduceL1: { vjp: reduceL1 },
  ReduceL2: { vjp: reduceL2 },
  ReduceLogSumExp: { vjp: reduceLogSumExp },
  ReduceLogSum: { vjp: reduceLogSum },
  CumSum: { vjp: cumSum },
};
