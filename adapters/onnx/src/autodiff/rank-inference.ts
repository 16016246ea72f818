/**
 * Rank and element-type inference over an ONNX graph, with symbolic dimensions.
 *
 * Exported flows have static ranks even when the batch is dynamic, so the gradient builder needs
 * ranks, not shapes: whatever depends on the batch is computed at run time with `Shape`. This
 * pass still tracks each dimension as a number or a symbol, because two tensors whose dimensions
 * are the same symbol have the same run-time shape, which lets the builder skip a broadcast
 * reduction. A symbol is either a `dim_param` of a graph input (`param:batch`) or a fresh `?n`
 * standing for one unknown dimension, so a symbol is never shared by dimensions that could
 * differ. Small integer tensors (axes, pads, target shapes) also get their element values,
 * numbers or symbols, so that `Shape -> Gather -> Concat -> Reshape` chains keep their dims.
 */

import { OnnxAutodiffError } from './errors.js';
import {
  type onnx,
  DataType,
  attrInt,
  attrInts,
  attrString,
  findAttribute,
  isFloatType,
  readTensor,
  toNumber,
} from './proto.js';

/** One dimension: a number when static, a symbol (equal symbols, equal sizes) otherwise. */
export type Dim = number | string;

/** What the pass knows of a tensor: element type and dimensions, `null` where unknown. */
export interface TensorInfo {
  /** Element type (`TensorProto.DataType`), or `null` when unknown. */
  readonly dtype: number | null;
  /** Dimensions, whose length is the rank, or `null` when the rank is unknown. */
  readonly dims: readonly Dim[] | null;
}

/** Tensors with at most this many elements get their values tracked. */
const MAX_TRACKED_VALUES = 64;

/** The state of the inference: infos and small values of every tensor seen so far. */
export class ShapeContext {
  readonly infos = new Map<string, TensorInfo>();
  readonly values = new Map<string, readonly Dim[]>();
  /** Types declared by the model (`value_info`, outputs), used where inference knows nothing. */
  readonly declared = new Map<string, TensorInfo>();
  private counter = 0;

  constructor(readonly opset: number) {}

  /** A symbol that no other dimension has. */
  fresh(): string {
    this.counter += 1;
    return `?${this.counter}`;
  }

  /** The info of a tensor, or `undefined` when unknown or when the name is empty. */
  info(name: string | undefined): TensorInfo | undefined {
    return name ? this.infos.get(name) : undefined;
  }

  /** Dims of a tensor, or `null`. */
  dims(name: string | undefined): readonly Dim[] | null {
    return this.info(name)?.dims ?? null;
  }

  /** Element values of a small tensor, numbers or symbols, or `null` when unknown. */
  valuesOf(name: string | undefined): readonly Dim[] | null {
    return name ? (this.values.get(name) ?? null) : null;
  }

  /** Element values of a small tensor when they are all numbers, else `null`. */
  numbersOf(name: string | undefined): number[] | null {
    const values = this.valuesOf(name);
    if (!values || !values.every(isNumber)) return null;
    return values as number[];
  }

  /** Records a tensor given by the model: graph input or initializer. */
  setTensor(name: string, info: TensorInfo, values?: readonly Dim[] | null): void {
    this.infos.set(name, info);
    if (values && values.length <= MAX_TRACKED_VALUES) this.values.set(name, values);
  }

  /** Converts a `TypeProto` to an info; `dim_param`s become `param:` symbols when `shared`. */
  fromType(type: onnx.ITypeProto | null | undefined, shared: boolean): TensorInfo {
    const tensorType = type?.tensorType;
    if (!tensorType) return { dtype: null, dims: null };
    const dtype = tensorType.elemType ? tensorType.elemType : null;
    if (!tensorType.shape) return { dtype, dims: null };
    const dims = (tensorType.shape.dim ?? []).map((dim): Dim => {
      if (dim.dimParam) return shared ? `param:${dim.dimParam}` : this.fresh();
      const value = toNumber(dim.dimValue);
      return value > 0 ? value : this.fresh();
    });
    return { dtype, dims };
  }
}

/** Whether a dim is a static number. */
export function isNumber(dim: Dim): dim is number {
  return typeof dim === 'number';
}

/** Whether two dim lists are known to be equal at run time. */
export function sameDims(a: readonly Dim[] | null, b: readonly Dim[] | null): boolean {
  return a !== null && b !== null && a.length === b.length && a.every((dim, i) => dim === b[i]);
}

/** The broadcast of two dims, a fresh symbol when it cannot be told statically. */
function broadcastDim(a: Dim, b: Dim, ctx: ShapeContext): Dim {
  if (a === b) return a;
  if (a === 1) return b;
  if (b === 1) return a;
  if (isNumber(a) && !isNumber(b)) return a;
  if (isNumber(b) && !isNumber(a)) return b;
  return ctx.fresh();
}

/** Multidirectional (numpy) broadcast of several dim lists; `null` if any rank is unknown. */
export function broadcastDims(
  list: readonly (readonly Dim[] | null)[],
  ctx: ShapeContext,
): Dim[] | null {
  if (list.some((dims) => dims === null)) return null;
  const all = list as readonly (readonly Dim[])[];
  const rank = Math.max(0, ...all.map((dims) => dims.length));
  const out: Dim[] = [];
  for (let axis = 0; axis < rank; axis++) {
    let dim: Dim = 1;
    for (const dims of all) {
      const index = axis - (rank - dims.length);
      if (index >= 0) dim = broadcastDim(dim, dims[index], ctx);
    }
    out.push(dim);
  }
  return out;
}

/** Normalises a possibly negative axis of a tensor of rank `rank`. */
export function normalizeAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** Product of dims: a number when all are numbers, else a fresh symbol (or the single symbol). */
function productDim(dims: readonly Dim[], ctx: ShapeContext): Dim {
  const symbols = dims.filter((dim) => !isNumber(dim));
  const number = (dims.filter(isNumber) as number[]).reduce((a, b) => a * b, 1);
  if (symbols.length === 0) return number;
  if (symbols.length === 1 && number === 1) return symbols[0];
  return ctx.fresh();
}

/** Dims of a `Reshape` output from the input dims and the target values (0 copies, -1 infers). */
function reshapeDims(
  input: readonly Dim[] | null,
  target: readonly Dim[],
  allowZero: boolean,
  ctx: ShapeContext,
): Dim[] {
  const out = target.map((dim, i): Dim => {
    if (dim === 0 && !allowZero) return input && i < input.length ? input[i] : ctx.fresh();
    return dim;
  });
  const inferred = out.indexOf(-1);
  if (inferred < 0) return out;
  if (!input) {
    out[inferred] = ctx.fresh();
    return out;
  }

  // Cancel the symbols of the known target dims against the input's, then divide the numbers.
  const remaining = input.filter((dim) => !isNumber(dim)) as string[];
  let numerator = (input.filter(isNumber) as number[]).reduce((a, b) => a * b, 1);
  let denominator = 1;
  let exact = true;
  out.forEach((dim, i) => {
    if (i === inferred) return;
    if (isNumber(dim)) {
      denominator *= dim;
    } else {
      const index = remaining.indexOf(dim);
      if (index >= 0) remaining.splice(index, 1);
      else exact = false;
    }
  });
  if (!exact || denominator === 0 || numerator % denominator !== 0) {
    out[inferred] = ctx.fresh();
    return out;
  }
  numerator /= denominator;
  if (remaining.length === 0) out[inferred] = numerator;
  else if (remaining.length === 1 && numerator === 1) out[inferred] = remaining[0];
  else out[inferred] = ctx.fresh();
  return out;
}

/** Spatial output size of a convolution or pooling along one axis, or a fresh symbol. */
function convOutputDim(
  input: Dim,
  kernel: Dim,
  stride: number,
  dilation: number,
  padBegin: number,
  padEnd: number,
  autoPad: string,
  ctx: ShapeContext,
): Dim {
  if (!isNumber(input)) return ctx.fresh();
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return Math.ceil(input / stride);
  if (!isNumber(kernel)) return ctx.fresh();
  const pads = autoPad === 'VALID' ? 0 : padBegin + padEnd;
  return Math.floor((input + pads - dilation * (kernel - 1) - 1) / stride) + 1;
}

/** Reads the axes of a reduction: attribute before opset 18 (13 for ReduceSum), else input 1. */
function reduceAxes(node: onnx.INodeProto, ctx: ShapeContext): number[] | null | 'absent' {
  const fromInput = node.opType === 'ReduceSum' || ctx.opset >= 18;
  if (!fromInput) return attrInts(node, 'axes') ?? 'absent';
  const name = node.input?.[1];
  if (!name) return 'absent';
  return ctx.numbersOf(name);
}

/** Element-wise arithmetic on tracked values (shape arithmetic), numbers only. */
function arithmetic(op: string, a: readonly Dim[], b: readonly Dim[], ctx: ShapeContext): Dim[] {
  const length = Math.max(a.length, b.length);
  if (a.length !== length && a.length !== 1) return [];
  if (b.length !== length && b.length !== 1) return [];
  const out: Dim[] = [];
  for (let i = 0; i < length; i++) {
    const x = a[a.length === 1 ? 0 : i];
    const y = b[b.length === 1 ? 0 : i];
    if (!isNumber(x) || !isNumber(y)) {
      if (op === 'Mul' && (x === 1 || y === 1)) out.push(x === 1 ? y : x);
      else if ((op === 'Add' || op === 'Sub') && y === 0) out.push(x);
      else out.push(ctx.fresh());
      continue;
    }
    if (op === 'Add') out.push(x + y);
    else if (op === 'Sub') out.push(x - y);
    else if (op === 'Mul') out.push(x * y);
    else out.push(y === 0 ? ctx.fresh() : Math.trunc(x / y));
  }
  return out;
}

/** The set of the whitespace-separated words of a text. */
function words(text: string): ReadonlySet<string> {
  return new Set(text.trim().split(/\s+/));
}

/** Operators whose (first) output has the type and dims of their first input. */
const SAME_SHAPE = words(`
  Identity Neg Exp Log Sqrt Abs Tanh Sigmoid Relu LeakyRelu Elu Selu Softplus Softsign Erf Sin
  Cos Tan Asin Acos Atan Sinh Cosh Asinh Acosh Atanh Reciprocal Floor Ceil Round Sign Clip
  Softmax LogSoftmax Hardmax HardSigmoid HardSwish Mish Gelu Celu ThresholdedRelu CumSum Trilu
  BatchNormalization InstanceNormalization LayerNormalization LpNormalization
  MeanVarianceNormalization Shrink PRelu ScatterND ScatterElements Scatter Bernoulli BitwiseNot
`);
/** Operators whose output has the dims of their input, boolean. */
const SAME_SHAPE_BOOL = words(`
  Not IsNaN IsInf
`);
/** Operators whose output is the numpy broadcast of their inputs, typed like the first. */
const BROADCAST = words(`
  Add Sub Mul Div Pow Max Min Sum Mean Mod BitShift BitwiseAnd BitwiseOr BitwiseXor
`);
/** Broadcasting comparisons and logic, boolean output. */
const BROADCAST_BOOL = words(`
  Equal Less LessOrEqual Greater GreaterOrEqual And Or Xor
`);
/** Reductions (keepdims, axes as attribute or input). */
const REDUCE = words(`
  ReduceSum ReduceMean ReduceMax ReduceMin ReduceProd ReduceSumSquare ReduceL1 ReduceL2
  ReduceLogSum ReduceLogSumExp
`);

/**
 * Infers the outputs of one node from the infos of its inputs and records them in `ctx`.
 * Unknown operators and unknown inputs give unknown outputs, never an error.
 */
export function inferNode(node: onnx.INodeProto, ctx: ShapeContext): void {
  const outputs = node.output ?? [];
  const inferred = inferOutputs(node, ctx);
  outputs.forEach((name, i) => {
    if (!name) return;
    const mine = inferred[i] ?? { dtype: null, dims: null };
    const declared = ctx.declared.get(name);
    ctx.infos.set(name, {
      dtype: mine.dtype ?? declared?.dtype ?? null,
      dims: mine.dims ?? declared?.dims ?? null,
    });
  });
}

function inferOutputs(node: onnx.INodeProto, ctx: ShapeContext): (TensorInfo | undefined)[] {
  const op = node.opType ?? '';
  const domain = node.domain ?? '';
  if (domain !== '' && domain !== 'ai.onnx') return [];
  const inputs = node.input ?? [];
  const outputs = node.output ?? [];
  const input = (i: number): TensorInfo | undefined => ctx.info(inputs[i]);
  const dtype = (i: number): number | null => input(i)?.dtype ?? null;
  const dims = (i: number): readonly Dim[] | null => input(i)?.dims ?? null;
  const setValues = (values: readonly Dim[] | null): void => {
    if (values && values.length <= MAX_TRACKED_VALUES && outputs[0]) {
      ctx.values.set(outputs[0], values);
    }
  };
  const same = (): TensorInfo[] => [{ dtype: dtype(0), dims: dims(0) }];

  if (SAME_SHAPE.has(op)) {
    if (op === 'Identity') setValues(ctx.valuesOf(inputs[0]));
    return same();
  }
  if (SAME_SHAPE_BOOL.has(op)) return [{ dtype: DataType.BOOL, dims: dims(0) }];
  if (BROADCAST.has(op) || BROADCAST_BOOL.has(op)) {
    const out = broadcastDims(
      inputs.filter((name) => name).map((name) => ctx.dims(name)),
      ctx,
    );
    if (['Add', 'Sub', 'Mul', 'Div'].includes(op)) {
      const a = ctx.valuesOf(inputs[0]);
      const b = ctx.valuesOf(inputs[1]);
      if (a && b && (dtype(0) === DataType.INT64 || dtype(0) === DataType.INT32)) {
        const values = arithmetic(op, a, b, ctx);
        if (values.length > 0) setValues(values);
      }
    }
    return [{ dtype: BROADCAST_BOOL.has(op) ? DataType.BOOL : dtype(0), dims: out }];
  }
  if (REDUCE.has(op)) return [reduceInfo(node, ctx)];

  switch (op) {
    case 'Dropout':
      return [...same(), { dtype: DataType.BOOL, dims: dims(0) }];
    case 'Constant':
      return [constantInfo(node, ctx)];
    case 'Shape': {
      const d = dims(0);
      if (!d) return [{ dtype: DataType.INT64, dims: null }];
      const rank = d.length;
      const clamp = (v: number): number => Math.min(Math.max(normalizeAxis(v, rank), 0), rank);
      const start = clamp(attrInt(node, 'start', 0));
      const end = clamp(attrInt(node, 'end', rank));
      const values = d.slice(start, Math.max(start, end));
      setValues(values);
      return [{ dtype: DataType.INT64, dims: [values.length] }];
    }
    case 'Size': {
      const d = dims(0);
      if (d) setValues([productDim(d, ctx)]);
      return [{ dtype: DataType.INT64, dims: [] }];
    }
    case 'Cast': {
      const to = attrInt(node, 'to', 0);
      const values = ctx.valuesOf(inputs[0]);
      const integral = to !== 0 && !isFloatType(to) && dtype(0) !== null && isFloatType(dtype(0)!);
      setValues(integral && values ? values.map((v) => (isNumber(v) ? Math.trunc(v) : v)) : values);
      return [{ dtype: to || null, dims: dims(0) }];
    }
    case 'CastLike':
      setValues(ctx.valuesOf(inputs[0]));
      return [{ dtype: dtype(1), dims: dims(0) }];
    case 'ConstantOfShape': {
      const shape = dims(0);
      const value = findAttribute(node, 'value')?.t;
      const outType = value?.dataType ?? DataType.FLOAT;
      const target = ctx.valuesOf(inputs[0]);
      if (target) {
        const fill = value ? (readTensor(value) ?? [0])[0] : 0;
        const size = target.every(isNumber) ? (target as number[]).reduce((a, b) => a * b, 1) : -1;
        if (size >= 0 && size <= MAX_TRACKED_VALUES) setValues(new Array<Dim>(size).fill(fill));
        return [{ dtype: outType, dims: [...target] }];
      }
      if (shape && isNumber(shape[0])) {
        return [{ dtype: outType, dims: Array.from({ length: shape[0] }, () => ctx.fresh()) }];
      }
      return [{ dtype: outType, dims: null }];
    }
    case 'Range': {
      const [start, limit, delta] = [0, 1, 2].map((i) => ctx.numbersOf(inputs[i])?.[0]);
      if (start !== undefined && limit !== undefined && delta !== undefined && delta !== 0) {
        const count = Math.max(Math.ceil((limit - start) / delta), 0);
        if (count <= MAX_TRACKED_VALUES) {
          setValues(Array.from({ length: count }, (_, i) => start + i * delta));
        }
        return [{ dtype: dtype(0), dims: [count] }];
      }
      return [{ dtype: dtype(0), dims: [ctx.fresh()] }];
    }
    case 'EyeLike':
      return [{ dtype: attrInt(node, 'dtype', 0) || dtype(0), dims: dims(0) }];
    case 'RandomNormalLike':
    case 'RandomUniformLike':
      return [{ dtype: attrInt(node, 'dtype', 0) || dtype(0), dims: dims(0) }];
    case 'RandomNormal':
    case 'RandomUniform': {
      const shape = attrInts(node, 'shape');
      return [{ dtype: attrInt(node, 'dtype', DataType.FLOAT), dims: shape }];
    }
    case 'Where':
      return [{ dtype: dtype(1), dims: broadcastDims([dims(0), dims(1), dims(2)], ctx) }];
    case 'Reshape': {
      const shapeDims = dims(1);
      const target = ctx.valuesOf(inputs[1]);
      const allowZero = attrInt(node, 'allowzero', 0) === 1;
      setValues(ctx.valuesOf(inputs[0]));
      if (target) return [{ dtype: dtype(0), dims: reshapeDims(dims(0), target, allowZero, ctx) }];
      if (shapeDims && isNumber(shapeDims[0])) {
        return [{ dtype: dtype(0), dims: Array.from({ length: shapeDims[0] }, () => ctx.fresh()) }];
      }
      return [{ dtype: dtype(0), dims: null }];
    }
    case 'Flatten': {
      const d = dims(0);
      if (!d) return [{ dtype: dtype(0), dims: null }];
      const axis = normalizeAxis(attrInt(node, 'axis', 1), d.length);
      setValues(ctx.valuesOf(inputs[0]));
      return [
        {
          dtype: dtype(0),
          dims: [productDim(d.slice(0, axis), ctx), productDim(d.slice(axis), ctx)],
        },
      ];
    }
    case 'Squeeze': {
      const d = dims(0);
      setValues(ctx.valuesOf(inputs[0]));
      if (!d) return [{ dtype: dtype(0), dims: null }];
      const axesName = ctx.opset >= 13 ? inputs[1] : undefined;
      const axes = axesName ? ctx.numbersOf(axesName) : attrInts(node, 'axes');
      if (axes) {
        const drop = new Set(axes.map((axis) => normalizeAxis(axis, d.length)));
        return [{ dtype: dtype(0), dims: d.filter((_, i) => !drop.has(i)) }];
      }
      if (axesName) {
        const count = ctx.dims(axesName)?.[0];
        if (count !== undefined && isNumber(count)) {
          return [
            { dtype: dtype(0), dims: Array.from({ length: d.length - count }, () => ctx.fresh()) },
          ];
        }
        return [{ dtype: dtype(0), dims: null }];
      }
      if (d.every(isNumber)) return [{ dtype: dtype(0), dims: d.filter((dim) => dim !== 1) }];
      return [{ dtype: dtype(0), dims: null }];
    }
    case 'Unsqueeze': {
      const d = dims(0);
      setValues(ctx.valuesOf(inputs[0]));
      if (!d) return [{ dtype: dtype(0), dims: null }];
      const axesName = ctx.opset >= 13 ? inputs[1] : undefined;
      const axes = axesName ? ctx.numbersOf(axesName) : attrInts(node, 'axes');
      if (axes) {
        const rank = d.length + axes.length;
        const insert = new Set(axes.map((axis) => normalizeAxis(axis, rank)));
        const out: Dim[] = [];
        let next = 0;
        for (let i = 0; i < rank; i++) out.push(insert.has(i) ? 1 : d[next++]);
        return [{ dtype: dtype(0), dims: out }];
      }
      const count = axesName ? ctx.dims(axesName)?.[0] : undefined;
      if (count !== undefined && isNumber(count)) {
        return [
          { dtype: dtype(0), dims: Array.from({ length: d.length + count }, () => ctx.fresh()) },
        ];
      }
      return [{ dtype: dtype(0), dims: null }];
    }
    case 'Transpose': {
      const d = dims(0);
      if (!d) return [{ dtype: dtype(0), dims: null }];
      const perm = attrInts(node, 'perm') ?? d.map((_, i) => d.length - 1 - i);
      return [{ dtype: dtype(0), dims: perm.map((axis) => d[axis]) }];
    }
    case 'Concat': {
      const all = inputs.filter((name) => name).map((name) => ctx.dims(name));
      if (all.some((d) => d === null) || all.length === 0) return [{ dtype: dtype(0), dims: null }];
      const list = all as (readonly Dim[])[];
      const rank = list[0].length;
      const axis = normalizeAxis(attrInt(node, 'axis', 0), rank);
      const out: Dim[] = [];
      for (let i = 0; i < rank; i++) {
        if (i === axis) {
          const parts = list.map((d) => d[i]);
          out.push(
            parts.every(isNumber) ? (parts as number[]).reduce((a, b) => a + b, 0) : ctx.fresh(),
          );
        } else {
          out.push(list.map((d) => d[i]).find(isNumber) ?? list[0][i]);
        }
      }
      if (rank === 1) {
        const values = inputs.filter((name) => name).map((name) => ctx.valuesOf(name));
        if (values.every((v) => v !== null)) setValues((values as Dim[][]).flat());
      }
      return [{ dtype: dtype(0), dims: out }];
    }
    case 'Split':
      return splitInfo(node, ctx);
    case 'Slice':
      return [sliceInfo(node, ctx)];
    case 'Gather': {
      const data = dims(0);
      const indices = dims(1);
      if (!data || !indices) return [{ dtype: dtype(0), dims: null }];
      const axis = normalizeAxis(attrInt(node, 'axis', 0), data.length);
      const values = ctx.valuesOf(inputs[0]);
      const picks = ctx.numbersOf(inputs[1]);
      if (values && picks && data.length === 1 && isNumber(data[0])) {
        const length = data[0];
        const picked = picks.map((i) => values[i < 0 ? i + length : i]);
        if (picked.every((v) => v !== undefined)) setValues(picked);
      }
      return [
        { dtype: dtype(0), dims: [...data.slice(0, axis), ...indices, ...data.slice(axis + 1)] },
      ];
    }
    case 'GatherElements':
      return [{ dtype: dtype(0), dims: dims(1) }];
    case 'GatherND': {
      const data = dims(0);
      const indices = dims(1);
      const last = indices?.[indices.length - 1];
      if (!data || !indices || last === undefined || !isNumber(last)) {
        return [{ dtype: dtype(0), dims: null }];
      }
      const batch = attrInt(node, 'batch_dims', 0);
      return [{ dtype: dtype(0), dims: [...indices.slice(0, -1), ...data.slice(batch + last)] }];
    }
    case 'Expand': {
      const target = ctx.valuesOf(inputs[1]);
      if (target) return [{ dtype: dtype(0), dims: broadcastDims([dims(0), target], ctx) }];
      const length = dims(1)?.[0];
      const d = dims(0);
      if (d && length !== undefined && isNumber(length)) {
        const rank = Math.max(d.length, length);
        return [{ dtype: dtype(0), dims: Array.from({ length: rank }, () => ctx.fresh()) }];
      }
      return [{ dtype: dtype(0), dims: null }];
    }
    case 'Tile': {
      const d = dims(0);
      const repeats = ctx.valuesOf(inputs[1]);
      if (!d) return [{ dtype: dtype(0), dims: null }];
      return [
        {
          dtype: dtype(0),
          dims: d.map((dim, i) => {
            const r = repeats?.[i];
            if (r === 1) return dim;
            return r !== undefined && isNumber(r) && isNumber(dim) ? r * dim : ctx.fresh();
          }),
        },
      ];
    }
    case 'Pad': {
      const d = dims(0);
      if (!d) return [{ dtype: dtype(0), dims: null }];
      const pads = ctx.numbersOf(inputs[1]);
      const axes = inputs[3] ? ctx.numbersOf(inputs[3]) : d.map((_, i) => i);
      if (!pads || !axes) return [{ dtype: dtype(0), dims: d.map(() => ctx.fresh()) }];
      const out = [...d];
      axes.forEach((axis, j) => {
        const i = normalizeAxis(axis, d.length);
        const total = pads[j] + pads[j + axes.length];
        const dim = d[i];
        out[i] = total === 0 ? dim : isNumber(dim) ? dim + total : ctx.fresh();
      });
      return [{ dtype: dtype(0), dims: out }];
    }
    case 'MatMul':
      return [{ dtype: dtype(0), dims: matMulDims(dims(0), dims(1), ctx) }];
    case 'Gemm': {
      const a = dims(0);
      const b = dims(1);
      const m = a ? a[attrInt(node, 'transA', 0) ? 1 : 0] : ctx.fresh();
      const n = b ? b[attrInt(node, 'transB', 0) ? 0 : 1] : ctx.fresh();
      return [{ dtype: dtype(0), dims: [m ?? ctx.fresh(), n ?? ctx.fresh()] }];
    }
    case 'Conv':
    case 'ConvTranspose':
    case 'MaxPool':
    case 'AveragePool':
    case 'LpPool':
      return convInfo(node, ctx);
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
    case 'GlobalLpPool': {
      const d = dims(0);
      return [{ dtype: dtype(0), dims: d ? [...d.slice(0, 2), ...d.slice(2).map(() => 1)] : null }];
    }
    case 'ArgMax':
    case 'ArgMin': {
      const d = dims(0);
      if (!d) return [{ dtype: DataType.INT64, dims: null }];
      const axis = normalizeAxis(attrInt(node, 'axis', 0), d.length);
      const keep = attrInt(node, 'keepdims', 1) === 1;
      const out = keep ? d.map((dim, i) => (i === axis ? 1 : dim)) : d.filter((_, i) => i !== axis);
      return [{ dtype: DataType.INT64, dims: out }];
    }
    case 'TopK': {
      const d = dims(0);
      if (!d)
        return [
          { dtype: dtype(0), dims: null },
          { dtype: DataType.INT64, dims: null },
        ];
      const axis = normalizeAxis(attrInt(node, 'axis', -1), d.length);
      const k = ctx.valuesOf(inputs[1])?.[0] ?? ctx.fresh();
      const out = d.map((dim, i) => (i === axis ? k : dim));
      return [
        { dtype: dtype(0), dims: out },
        { dtype: DataType.INT64, dims: out },
      ];
    }
    case 'NonZero': {
      const d = dims(0);
      return [{ dtype: DataType.INT64, dims: d ? [d.length, ctx.fresh()] : null }];
    }
    case 'OneHot': {
      const d = dims(0);
      if (!d) return [{ dtype: dtype(2), dims: null }];
      const axis = normalizeAxis(attrInt(node, 'axis', -1), d.length + 1);
      const depth = ctx.valuesOf(inputs[1])?.[0] ?? ctx.fresh();
      return [{ dtype: dtype(2), dims: [...d.slice(0, axis), depth, ...d.slice(axis)] }];
    }
    case 'Det': {
      const d = dims(0);
      return [{ dtype: dtype(0), dims: d ? d.slice(0, -2) : null }];
    }
    case 'DepthToSpace':
    case 'SpaceToDepth': {
      const d = dims(0);
      if (!d || d.length !== 4) return [{ dtype: dtype(0), dims: null }];
      const block = attrInt(node, 'blocksize', 1);
      const scale = (dim: Dim, up: boolean): Dim =>
        isNumber(dim) ? (up ? dim * block : dim / block) : ctx.fresh();
      const up = op === 'DepthToSpace';
      const channels = isNumber(d[1])
        ? up
          ? d[1] / (block * block)
          : d[1] * block * block
        : ctx.fresh();
      return [{ dtype: dtype(0), dims: [d[0], channels, scale(d[2], up), scale(d[3], up)] }];
    }
    case 'Resize':
    case 'Upsample': {
      const d = dims(0);
      return [{ dtype: dtype(0), dims: d ? d.map(() => ctx.fresh()) : null }];
    }
    case 'Compress': {
      const d = dims(0);
      const axis = findAttribute(node, 'axis') ? attrInt(node, 'axis', 0) : null;
      if (axis === null) return [{ dtype: dtype(0), dims: [ctx.fresh()] }];
      if (!d) return [{ dtype: dtype(0), dims: null }];
      const a = normalizeAxis(axis, d.length);
      return [{ dtype: dtype(0), dims: d.map((dim, i) => (i === a ? ctx.fresh() : dim)) }];
    }
    case 'Einsum':
      return [{ dtype: dtype(0), dims: einsumDims(node, ctx) }];
    default:
      return [];
  }
}

function constantInfo(node: onnx.INodeProto, ctx: ShapeContext): TensorInfo {
  const output = node.output?.[0];
  const remember = (values: readonly number[] | null): void => {
    if (output && values && values.length <= MAX_TRACKED_VALUES) ctx.values.set(output, values);
  };
  const tensor = findAttribute(node, 'value')?.t;
  if (tensor) {
    remember(readTensor(tensor));
    return { dtype: tensor.dataType ?? null, dims: (tensor.dims ?? []).map(toNumber) };
  }
  const attribute = node.attribute?.[0];
  switch (attribute?.name) {
    case 'value_float':
      remember([attribute.f ?? 0]);
      return { dtype: DataType.FLOAT, dims: [] };
    case 'value_int':
      remember([toNumber(attribute.i)]);
      return { dtype: DataType.INT64, dims: [] };
    case 'value_floats':
      remember(attribute.floats ?? []);
      return { dtype: DataType.FLOAT, dims: [(attribute.floats ?? []).length] };
    case 'value_ints':
      remember((attribute.ints ?? []).map(toNumber));
      return { dtype: DataType.INT64, dims: [(attribute.ints ?? []).length] };
    default:
      return { dtype: null, dims: null };
  }
}

function reduceInfo(node: onnx.INodeProto, ctx: ShapeContext): TensorInfo {
  const input = ctx.info(node.input?.[0]);
  const dtype = input?.dtype ?? null;
  const d = input?.dims ?? null;
  if (!d) return { dtype, dims: null };
  const keep = attrInt(node, 'keepdims', 1) === 1;
  const noop = attrInt(node, 'noop_with_empty_axes', 0) === 1;
  const axes = reduceAxes(node, ctx);
  if (axes === null) {
    return keep ? { dtype, dims: d.map(() => ctx.fresh()) } : { dtype, dims: null };
  }
  if (axes === 'absent' || axes.length === 0) {
    if (noop) return { dtype, dims: d };
    return { dtype, dims: keep ? d.map(() => 1) : [] };
  }
  const reduced = new Set(axes.map((axis) => normalizeAxis(axis, d.length)));
  return {
    dtype,
    dims: keep
      ? d.map((dim, i) => (reduced.has(i) ? 1 : dim))
      : d.filter((_, i) => !reduced.has(i)),
  };
}

function splitInfo(node: onnx.INodeProto, ctx: ShapeContext): TensorInfo[] {
  const input = ctx.info(node.input?.[0]);
  const dtype = input?.dtype ?? null;
  const d = input?.dims ?? null;
  const count = (node.output ?? []).length;
  if (!d) return Array.from({ length: count }, () => ({ dtype, dims: null }));
  const axis = normalizeAxis(attrInt(node, 'axis', 0), d.length);
  const sizes = ctx.opset >= 13 ? ctx.numbersOf(node.input?.[1]) : attrInts(node, 'split');
  const total = d[axis];
  return Array.from({ length: count }, (_, i): TensorInfo => {
    let size: Dim;
    if (sizes) size = sizes[i];
    else if (isNumber(total)) {
      const chunk = Math.ceil(total / count);
      size = i < count - 1 ? chunk : total - chunk * (count - 1);
    } else size = ctx.fresh();
    return { dtype, dims: d.map((dim, j) => (j === axis ? size : dim)) };
  });
}

function sliceInfo(node: onnx.INodeProto, ctx: ShapeContext): TensorInfo {
  const inputs = node.input ?? [];
  const input = ctx.info(inputs[0]);
  const dtype = input?.dtype ?? null;
  const d = input?.dims ?? null;
  if (!d) return { dtype, dims: null };
  const starts = ctx.numbersOf(inputs[1]);
  const ends = ctx.numbersOf(inputs[2]);
  const count = ctx.dims(inputs[1])?.[0];
  const axes = inputs[3]
    ? ctx.numbersOf(inputs[3])
    : count !== undefined && isNumber(count)
      ? Array.from({ length: count }, (_, i) => i)
      : null;
  const steps = inputs[4] ? ctx.numbersOf(inputs[4]) : axes?.map(() => 1);
  if (!axes) return { dtype, dims: d.map(() => ctx.fresh()) };
  const out = [...d];
  axes.forEach((axis, j) => {
    const i = normalizeAxis(axis, d.length);
    const dim = d[i];
    const step = steps?.[j];
    if (!starts || !ends || step === undefined || !isNumber(dim)) {
      out[i] = ctx.fresh();
      return;
    }
    out[i] = sliceLength(starts[j], ends[j], step, dim);
  });
  const values = ctx.valuesOf(inputs[0]);
  if (values && d.length === 1 && isNumber(out[0]) && isNumber(d[0]) && starts && steps) {
    const [start] = clampSlice(starts[0], ends?.[0] ?? 0, steps[0], d[0]);
    setIfSmall(
      ctx,
      node.output?.[0],
      Array.from({ length: out[0] }, (_, k) => values[start + k * steps[0]]),
    );
  }
  return { dtype, dims: out };
}

function setIfSmall(ctx: ShapeContext, name: string | undefined, values: readonly Dim[]): void {
  if (name && values.length <= MAX_TRACKED_VALUES) ctx.values.set(name, values);
}

/** Effective start and end of a slice along an axis of length `dim`, as ONNX defines them. */
export function clampSlice(
  start: number,
  end: number,
  step: number,
  dim: number,
): [number, number] {
  const clamp = (v: number, low: number, high: number): number => Math.min(Math.max(v, low), high);
  const s = start < 0 ? start + dim : start;
  const e = end < 0 ? end + dim : end;
  return step > 0
    ? [clamp(s, 0, dim), clamp(e, 0, dim)]
    : [clamp(s, 0, dim - 1), clamp(e, -1, dim - 1)];
}

/** Number of elements a slice selects along an axis of length `dim`. */
function sliceLength(start: number, end: number, step: number, dim: number): number {
  const [s, e] = clampSlice(start, end, step, dim);
  return step > 0
    ? Math.max(0, Math.ceil((e - s) / step))
    : Math.max(0, Math.ceil((s - e) / -step));
}

function matMulDims(
  a: readonly Dim[] | null,
  b: readonly Dim[] | null,
  ctx: ShapeContext,
): Dim[] | null {
  if (!a || !b || a.length === 0 || b.length === 0) return null;
  const a2 = a.length === 1 ? [1, a[0]] : a;
  const b2 = b.length === 1 ? [b[0], 1] : b;
  const batch = broadcastDims([a2.slice(0, -2), b2.slice(0, -2)], ctx) ?? [];
  const out: Dim[] = [...batch];
  if (a.length > 1) out.push(a2[a2.length - 2]);
  if (b.length > 1) out.push(b2[b2.length - 1]);
  return out;
}

function convInfo(node: onnx.INodeProto, ctx: ShapeContext): TensorInfo[] {
  const op = node.opType ?? '';
  const inputs = node.input ?? [];
  const input = ctx.info(inputs[0]);
  const dtype = input?.dtype ?? null;
  const x = input?.dims ?? null;
  const outputs = (node.output ?? []).length;
  const unknown = Array.from({ length: outputs }, () => ({ dtype, dims: null }));
  if (!x) return unknown;
  const spatial = x.length - 2;
  const w = op === 'Conv' || op === 'ConvTranspose' ? ctx.dims(inputs[1]) : null;
  const kernel: Dim[] =
    attrInts(node, 'kernel_shape') ??
    (w ? w.slice(2) : Array.from({ length: spatial }, () => ctx.fresh()));
  const strides = attrInts(node, 'strides') ?? new Array<number>(spatial).fill(1);
  const dilations = attrInts(node, 'dilations') ?? new Array<number>(spatial).fill(1);
  const pads = attrInts(node, 'pads') ?? new Array<number>(2 * spatial).fill(0);
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  const group = attrInt(node, 'group', 1);
  let channels: Dim = x[1];
  if (op === 'Conv') channels = w?.[0] ?? ctx.fresh();
  if (op === 'ConvTranspose') {
    const c = w?.[1];
    channels = c !== undefined && isNumber(c) ? c * group : ctx.fresh();
  }
  const out: Dim[] = [x[0], channels];
  for (let i = 0; i < spatial; i++) {
    if (op === 'ConvTranspose') {
      const shape = attrInts(node, 'output_shape');
      const padding = attrInts(node, 'output_padding')?.[i] ?? 0;
      const dim = x[2 + i];
      const k = kernel[i];
      if (shape) out.push(shape[shape.length - spatial + i]);
      else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
        out.push(isNumber(dim) ? dim * strides[i] : ctx.fresh());
      } else if (isNumber(dim) && isNumber(k)) {
        const p = autoPad === 'VALID' ? 0 : pads[i] + pads[i + spatial];
        out.push(strides[i] * (dim - 1) + padding + (k - 1) * dilations[i] + 1 - p);
      } else out.push(ctx.fresh());
    } else {
      out.push(
        convOutputDim(
          x[2 + i],
          kernel[i],
          strides[i],
          dilations[i],
          pads[i],
          pads[i + spatial],
          autoPad,
          ctx,
        ),
      );
    }
  }
  const result: TensorInfo[] = [{ dtype, dims: out }];
  if (outputs > 1) result.push({ dtype: DataType.INT64, dims: out });
  return result;
}

function einsumDims(node: onnx.INodeProto, ctx: ShapeContext): Dim[] | null {
  const equation = attrString(node, 'equation', '').replace(/\s/g, '');
  const arrow = equation.indexOf('->');
  if (arrow < 0 || equation.includes('...')) return null;
  const terms = equation.slice(0, arrow).split(',');
  const letters = new Map<string, Dim>();
  terms.forEach((term, t) => {
    const d = ctx.dims(node.input?.[t]);
    [...term].forEach((letter, i) => {
      const dim = d?.[i];
      const known = letters.get(letter);
      if (dim !== undefined && (known === undefined || known === 1)) letters.set(letter, dim);
    });
  });
  return [...equation.slice(arrow + 2)].map((letter) => letters.get(letter) ?? ctx.fresh());
}

/**
 * Runs the inference over a whole graph: inputs, initializers, then nodes in order.
 *
 * @param graph - the graph, nodes topologically sorted.
 * @param opset - the default-domain opset the graph is written in.
 * @returns the context holding every tensor's info.
 * @throws {OnnxAutodiffError} `INVALID_MODEL` when a node uses a tensor defined later.
 */
export function inferGraph(graph: onnx.IGraphProto, opset: number): ShapeContext {
  const ctx = new ShapeContext(opset);
  for (const value of [...(graph.valueInfo ?? []), ...(graph.output ?? [])]) {
    if (value.name) ctx.declared.set(value.name, ctx.fromType(value.type, false));
  }
  for (const value of graph.input ?? []) {
    if (value.name) ctx.setTensor(value.name, ctx.fromType(value.type, true));
  }
  for (const tensor of graph.initializer ?? []) {
    if (!tensor.name) continue;
    const dims = (tensor.dims ?? []).map(toNumber);
    const size = dims.reduce((a, b) => a * b, 1);
    const values = size <= MAX_TRACKED_VALUES ? readTensor(tensor) : null;
    ctx.setTensor(tensor.name, { dtype: tensor.dataType ?? null, dims }, values);
  }
  const defined = new Set<string>(ctx.infos.keys());
  const producers = new Set<string>();
  for (const node of graph.node ?? []) for (const name of node.output ?? []) producers.add(name);
  for (const node of graph.node ?? []) {
    for (const name of node.input ?? []) {
      if (name && !defined.has(name) && producers.has(name)) {
        throw new OnnxAutodiffError(
          'INVALID_MODEL',
          `inferGraph(): node '${node.name || node.opType}' uses '${name}' before the node ` +
            'that produces it; ONNX graphs must be topologically sorted. Re-export the model, ' +
            'or sort it with onnx.utils or onnxruntime graph optimisations.',
        );
      }
    }
    inferNode(node, ctx);
    for (const name of node.output ?? []) defined.add(name);
  }
  return ctx;
}

/**
 * Infers the rank of every tensor of a model, the pass the gradient builder relies on.
 *
 * @param model - a decoded ONNX model.
 * @returns a map from tensor name to rank, `null` where the rank cannot be inferred.
 * @throws {OnnxAutodiffError} `INVALID_MODEL` when the nodes are not topologically sorted.
 * @example
 * const ranks = inferRanks(model);
 * ranks.get('x'); // 2 for x of shape [batch, d]
 */
export function inferRanks(model: onnx.IModelProto): Map<string, number | null> {
  const opset =
    (model.opsetImport ?? [])
      .filter((entry) => !entry.domain || entry.domain === 'ai.onnx')
      .map((entry) => toNumber(entry.version))[0] ?? 13;
  const ctx = inferGraph(model.graph ?? {}, opset);
  const ranks = new Map<string, number | null>();
  for (const [name, info] of ctx.infos) ranks.set(name, info.dims ? info.dims.length : null);
  return ranks;
}
