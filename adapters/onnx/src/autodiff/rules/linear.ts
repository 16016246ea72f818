/**
 * Gradient rules of linear maps: `MatMul` (numpy semantics: batched, broadcasting, 1-D
 * operands), `Gemm`, and inference-mode `BatchNormalization` (a per-channel affine map).
 */

import type { GradientBuilder } from '../graph-builder.js';
import { type GradientRule, type OperatorRule, onlyInputs } from './rule.js';

/** Swaps the last two axes of a tensor of rank >= 2. */
function swapLast(b: GradientBuilder, x: string): string {
  const rank = b.rank(x);
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return b.op('Transpose', [x], { perm });
}

// Y = A B with A [..., m, k], B [..., k, n]: dA = dY B^T and dB = A^T dY, each reduced over the
// batch axes it was broadcast along. A 1-D A is the row [1, k] and a 1-D B the column [k, 1],
// whose added axis Y lacks; dY gets it back first.
const matMul: GradientRule = (node, b, [dy]) => {
  const [a, c] = [node.input(0), node.input(1)];
  const [ra, rc] = [b.rank(a), b.rank(c)];
  let g = dy!;
  if (ra === 1 && rc === 1) g = b.op('Reshape', [g, b.int64([1, 1])]);
  else if (ra === 1) g = b.op('Unsqueeze', [g, b.int64([-2])]);
  else if (rc === 1) g = b.op('Unsqueeze', [g, b.int64([-1])]);

  let da: string | null = null;
  let dc: string | null = null;
  if (node.needs(0)) {
    const column = rc === 1 ? b.op('Unsqueeze', [c, b.int64([0])]) : swapLast(b, c);
    // [..., m, k]; for a 1-D A, m = 1 is a leading axis of size 1 that reduceTo squeezes.
    da = b.reduceTo(b.op('MatMul', [g, column]), a);
  }
  if (node.needs(1)) {
    const row = ra === 1 ? b.op('Unsqueeze', [a, b.int64([1])]) : swapLast(b, a);
    let product = b.op('MatMul', [row, g]);
    if (rc === 1) product = b.op('Squeeze', [product, b.int64([-1])]);
    dc = b.reduceTo(product, c);
  }
  return [da, dc];
};

// Y = alpha A' B' + beta C, A' = A or A^T, B' = B or B^T. With dA' = alpha dY B'^T and
// dB' = alpha A'^T dY, each gradient is again one Gemm, transposed when the input was.
const gemm: GradientRule = (node, b, [dy]) => {
  const [a, c, bias] = [node.input(0), node.input(1), node.input(2)];
  const alpha = node.float('alpha', 1);
  const beta = node.float('beta', 1);
  const transA = node.int('transA', 0);
  const transB = node.int('transB', 0);
  const scaled = { alpha: { float: alpha } };

  let da: string | null = null;
  if (node.needs(0)) {
    da = transA
      ? b.op('Gemm', [c, dy!], { ...scaled, transA: transB, transB: 1 })
      : b.op('Gemm', [dy!, c], { ...scaled, transA: 0, transB: transB ? 0 : 1 });
  }
  let dc: string | null = null;
  if (node.needs(1)) {
    dc = transB
      ? b.op('Gemm', [dy!, a], { ...scaled, transA: 1, transB: transA })
      : b.op('Gemm', [a, dy!], { ...scaled, transA: transA ? 0 : 1, transB: 0 });
  }
  let dBias: string | null = null;
  if (node.needs(2)) {
    const g = beta === 1 ? dy! : b.mul(dy!, b.scalar(beta, dy!));
    dBias = b.reduceTo(g, bias);
  }
  return [da, dc, dBias];
};

// Inference-mode BatchNormalization, y = (x - mean) scale / sqrt(var + eps) + B per channel (axis
// 1): dx = dy scale / sqrt(var + eps), the factor shaped [C, 1, ..., 1] to broadcast.
const batchNormalization: GradientRule = (node, b, [dy]) => {
  const [x, scale, variance] = [node.input(0), node.input(1), node.input(4)];
  const epsilon = b.scalar(node.float('epsilon', 1e-5), variance);
  const factor = b.div(scale, b.op('Sqrt', [b.add(variance, epsilon)]));
  const shape = [-1, ...new Array<number>(b.rank(x) - 2).fill(1)];
  const dx = b.mul(dy!, b.op('Reshape', [factor, b.int64(shape)]));
  return [dx, null, null, null, null];
};

/** Rules of linear maps, keyed by operator type. */
export const linearRules: Readonly<Record<string, OperatorRule>> = {
  MatMul: { vjp: matMul },
  Gemm: { vjp: gemm },
  BatchNormalization: {
    vjp: batchNormalization,
    check: (node) =>
      node.int('training_mode', 0) !== 0 || node.outputCount > 1
        ? 'training mode (batch statistics); export the model in eval mode'
        : onlyInputs(0)(node),
  },
};
