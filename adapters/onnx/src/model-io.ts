/**
 * Reading an ONNX model's interface: which graph input is the latent `z`, which outputs are `x`
 * and `logDet`, and the shapes of one row of each, from the model's own type information.
 */
import { onnx } from './autodiff/proto.js';
import { OnnxFlowError } from './errors.js';

/** One dimension of a graph input or output: a number, or a symbolic name, or null if unknown. */
export type ModelDim = number | string | null;

/** A graph input or output with its element type and shape. */
export interface ModelValue {
  readonly name: string;
  /** ONNX `TensorProto.DataType` code; 1 is float32. */
  readonly elemType: number;
  readonly dims: readonly ModelDim[];
}

/** The parts of a model's interface the adapter needs. */
export interface ModelInterface {
  readonly opset: number;
  /** Graph inputs that are not initializers. */
  readonly inputs: readonly ModelValue[];
  readonly outputs: readonly ModelValue[];
  /** Operator types of the graph's nodes, sorted and without repeats. */
  readonly operators: readonly string[];
}

function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (value !== null && typeof value === 'object' && 'toNumber' in value) {
    return (value as { toNumber(): number }).toNumber();
  }
  return Number(value);
}

function valueOf(info: onnx.IValueInfoProto): ModelValue {
  const tensor = info.type?.tensorType;
  const dims = (tensor?.shape?.dim ?? []).map((dim): ModelDim => {
    if (dim.dimValue !== undefined && dim.dimValue !== null && toNumber(dim.dimValue) > 0) {
      return toNumber(dim.dimValue);
    }
    return dim.dimParam ? dim.dimParam : null;
  });
  return { name: info.name ?? '', elemType: tensor?.elemType ?? 0, dims };
}

/**
 * Decodes ONNX bytes, turning a decoding failure into an error that says the file is truncated
 * or not an ONNX model.
 *
 * @param bytes - the serialized `ModelProto`, e.g. the contents of an `.onnx` file.
 * @param where - the calling function, to start messages with, e.g. `'inspect'`.
 * @param source - what the bytes are, for messages, e.g. `'flow.onnx'` (quoted).
 * @returns the decoded model.
 * @throws {OnnxFlowError} `INVALID_MODEL` when the bytes do not decode, or hold no graph with
 *   nodes and outputs (a truncated file, or another format).
 * @example
 * ```ts
 * const model = decodeModel(await readFile('flow.onnx'), 'inspect', "'flow.onnx'");
 * ```
 */
export function decodeModel(bytes: Uint8Array, where: string, source: string): onnx.ModelProto {
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new OnnxFlowError(
      'INVALID_MODEL',
      `${where}: ${source} could not be read as an ONNX model (${(error as Error).message}); ` +
        'the file is truncated or is not ONNX. Re-export it with torch.onnx.export.',
      { cause: error },
    );
  }
  if (
    !model.graph ||
    (model.graph.node ?? []).length === 0 ||
    (model.graph.output ?? []).length === 0
  ) {
    throw new OnnxFlowError(
      'INVALID_MODEL',
      `${where}: ${source} holds no ONNX graph with nodes and outputs; it is not an ONNX model ` +
        'or it is truncated. Re-export it with torch.onnx.export.',
    );
  }
  return model;
}

/**
 * Reads the interface of a decoded model: its opset, graph inputs (initializers left out),
 * outputs with their shapes, and operator types.
 *
 * @param model - a model from {@link decodeModel}, which ensures it has a graph.
 * @returns the interface; dims are numbers, symbolic names, or null where unknown.
 * @throws {OnnxFlowError} `INVALID_MODEL` for a model without a graph (never one from
 *   {@link decodeModel}).
 * @example
 * ```ts
 * const io = modelInterface(decodeModel(bytes, 'inspect', "'flow.onnx'"));
 * io.inputs; // [{ name: 'z', elemType: 1, dims: ['batch', 2] }]
 * ```
 */
export function modelInterface(model: onnx.ModelProto): ModelInterface {
  const graph = model.graph;
  if (!graph) {
    throw new OnnxFlowError(
      'INVALID_MODEL',
      'modelInterface(): the model has no graph; it is not an ONNX model or it is truncated. ' +
        'Decode it with decodeModel(), which says which.',
    );
  }
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  const opsetEntry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  return {
    opset: toNumber(opsetEntry?.version ?? 0),
    inputs: (graph.input ?? []).filter((i) => !initializers.has(i.name ?? '')).map(valueOf),
    outputs: (graph.output ?? []).map(valueOf),
    operators: [...new Set((graph.node ?? []).map((n) => n.opType ?? ''))].sort(),
  };
}

/** Names the adapter resolved, with the per-row shapes. */
export interface ResolvedInterface {
  readonly input: string;
  readonly x: string;
  readonly logDet: string;
  /** Shape of one latent row (the input without its batch axis). */
  readonly latentShape: readonly number[];
  /** Shape of one data row; null when the model leaves it symbolic (read it from a run). */
  readonly dataShape: readonly number[] | null;
  /** Rank of the logDet output: 1 (`[batch]`) or 2 (`[batch, 1]`). */
  readonly logDetRank: number;
  /** The batch size the model requires, or null when it is dynamic. */
  readonly fixedBatch: number | null;
}

const list = (values: readonly ModelValue[]) =>
  `[${values.map((v) => `${v.name}: [${v.dims.map((d) => d ?? '?').join(', ')}]`).join(', ')}]`;

/**
 * Finds the latent input and the `x` and `logDet` outputs, by the names given or, when
 * unambiguous, by themselves, and reads the shapes of one row of each.
 */
export function resolveInterface(
  io: ModelInterface,
  names: { input?: string; x?: string; logDet?: string; dataShape?: readonly number[] },
  where: string,
): ResolvedInterface {
  let input: ModelValue | undefined;
  if (names.input !== undefined) {
    input = io.inputs.find((i) => i.name === names.input);
    if (input === undefined) {
      throw new OnnxFlowError(
        'NAME_NOT_FOUND',
        `${where}: input '${names.input}' not found; the model has inputs ${list(io.inputs)}. ` +
          'Pass input: with one of these names.',
      );
    }
  } else if (io.inputs.length === 1) {
    input = io.inputs[0];
  } else {
    throw new OnnxFlowError(
      'AMBIGUOUS_NAME',
      `${where}: the model has ${io.inputs.length} inputs ${list(io.inputs)} and no input name ` +
        "was given. Pass input: '<name of the latent input>'.",
    );
  }

  const find = (name: string, role: string) => {
    const value = io.outputs.find((o) => o.name === name);
    if (value === undefined) {
      throw new OnnxFlowError(
        'NAME_NOT_FOUND',
        `${where}: output '${name}' not found; the model has outputs ${list(io.outputs)}. ` +
          `Pass outputs: { ${role}: '<one of these names>' }.`,
      );
    }
    return value;
  };
  let x = names.x !== undefined ? find(names.x, 'x') : undefined;
  let logDet = names.logDet !== undefined ? find(names.logDet, 'logDet') : undefined;
  if (logDet === undefined) {
    const candidates = io.outputs.filter(
      (o) =>
        o !== x &&
        (o.dims.length === 1 || (o.dims.length === 2 && o.dims[1] === 1)) &&
        (io.outputs.length === 2 || /log.?det|ldj|log_?abs_?det/i.test(o.name)),
    );
    const named = candidates.filter((o) => /log.?det|ldj/i.test(o.name));
    logDet = named.length === 1 ? named[0] : candidates.length === 1 ? candidates[0] : undefined;
  }
  if (x === undefined) {
    const candidates = io.outputs.filter((o) => o !== logDet);
    x = candidates.length === 1 ? candidates[0] : candidates.find((o) => o.name === 'x');
  }
  if (x === undefined || logDet === undefined) {
    throw new OnnxFlowError(
      'AMBIGUOUS_NAME',
      `${where}: cannot tell which outputs are x and logDet among ${list(io.outputs)}. ` +
        "Pass outputs: { x: '<name>', logDet: '<name>' }.",
    );
  }

  const rowShape = (value: ModelValue, role: string): number[] => {
    const rest = value.dims.slice(1);
    if (!rest.every((d): d is number => typeof d === 'number')) {
      throw new OnnxFlowError(
        'UNKNOWN_SHAPE',
        `${where}: ${role} '${value.name}' has shape ` +
          `[${value.dims.map((d) => d ?? '?').join(', ')}]` +
          '; only its first (batch) axis may be dynamic. Export it with fixed non-batch axes.',
      );
    }
    return rest;
  };
  for (const [value, role] of [
    [input, 'input'],
    [x, 'output x'],
    [logDet, 'output logDet'],
  ] as const) {
    if (value.elemType !== onnx.TensorProto.DataType.FLOAT) {
      throw new OnnxFlowError(
        'UNSUPPORTED_MODEL',
        `${where}: ${role} '${value.name}' has ONNX element type ${value.elemType}; expected 1 ` +
          '(float32). Export the model in float32.',
      );
    }
    if (value.dims.length === 0) {
      throw new OnnxFlowError(
        'UNKNOWN_SHAPE',
        `${where}: ${role} '${value.name}' has no rank in the model; expected a batch axis ` +
          'first. Export with shape information (torch.onnx.export does by default).',
      );
    }
  }
  const latentShape = rowShape(input, 'input');
  const xRow = x.dims.slice(1);
  const dataShape =
    names.dataShape ?? (xRow.every((dim): dim is number => typeof dim === 'number') ? xRow : null);
  const batch = input.dims[0];
  return {
    input: input.name,
    x: x.name,
    logDet: logDet.name,
    latentShape,
    dataShape,
    logDetRank: logDet.dims.length,
    fixedBatch: typeof batch === 'number' ? batch : null,
  };
}
