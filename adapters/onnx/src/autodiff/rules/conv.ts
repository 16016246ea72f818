/**
 * Gradient rules of convolutions (any number of spatial axes; 1-D and 2-D are tested).
 *
 * For `y = Conv(x, W)` the input gradient is the transposed convolution of dy with the same W,
 * strides, pads, dilations and groups; `output_padding` restores the input rows that the
 * forward stride skipped. The weight gradient is the convolution of x with dy, with batch and
 * channel roles swapped and stride and dilation exchanged (groups of 1 only).
 */

import type { GradientBuilder } from '../graph-builder.js';
import { type Dim, type ShapeContext, isNumber } from '../rank-inference.js';
import { type GradientRule, type NodeView, type OperatorRule, onlyInputs } from './rule.js';

/** Convolution geometry with explicit pads, or the reason it cannot be made explicit. */
interface Geometry {
  readonly spatial: number;
  readonly strides: number[];
  readonly dilations: number[];
  /** `[begin..., end...]`, one begin and one end per spatial axis, as ONNX orders them. */
  readonly pads: number[];
  /** Static kernel sizes, where known. */
  readonly kernel: Dim[];
}

/** Reads a Conv node's geometry, resolving auto_pad when the spatial sizes are static. */
function geometry(node: NodeView, ctx: ShapeContext): Geometry | string {
  const x = ctx.dims(node.input(0));
  const w = ctx.dims(node.input(1));
  if (!x) return 'the rank of its input is unknown';
  const spatial = x.length - 2;
  const ones = new Array<number>(spatial).fill(1);
  const strides = node.ints('strides') ?? ones;
  const dilations = node.ints('dilations') ?? ones;
  const kernel: Dim[] = node.ints('kernel_shape') ?? w?.slice(2) ?? [];
  const autoPad = node.string('auto_pad', 'NOTSET');
  if (autoPad === 'NOTSET') {
    const pads = node.ints('pads') ?? new Array<number>(2 * spatial).fill(0);
    return { spatial, strides, dilations, pads, kernel };
  }
  if (autoPad === 'VALID') {
    return { spatial, strides, dilations, pads: new Array<number>(2 * spatial).fill(0), kernel };
  }
  const sizes = x.slice(2);
  if (!sizes.every(isNumber) || kernel.length !== spatial || !kernel.every(isNumber)) {
    return `auto_pad ${autoPad} with spatial sizes or kernel not static`;
  }
  const begin: number[] = [];
  const end: number[] = [];
  sizes.forEach((size, i) => {
    const out = Math.ceil(size / strides[i]);
    const total = Math.max((out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - size, 0);
    const small = Math.floor(total / 2);
    begin.push(autoPad === 'SAME_UPPER' ? small : total - small);
    end.push(autoPad === 'SAME_UPPER' ? total - small : small);
  });
  return { spatial, strides, dilations, pads: [...begin, ...end], kernel };
}

/** The spatial axes `[2, ..., rank)`. */
function spatialAxes(g: Geometry): number[] {
  return Array.from({ length: g.spatial }, (_, i) => i + 2);
}

/** Sum of dy over batch and spatial axes: the gradient of a per-channel bias. */
function biasGradient(b: GradientBuilder, dy: string, g: Geometry): string {
  return b.op('ReduceSum', [dy, b.int64([0, ...spatialAxes(g)])], { keepdims: 0 });
}

// dx = ConvTranspose(dy, W). Its output size is (o - 1) s + (k - 1) d + 1 - pads + output_padding,
// which is the input size for output_padding = (in + pads - (k - 1) d - 1) mod s. When the
// spatial sizes are not static, output_padding = s - 1 gives at least the input size, and a
// Slice trims the surplus rows (they lie past the input's end).
function inputGradient(node: NodeView, b: GradientBuilder, dy: string, g: Geometry): string {
  const [x, w] = [node.input(0), node.input(1)];
  const flipped = flippedConvGradient(node, b, dy, g);
  if (flipped) return flipped;
  const sizes = b.dims(x).slice(2);
  const statics =
    sizes.every(isNumber) && g.kernel.length === g.spatial && g.kernel.every(isNumber);
  const outputPadding = g.strides.map((s, i) => {
    if (!statics) return s - 1;
    const span = (sizes[i] as number) + g.pads[i] + g.pads[i + g.spatial];
    return (span - ((g.kernel[i] as number) - 1) * g.dilations[i] - 1) % s;
  });
  const transposed = b.op('ConvTranspose', [dy, w], {
    strides: g.strides,
    dilations: g.dilations,
    pads: g.pads,
    group: node.int('group', 1),
    output_padding: outputPadding,
  });
  if (statics || outputPadding.every((p) => p === 0)) return transposed;
  const axes = spatialAxes(g);
  const zeros = b.int64(axes.map(() => 0));
  return b.op('Slice', [transposed, zeros, b.dimsOf(x, 2, 2 + g.spatial), b.int64(axes)]);
}

// With stride 1 and one group, ConvTranspose(dy, W), W [M, C, k...], is a plain convolution of
// dy with W's channels swapped and its taps reversed, padded by (k - 1) d - p on each side; its
// output has the input's size exactly. ONNX Runtime's Conv is the faster kernel where the
// forward convolution has more input than output channels (measured on Glow's 32 -> 4 coupling
// conv).
function flippedConvGradient(
  node: NodeView,
  b: GradientBuilder,
  dy: string,
  g: Geometry,
): string | null {
  const w = node.input(1);
  const [outChannels, inChannels] = b.dims(w);
  if (node.int('group', 1) !== 1 || g.strides.some((s) => s !== 1)) return null;
  if (!g.kernel.every(isNumber) || g.kernel.length !== g.spatial) return null;
  if (!isNumber(outChannels) || !isNumber(inChannels) || inChannels <= outChannels) return null;
  const pads = g.pads.map(
    (p, i) => ((g.kernel[i % g.spatial] as number) - 1) * g.dilations[i % g.spatial] - p,
  );
  if (pads.some((p) => p < 0)) return null;
  const axes = spatialAxes(g);
  const swapped = b.op('Transpose', [w], { perm: [1, 0, ...axes] });
  const reversed = b.op('Slice', [
    swapped,
    b.int64(axes.map(() => -1)),
    b.int64(axes.map(() => Number.MIN_SAFE_INTEGER)),
    b.int64(axes),
    b.int64(axes.map(() => -1)),
  ]);
  return b.op('Conv', [dy, reversed], { dilations: g.dilations, pads, group: 1 });
}

// dW[m, c, j] = sum_n sum_o dy[n, m, o] x_padded[n, c, o s + j d]: a convolution of x^T [C, N, ...]
// with dy^T [M, N, ...] as the kernel, stride d and dilation s, sliced to the kernel size.
function weightGradient(node: NodeView, b: GradientBuilder, dy: string, g: Geometry): string {
  const [x, w] = [node.input(0), node.input(1)];
  const swap = [1, 0, ...spatialAxes(g)];
  const product = b.op(
    'Conv',
    [b.op('Transpose', [x], { perm: swap }), b.op('Transpose', [dy], { perm: swap })],
    { strides: g.dilations, dilations: g.strides, pads: g.pads, group: 1 },
  );
  const axes = spatialAxes(g);
  const kernel = b.op('Slice', [
    product,
    b.int64(axes.map(() => 0)),
    b.dimsOf(w, 2, 2 + g.spatial),
    b.int64(axes),
  ]);
  return b.op('Transpose', [kernel], { perm: swap });
}

const conv: GradientRule = (node, b, [dy]) => {
  const g = geometry(node, b.ctx) as Geometry;
  return [
    node.needs(0) ? inputGradient(node, b, dy!, g) : null,
    node.needs(1) ? weightGradient(node, b, dy!, g) : null,
    node.needs(2) ? biasGradient(b, dy!, g) : null,
  ];
};

// ConvTranspose is the adjoint of Conv with the same W and geometry, so dx = Conv(dy, W).
const convTranspose: GradientRule = (node, b, [dy]) => {
  const g = geometry(node, b.ctx) as Geometry;
  const dx = b.op('Conv', [dy!, node.input(1)], {
    strides: g.strides,
    dilations: g.dilations,
    pads: g.pads,
    group: node.int('group', 1),
  });
  return [node.needs(0) ? dx : null, null, node.needs(2) ? biasGradient(b, dy!, g) : null];
};

/** Rules of convolutions, keyed by operator type. */
export const convRules: Readonly<Record<string, OperatorRule>> = {
  Conv: {
    vjp: conv,
    check: (node, ctx) => {
      const g = geometry(node, ctx);
      if (typeof g === 'string') return g;
      if (node.needs(1) && node.int('group', 1) !== 1) {
        return 'weight gradient with group > 1 (the weight depends on the input)';
      }
      return null;
    },
  },
  ConvTranspose: {
    vjp: convTranspose,
    check: (node, ctx) => {
      const autoPad = node.string('auto_pad', 'NOTSET');
      if (autoPad !== 'NOTSET' && autoPad !== 'VALID') return `auto_pad ${autoPad}`;
      if (node.ints('output_shape')) return 'output_shape attribute';
      const g = geometry(node, ctx);
      return typeof g === 'string' ? g : onlyInputs(0, 2)(node);
    },
  },
};
