/**
 * Helpers around the protobufjs classes of `onnx-proto`: attributes, tensors and data types.
 *
 * `onnx-proto` is a CommonJS module whose namespace Node cannot import by name from ESM, so the
 * namespace is taken from the default export once, here, and re-exported as `onnx`.
 */

import onnxProto from 'onnx-proto';
import { OnnxAutodiffError } from './errors.js';

export import onnx = onnxProto.onnx;

/** ONNX element types, as in `TensorProto.DataType`. */
export const DataType = onnx.TensorProto.DataType;

/** A protobuf int64 as protobufjs decodes it: a number, or a `Long` when `long` is installed. */
export type Int64 = number | { toNumber(): number };

/** Converts a protobuf int64 (number or Long) to a number. */
export function toNumber(value: Int64 | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}

/** Whether an element type is a floating-point type, the only types that carry gradients. */
export function isFloatType(dtype: number): boolean {
  return (
    dtype === DataType.FLOAT ||
    dtype === DataType.DOUBLE ||
    dtype === DataType.FLOAT16 ||
    dtype === DataType.BFLOAT16
  );
}

/** The name of an element type, for messages, e.g. `DOUBLE`. */
export function dataTypeName(dtype: number): string {
  return DataType[dtype] ?? `type ${dtype}`;
}

/** Finds an attribute of a node by name. */
export function findAttribute(
  node: onnx.INodeProto,
  name: string,
): onnx.IAttributeProto | undefined {
  return node.attribute?.find((attribute) => attribute.name === name);
}

/** An integer attribute, or `fallback` when absent. */
export function attrInt(node: onnx.INodeProto, name: string, fallback: number): number {
  const attribute = findAttribute(node, name);
  return attribute ? toNumber(attribute.i) : fallback;
}

/** A float attribute, or `fallback` when absent. */
export function attrFloat(node: onnx.INodeProto, name: string, fallback: number): number {
  const attribute = findAttribute(node, name);
  return attribute ? (attribute.f ?? 0) : fallback;
}

/** An integer-list attribute, or `null` when absent. */
export function attrInts(node: onnx.INodeProto, name: string): number[] | null {
  const attribute = findAttribute(node, name);
  return attribute ? (attribute.ints ?? []).map(toNumber) : null;
}

/** A string attribute, or `fallback` when absent. */
export function attrString(node: onnx.INodeProto, name: string, fallback: string): string {
  const attribute = findAttribute(node, name);
  return attribute?.s ? new TextDecoder().decode(attribute.s) : fallback;
}

/** Values of an attribute to emit: integers, integer lists, strings, `{ float }` or a tensor. */
export type AttributeValue =
  number | readonly number[] | string | { readonly float: number } | onnx.ITensorProto;

/** Builds an `AttributeProto` from a name and a value; plain numbers are INT attributes. */
export function makeAttribute(name: string, value: AttributeValue): onnx.AttributeProto {
  const Type = onnx.AttributeProto.AttributeType;
  if (typeof value === 'number')
    return onnx.AttributeProto.create({ name, type: Type.INT, i: value });
  if (typeof value === 'string') {
    return onnx.AttributeProto.create({
      name,
      type: Type.STRING,
      s: new TextEncoder().encode(value),
    });
  }
  if (Array.isArray(value)) {
    return onnx.AttributeProto.create({ name, type: Type.INTS, ints: [...(value as number[])] });
  }
  if ('float' in value) {
    return onnx.AttributeProto.create({ name, type: Type.FLOAT, f: value.float });
  }
  return onnx.AttributeProto.create({ name, type: Type.TENSOR, t: value as onnx.ITensorProto });
}

/** Converts a number to IEEE half-precision bits (round to nearest even). */
function toHalfBits(value: number): number {
  const f32 = new Float32Array([value]);
  const bits = new Uint32Array(f32.buffer)[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    const half = mantissa >> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const middle = 1 << (shift - 1);
    return sign | (half + (rest > middle || (rest === middle && half & 1) ? 1 : 0));
  }
  const half = (e << 10) | (mantissa >> 13);
  const rest = mantissa & 0x1fff;
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && half & 1) ? 1 : 0));
}

/** Converts half-precision bits to a number. */
function fromHalfBits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** A number as an int64, saturated (INT64_MAX read as a double is 2^63, one past the range). */
function toInt64(value: number): bigint {
  if (value >= 2 ** 63) return 2n ** 63n - 1n;
  if (value <= -(2 ** 63)) return -(2n ** 63n);
  return BigInt(Math.trunc(value));
}

/**
 * Builds a tensor of any numeric element type from numbers, stored as little-endian raw data.
 *
 * @param values - the elements, row-major.
 * @param dtype - an element type of `TensorProto.DataType` (not STRING).
 * @param dims - the shape; its product must equal `values.length`.
 * @throws {OnnxAutodiffError} `INTERNAL` for an element type it cannot store (STRING, UINT16...):
 *   the rules only make constants of float, integer and boolean types.
 */
export function makeTensor(
  values: readonly number[],
  dtype: number,
  dims: readonly number[],
  name = '',
): onnx.TensorProto {
  const bytes = (() => {
    switch (dtype) {
      case DataType.FLOAT:
        return new Uint8Array(Float32Array.from(values).buffer);
      case DataType.DOUBLE:
        return new Uint8Array(Float64Array.from(values).buffer);
      case DataType.INT64:
        return new Uint8Array(BigInt64Array.from(values, toInt64).buffer);
      case DataType.INT32:
        return new Uint8Array(Int32Array.from(values).buffer);
      case DataType.FLOAT16:
        return new Uint8Array(Uint16Array.from(values, toHalfBits).buffer);
      case DataType.BFLOAT16:
        return new Uint8Array(
          Uint16Array.from(values, (v) => new Uint32Array(Float32Array.of(v).buffer)[0] >>> 16)
            .buffer,
        );
      case DataType.BOOL:
      case DataType.UINT8:
        return Uint8Array.from(values);
      case DataType.INT8:
        return new Uint8Array(Int8Array.from(values).buffer);
      default:
        throw new OnnxAutodiffError(
          'INTERNAL',
          `makeTensor(): element type ${dataTypeName(dtype)} is not supported; the gradient ` +
            'rules make constants of FLOAT, DOUBLE, FLOAT16, BFLOAT16, INT64, INT32, INT8, UINT8 ' +
            'and BOOL only, so this is a bug in a rule.',
        );
    }
  })();
  return onnx.TensorProto.create({ name, dataType: dtype, dims: [...dims], rawData: bytes });
}

/** The number of elements of a tensor proto. */
export function tensorSize(tensor: onnx.ITensorProto): number {
  return (tensor.dims ?? []).reduce<number>((size, dim) => size * toNumber(dim), 1);
}

/**
 * Reads the elements of a tensor proto as numbers, or `null` when they are stored externally or
 * in a type this reader does not handle.
 */
export function readTensor(tensor: onnx.ITensorProto): number[] | null {
  const dtype = tensor.dataType ?? 0;
  const size = tensorSize(tensor);
  const raw = tensor.rawData;
  if (raw && raw.length > 0) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out: number[] = [];
    for (let i = 0; i < size; i++) {
      switch (dtype) {
        case DataType.FLOAT:
          out.push(view.getFloat32(4 * i, true));
          break;
        case DataType.DOUBLE:
          out.push(view.getFloat64(8 * i, true));
          break;
        case DataType.INT64:
          out.push(Number(view.getBigInt64(8 * i, true)));
          break;
        case DataType.UINT64:
          out.push(Number(view.getBigUint64(8 * i, true)));
          break;
        case DataType.INT32:
          out.push(view.getInt32(4 * i, true));
          break;
        case DataType.UINT32:
          out.push(view.getUint32(4 * i, true));
          break;
        case DataType.INT16:
          out.push(view.getInt16(2 * i, true));
          break;
        case DataType.UINT16:
          out.push(view.getUint16(2 * i, true));
          break;
        case DataType.FLOAT16:
          out.push(fromHalfBits(view.getUint16(2 * i, true)));
          break;
        case DataType.INT8:
          out.push(view.getInt8(i));
          break;
        case DataType.UINT8:
        case DataType.BOOL:
          out.push(view.getUint8(i));
          break;
        default:
          return null;
      }
    }
    return out;
  }
  if ((tensor.externalData ?? []).length > 0) return null;
  switch (dtype) {
    case DataType.FLOAT:
      return [...(tensor.floatData ?? [])];
    case DataType.DOUBLE:
      return [...(tensor.doubleData ?? [])];
    case DataType.INT64:
      return (tensor.int64Data ?? []).map(toNumber);
    case DataType.UINT64:
      return (tensor.uint64Data ?? []).map(toNumber);
    case DataType.FLOAT16:
      return (tensor.int32Data ?? []).map(fromHalfBits);
    case DataType.INT32:
    case DataType.INT16:
    case DataType.INT8:
    case DataType.UINT16:
    case DataType.UINT8:
    case DataType.BOOL:
      return [...(tensor.int32Data ?? [])];
    default:
      return null;
  }
}
