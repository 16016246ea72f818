/**
 * Test helpers: build small ONNX models with onnx-proto, run them in onnxruntime-node, and check
 * a VJP model against central finite differences of `sum over outputs of out * cotangent`.
 */

import * as ort from 'onnxruntime-node';
import { buildVjpModel } from '../../src/autodiff/index.js';
import { type AttributeValue, makeAttribute, makeTensor, onnx } from '../../src/autodiff/proto.js';

export { onnx };

export const FLOAT = onnx.TensorProto.DataType.FLOAT;
export const DOUBLE = onnx.TensorProto.DataType.DOUBLE;
export const INT64 = onnx.TensorProto.DataType.INT64;
export const INT32 = onnx.TensorProto.DataType.INT32;
export const BOOL = onnx.TensorProto.DataType.BOOL;

/** A graph input or output: name, element type and dims (strings are dynamic). */
export interface ValueSpec {
  readonly name: string;
  readonly type: number;
  /** Omitted: no shape declared. */
  readonly dims?: readonly (number | string)[];
}

/** A value spec. */
export function value(name: string, type: number, dims?: readonly (number | string)[]): ValueSpec {
  return { name, type, dims };
}

/** A node of the default domain. */
export function node(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  attributes: Readonly<Record<string, AttributeValue>> = {},
  domain = '',
): onnx.NodeProto {
  return onnx.NodeProto.create({
    name: `${opType}_${outputs[0]}`,
    opType,
    domain,
    input: [...inputs],
    output: [...outputs],
    attribute: Object.entries(attributes).map(([key, v]) => makeAttribute(key, v)),
  });
}

/** A constant tensor (initializer). */
export function tensor(
  name: string,
  type: number,
  dims: readonly number[],
  values: readonly number[],
): onnx.TensorProto {
  return makeTensor(values, type, dims, name);
}

function valueInfo(spec: ValueSpec): onnx.ValueInfoProto {
  return onnx.ValueInfoProto.create({
    name: spec.name,
    type: {
      tensorType: {
        elemType: spec.type,
        shape: spec.dims
          ? {
              dim: spec.dims.map((dim) =>
                typeof dim === 'number' ? { dimValue: dim } : { dimParam: dim },
              ),
            }
          : null,
      },
    },
  });
}

/** A model from inputs, outputs, nodes and initializers, at a default-domain opset. */
export function makeModel(spec: {
  readonly inputs: readonly ValueSpec[];
  readonly outputs: readonly ValueSpec[];
  readonly nodes: readonly onnx.NodeProto[];
  readonly initializers?: readonly onnx.TensorProto[];
  readonly opset?: number;
}): onnx.ModelProto {
  return onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'latent-langevin-tests',
    opsetImport: [{ domain: '', version: spec.opset ?? 13 }],
    graph: {
      name: 'test',
      input: spec.inputs.map(valueInfo),
      output: spec.outputs.map(valueInfo),
      node: [...spec.nodes],
      initializer: [...(spec.initializers ?? [])],
    },
  });
}

/** A feed: element type, dims and values (row-major). */
export interface Feed {
  readonly type: number;
  readonly dims: readonly number[];
  readonly data: readonly number[];
}

/** A seeded uniform generator on [0, 1) (mulberry32). */
export function uniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` seeded values, uniform on [low, high). */
export function values(seed: number, count: number, low = -1, high = 1): number[] {
  const next = uniform(seed);
  return Array.from({ length: count }, () => low + (high - low) * next());
}

/** A feed of seeded values, uniform on [low, high). */
export function randomFeed(
  type: number,
  dims: readonly number[],
  seed: number,
  low = -1,
  high = 1,
): Feed {
  const count = dims.reduce((a, b) => a * b, 1);
  return { type, dims, data: values(seed, count, low, high) };
}

function toOrt(feed: Feed): ort.Tensor {
  const dims = [...feed.dims];
  switch (feed.type) {
    case DOUBLE:
      return new ort.Tensor('float64', Float64Array.from(feed.data), dims);
    case FLOAT:
      return new ort.Tensor('float32', Float32Array.from(feed.data), dims);
    case INT64:
      return new ort.Tensor(
        'int64',
        BigInt64Array.from(feed.data, (v) => BigInt(v)),
        dims,
      );
    case INT32:
      return new ort.Tensor('int32', Int32Array.from(feed.data), dims);
    case BOOL:
      return new ort.Tensor('bool', Uint8Array.from(feed.data), dims);
    default:
      throw new Error(`toOrt(): element type ${feed.type} not handled`);
  }
}

/** Outputs of a run, as numbers with their dims. */
export type RunResult = Record<
  string,
  { readonly dims: readonly number[]; readonly data: number[] }
>;

const sessions = new WeakMap<onnx.ModelProto, Promise<ort.InferenceSession>>();

/** Runs a model (its session cached per model object) on feeds. */
export async function run(model: onnx.ModelProto, feeds: Record<string, Feed>): Promise<RunResult> {
  let session = sessions.get(model);
  if (!session) {
    session = ort.InferenceSession.create(onnx.ModelProto.encode(model).finish(), {
      logSeverityLevel: 3,
    });
    sessions.set(model, session);
  }
  const ortFeeds: Record<string, ort.Tensor> = {};
  for (const [name, feed] of Object.entries(feeds)) ortFeeds[name] = toOrt(feed);
  const results = await (await session).run(ortFeeds);
  const out: RunResult = {};
  for (const [name, t] of Object.entries(results)) {
    const data = t.data as ArrayLike<number | bigint>;
    out[name] = { dims: t.dims, data: Array.from(data, (v) => Number(v)) };
  }
  return out;
}

/** What {@link checkVjp} measured. */
export interface VjpCheck {
  /** The VJP from the built model. */
  readonly vjp: number[];
  /** Central finite differences of `sum out * cotangent`. */
  readonly reference: number[];
  /** `max |vjp - reference| / max(1, max |reference|)`. */
  readonly error: number;
  /** Largest difference between the VJP model's forward outputs and the original's. */
  readonly forwardError: number;
}

/**
 * Builds the VJP model of `model` and compares its VJP with central differences of
 * `f(input) = sum over outputs of sum(out * cotangent)`, cotangents drawn from `seed`.
 */
export async function checkVjp(options: {
  readonly model: onnx.ModelProto;
  readonly input: string;
  readonly outputs: readonly string[];
  readonly feeds: Record<string, Feed>;
  readonly step?: number;
  readonly seed?: number;
  /** Accept a reference that is identically zero (by default a test of nothing, so an error). */
  readonly allowZero?: boolean;
}): Promise<VjpCheck> {
  const { model, input, outputs, feeds } = options;
  const step = options.step ?? 1e-5;
  const vjpModel = buildVjpModel(model, { input, outputs });
  const forward = await run(model, feeds);
  const cotangents: Record<string, Feed> = {};
  outputs.forEach((name, i) => {
    const type = model.graph!.output!.find((v) => v.name === name)!.type!.tensorType!.elemType!;
    cotangents[`cotangent_${name}`] = randomFeed(type, forward[name].dims, (options.seed ?? 7) + i);
  });
  const result = await run(vjpModel, { ...feeds, ...cotangents });

  let forwardError = 0;
  for (const name of outputs) {
    forward[name].data.forEach((v, i) => {
      forwardError = Math.max(forwardError, Math.abs(v - result[name].data[i]));
    });
  }
  const objective = async (point: number[]): Promise<number> => {
    const out = await run(model, { ...feeds, [input]: { ...feeds[input], data: point } });
    let total = 0;
    for (const name of outputs) {
      const c = cotangents[`cotangent_${name}`].data;
      out[name].data.forEach((v, i) => (total += v * c[i]));
    }
    return total;
  };
  const base = [...feeds[input].data];
  const reference: number[] = [];
  for (let i = 0; i < base.length; i++) {
    const plus = [...base];
    const minus = [...base];
    plus[i] += step;
    minus[i] -= step;
    reference.push(((await objective(plus)) - (await objective(minus))) / (2 * step));
  }
  if (!options.allowZero && reference.every((v) => v === 0)) {
    throw new Error('checkVjp(): the reference is identically zero, so the check tests nothing');
  }
  const vjp = result[`vjp_${input}`].data;
  const scale = Math.max(1, ...reference.map(Math.abs));
  const error = Math.max(0, ...vjp.map((v, i) => Math.abs(v - reference[i]))) / scale;
  if (vjp.length !== reference.length) throw new Error('checkVjp(): VJP has the wrong size');
  return { vjp, reference, error, forwardError };
}
