/**
 * The ONNX flow: a `DifferentiableFlow` over ONNX Runtime sessions, shared by the Node entry
 * (onnxruntime-node) and the browser entry (onnxruntime-web). The runtime is passed in, so this
 * file imports neither.
 */
import {
  type DifferentiableFlow,
  type FlowCotangent,
  type FlowOutputs,
  type FlowVjp,
  InvalidArgumentError,
  dataSize,
  describeValue,
} from '@latent-langevin/core';
import { finiteDifferenceFlow } from '@latent-langevin/finite-difference';
import { formatUnsupported } from './autodiff/build-vjp.js';
import type { onnx } from './autodiff/proto.js';
import { OnnxAutodiffError, buildVjpModel, unsupportedOperators } from './autodiff/index.js';
import { type OnnxFlowErrorCode, OnnxFlowError } from './errors.js';
import {
  type ResolvedInterface,
  decodeModel,
  modelInterface,
  resolveInterface,
} from './model-io.js';

/** The part of an ONNX Runtime tensor the adapter reads. */
export interface OrtTensorLike {
  readonly data: unknown;
  readonly dims: readonly number[];
}

/** The part of an ONNX Runtime session the adapter uses. */
export interface OrtSessionLike {
  run(
    feeds: Record<string, unknown>,
    fetches?: readonly string[],
  ): Promise<Record<string, OrtTensorLike>>;
  release(): Promise<void>;
}

/** The part of an ONNX Runtime module (node or web) the adapter uses. */
export interface OrtLike {
  readonly InferenceSession: {
    create(model: Uint8Array, options?: Record<string, unknown>): Promise<OrtSessionLike>;
  };
  readonly Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => unknown;
}

/** Where messages about fallbacks go; the library never writes to the console itself. */
export interface OnnxLogger {
  warn(message: string): void;
  info?(message: string): void;
}

/** How the flow gets its gradients. */
export type GradientMode = 'autodiff' | 'exported' | 'finite-difference' | 'auto';

/** Options of `loadOnnxFlow()`, shared by the Node and browser entries. */
export interface OnnxFlowOptions {
  /** Name of the latent input; needed only when the model has several inputs. */
  readonly input?: string;
  /** Names of the outputs; found by themselves when unambiguous. */
  readonly outputs?: { readonly x?: string; readonly logDet?: string };
  /** Shape of one data row, when the model leaves it symbolic. */
  readonly dataShape?: readonly number[];
  /**
   * `autodiff` builds a VJP graph from the model; `exported` uses gradient outputs the model
   * already has (name them in `exported`); `finite-difference` uses central differences; `auto`
   * (default) is autodiff, or finite differences when an operator has no rule, with a warning.
   */
  readonly gradient?: GradientMode;
  /** Names of the inputs and output of a model that exports its own vector-Jacobian product. */
  readonly exported?: {
    readonly gradient: string;
    readonly cotangentX: string;
    readonly cotangentLogDet: string;
  };
  /** Largest batch sent to a session at once; larger batches are split. Default 4096. */
  readonly maxBatch?: number;
  /** Relative step of finite differences, when they are used. */
  readonly finiteDifferenceStep?: number;
  /** Receives fallback notices (provider, gradient). */
  readonly logger?: OnnxLogger;
  /** Extra ONNX Runtime session options (e.g. `intraOpNumThreads`), passed through. */
  readonly sessionOptions?: Record<string, unknown>;
}

/** A `DifferentiableFlow` backed by ONNX Runtime, with what the adapter chose. */
export interface OnnxFlow extends DifferentiableFlow {
  /** The execution provider the sessions run on, e.g. `cpu`, `cuda`, `wasm`, `webgpu`. */
  readonly executionProvider: string;
  /** Where gradients come from. */
  readonly gradientSource: 'autodiff' | 'exported' | 'finite-difference';
  /**
   * Operators on the differentiated path that the autodiff could not differentiate: without a
   * rule, or whose rule failed on this model (with the reason, e.g. `MatMul (the rank of tensor
   * 'w' could not be inferred ...)`). Empty when the autodiff covers the model, and when it was
   * not tried or refused the whole model (an opset below 13).
   */
  readonly unsupportedOperators: readonly string[];
  /** The names and shapes read from the model. */
  readonly io: ResolvedInterface;
  /** Operator types of the model. */
  readonly operators: readonly string[];
  /** The model's opset. */
  readonly opset: number;
}

/** A provider to try and what to say if it fails. */
export interface ProviderChoice {
  readonly name: string;
  /** ONNX Runtime's `executionProviders` entry. */
  readonly config: unknown;
  /** How to make it available, said when it is not. */
  readonly hint: string;
}

const VJP_GRADIENT = 'latent_langevin_vjp_z';
const VJP_COTANGENT_X = 'latent_langevin_cotangent_x';
const VJP_COTANGENT_LOGDET = 'latent_langevin_cotangent_logdet';

/**
 * Providers that run wherever the runtime itself runs: when one of them cannot create a session,
 * the graph is at fault (an unknown operator, a type without a kernel), not the provider.
 */
const HOST_PROVIDERS: ReadonlySet<string> = new Set(['cpu', 'wasm']);

/** The first line of an error's message. */
function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0].trim();
}

/**
 * Creates a session on the first provider that works. When a host provider (`cpu`, `wasm`)
 * fails, the graph is invalid for this runtime: `INVALID_MODEL`, with the runtime's message and
 * its error as the cause. When any other provider fails and `fallback` is false, or every
 * provider failed, `PROVIDER_UNAVAILABLE`; with `fallback`, each failure is logged and the next
 * provider tried.
 *
 * @param graph - what the bytes are, for messages: the user's model, or the VJP graph built
 *   from it (whose rejection is a bug of the autodiff).
 */
async function createSession(
  ort: OrtLike,
  bytes: Uint8Array,
  providers: readonly ProviderChoice[],
  fallback: boolean,
  logger: OnnxLogger | undefined,
  where: string,
  sessionOptions: Record<string, unknown> | undefined,
  graph: 'model' | 'vjp',
): Promise<{ session: OrtSessionLike; provider: ProviderChoice }> {
  const failures: { provider: ProviderChoice; error: unknown }[] = [];
  for (const [k, provider] of providers.entries()) {
    try {
      const session = await ort.InferenceSession.create(bytes, {
        executionProviders: [provider.config],
        graphOptimizationLevel: 'all',
        // ONNX Runtime logs failed providers to stderr itself; the failure reaches the caller
        // as an error or a logger warning instead, so only fatal messages are left on.
        logSeverityLevel: 4,
        ...sessionOptions,
      });
      return { session, provider };
    } catch (error) {
      const reason = firstLine(error);
      if (HOST_PROVIDERS.has(provider.name)) {
        const fix =
          graph === 'model'
            ? 'Check the model with onnx.checker.check_model(model, full_check=True), and ' +
              're-export it with torch.onnx.export using operators this ONNX Runtime supports.'
            : 'The VJP graph is built by this package, so this is a bug in it: report it with ' +
              "the model, and pass gradient: 'finite-difference' meanwhile.";
        throw new OnnxFlowError(
          'INVALID_MODEL',
          `${where}: ONNX Runtime cannot load ` +
            `${graph === 'model' ? 'the model' : 'the VJP graph built from the model'} on ` +
            `'${provider.name}': ${reason}. ${fix}` +
            (sessionOptions === undefined
              ? ''
              : ' If it loads without options.sessionOptions, one of those is at fault.'),
          { cause: error },
        );
      }
      failures.push({ provider, error });
      const last = k === providers.length - 1;
      if (!fallback || last) break;
      logger?.warn(
        `${where}: execution provider '${provider.name}' is unavailable (${reason}); ` +
          `falling back to '${providers[k + 1].name}'. ${provider.hint}`,
      );
    }
  }
  const lines = failures.map(
    ({ provider, error }) => `\n  - ${provider.name}: ${firstLine(error)}. ${provider.hint}`,
  );
  throw new OnnxFlowError(
    'PROVIDER_UNAVAILABLE',
    `${where}: no execution provider could run the model:${lines.join('')}`,
    { cause: failures.at(-1)?.error },
  );
}

/** Releases a session on a failure path, where the first error is the one worth reporting. */
async function releaseQuietly(session: OrtSessionLike): Promise<void> {
  try {
    await session.release();
  } catch {
    // The load already failed; a second error from the runtime would only hide the first.
  }
}

/**
 * How to report an autodiff that refuses the model: the `OnnxFlowError` code, what happened and
 * the fix. With `auto` the caller falls back to finite differences and logs `text` and `fix`;
 * with `autodiff` it throws them.
 */
function autodiffRefusal(
  error: OnnxAutodiffError,
  opset: number,
): { code: OnnxFlowErrorCode; text: string; fix: string } {
  if (error.code === 'UNSUPPORTED_OPSET') {
    return {
      code: 'UNSUPPORTED_MODEL',
      text:
        `the model imports default-domain opset ${opset}, and the autodiff needs 13 or above ` +
        '(ReduceSum takes its axes as an input from opset 13 on)',
      fix:
        'Re-export it at opset 13 or above, e.g. torch.onnx.export(..., opset_version=17), ' +
        'or convert it with onnx.version_converter.convert_version(model, 17)',
    };
  }
  const codes: Partial<Record<OnnxAutodiffError['code'], OnnxFlowErrorCode>> = {
    UNSUPPORTED_OPERATOR: 'UNSUPPORTED_OPERATOR',
    INVALID_MODEL: 'INVALID_MODEL',
  };
  return {
    code: codes[error.code] ?? 'UNSUPPORTED_MODEL',
    text:
      'the autodiff cannot differentiate the model: ' +
      error.message.replace(/^\S+\(\): /, '').replace(/\.$/, ''),
    fix: 'Re-export the model so that the autodiff covers it',
  };
}

/** Copies ONNX Runtime output data into a Float32Array slice. */
function readFloats(tensor: OrtTensorLike | undefined, name: string, where: string): Float32Array {
  if (tensor === undefined || !(tensor.data instanceof Float32Array)) {
    throw new OnnxFlowError(
      'RUN_FAILED',
      `${where}: the session returned no float32 output '${name}'.`,
    );
  }
  return tensor.data;
}

/**
 * Reads the shape of one data row from a run on a zero batch, for models whose exported `x`
 * has symbolic non-batch axes (common after a `Reshape`).
 */
async function probeDataShape(
  ort: OrtLike,
  session: OrtSessionLike,
  io: ResolvedInterface,
  where: string,
): Promise<number[]> {
  const rows = io.fixedBatch ?? 1;
  const z = new Float32Array(rows * dataSize(io.latentShape));
  let out: Record<string, OrtTensorLike>;
  try {
    out = await session.run(
      { [io.input]: new ort.Tensor('float32', z, [rows, ...io.latentShape]) },
      [io.x],
    );
  } catch (error) {
    throw new OnnxFlowError(
      'UNKNOWN_SHAPE',
      `${where}: output '${io.x}' has symbolic axes and a probe run failed ` +
        `(${(error as Error).message}). Pass dataShape, e.g. dataShape: [1, 8, 8].`,
      { cause: error },
    );
  }
  return [...(out[io.x]?.dims ?? []).slice(1)];
}

/**
 * Builds an {@link OnnxFlow} from model bytes on the given runtime.
 *
 * @param options - validated by the entry with `parseOptions()`; trusted here.
 * @internal used by the Node and browser `loadOnnxFlow()` entries
 */
export async function createOnnxFlow(
  ort: OrtLike,
  bytes: Uint8Array,
  source: string,
  options: OnnxFlowOptions,
  providers: readonly ProviderChoice[],
  fallback: boolean,
): Promise<OnnxFlow> {
  const where = 'loadOnnxFlow()';
  const gradientMode = options.gradient ?? 'auto';
  const maxBatch = options.maxBatch ?? 4096;

  const model = decodeModel(bytes, where, source);
  const io = modelInterface(model);
  const exportedNames = options.exported;
  const extraInputs = exportedNames
    ? new Set([exportedNames.cotangentX, exportedNames.cotangentLogDet])
    : new Set<string>();
  const resolved = resolveInterface(
    {
      ...io,
      inputs: io.inputs.filter((i) => !extraInputs.has(i.name)),
      outputs: io.outputs.filter((o) => o.name !== exportedNames?.gradient),
    },
    {
      ...(options.input === undefined ? {} : { input: options.input }),
      ...(options.outputs?.x === undefined ? {} : { x: options.outputs.x }),
      ...(options.outputs?.logDet === undefined ? {} : { logDet: options.outputs.logDet }),
      ...(options.dataShape === undefined ? {} : { dataShape: options.dataShape }),
    },
    where,
  );
  const d = dataSize(resolved.latentShape);
  if (exportedNames !== undefined) {
    for (const name of [exportedNames.cotangentX, exportedNames.cotangentLogDet]) {
      if (!io.inputs.some((i) => i.name === name)) {
        throw new OnnxFlowError(
          'NAME_NOT_FOUND',
          `${where}: exported cotangent input '${name}' not found; the model has inputs ` +
            `[${io.inputs.map((i) => i.name).join(', ')}]. Fix options.exported.`,
        );
      }
    }
    if (!io.outputs.some((o) => o.name === exportedNames.gradient)) {
      throw new OnnxFlowError(
        'NAME_NOT_FOUND',
        `${where}: exported gradient output '${exportedNames.gradient}' not found; the model has ` +
          `outputs [${io.outputs.map((o) => o.name).join(', ')}]. Fix options.exported.gradient.`,
      );
    }
  }

  // Decide where gradients come from before creating any session. Under 'auto', whatever the
  // autodiff refuses (an operator without a rule, an opset below 13, a rank it cannot infer)
  // falls back to finite differences with a warning; under 'autodiff' it is an error.
  let gradientSource: OnnxFlow['gradientSource'] =
    gradientMode === 'auto' ? 'autodiff' : gradientMode;
  let unsupported: readonly string[] = [];
  const refuse = (error: OnnxAutodiffError): void => {
    const { code, text, fix } = autodiffRefusal(error, io.opset);
    if (gradientMode === 'autodiff') {
      throw new OnnxFlowError(
        code,
        `${where}: ${text}. ${fix}, or pass gradient: 'auto' or 'finite-difference' to use ` +
          'finite differences instead.',
        { cause: error },
      );
    }
    gradientSource = 'finite-difference';
    unsupported = error.operators.map(formatUnsupported);
    options.logger?.warn(
      `${where}: ${text}; using finite differences (exact MALA, slower). ${fix} for exact ` +
        "gradients, or pass gradient: 'finite-difference' to choose them without this warning.",
    );
  };

  if (gradientSource === 'autodiff') {
    try {
      unsupported = unsupportedOperators(model, resolved.input, [resolved.x, resolved.logDet]);
    } catch (error) {
      if (!(error instanceof OnnxAutodiffError)) throw error;
      refuse(error);
    }
  }
  if (gradientSource === 'autodiff' && unsupported.length > 0) {
    const text =
      `no autodiff rule for operator(s) ${unsupported.join(', ')} on the path from ` +
      `'${resolved.input}' to the outputs`;
    if (gradientMode === 'autodiff') {
      throw new OnnxFlowError(
        'UNSUPPORTED_OPERATOR',
        `${where}: ${text}. Pass gradient: 'auto' or 'finite-difference' to use finite ` +
          'differences instead.',
      );
    }
    gradientSource = 'finite-difference';
    options.logger?.warn(`${where}: ${text}; using finite differences (exact MALA, slower).`);
  }

  // The VJP graph is built before any session: a model autodiff cannot handle after all (a rank
  // it cannot infer) still falls back to finite differences under 'auto'.
  let vjpBytes: Uint8Array | null = null;
  if (gradientSource === 'autodiff') {
    try {
      const vjpModel: onnx.ModelProto = buildVjpModel(model, {
        input: resolved.input,
        outputs: [resolved.x, resolved.logDet],
        cotangentNames: {
          [resolved.x]: VJP_COTANGENT_X,
          [resolved.logDet]: VJP_COTANGENT_LOGDET,
        },
        gradientName: VJP_GRADIENT,
      });
      vjpBytes = (vjpModel.constructor as typeof onnx.ModelProto).encode(vjpModel).finish();
    } catch (error) {
      if (!(error instanceof OnnxAutodiffError)) throw error;
      refuse(error);
    }
  }

  const { session: forwardSession, provider } = await createSession(
    ort,
    bytes,
    providers,
    fallback,
    options.logger,
    where,
    options.sessionOptions,
    'model',
  );
  // From here on, a failure releases the forward session before it propagates.
  let dataShape: readonly number[];
  let vjpSession: OrtSessionLike | null = null;
  try {
    dataShape = resolved.dataShape ?? (await probeDataShape(ort, forwardSession, resolved, where));
    if (d !== dataSize(dataShape)) {
      throw new OnnxFlowError(
        'UNSUPPORTED_MODEL',
        `${where}: input '${resolved.input}' has ${d} values a row but output '${resolved.x}' ` +
          `has ${dataSize(dataShape)}; a flow maps R^d to R^d. Check the input and output names` +
          (options.dataShape === undefined ? '.' : ', and options.dataShape.'),
      );
    }
    if (vjpBytes !== null) {
      vjpSession = (
        await createSession(
          ort,
          vjpBytes,
          [provider],
          false,
          options.logger,
          `${where} (VJP graph)`,
          options.sessionOptions,
          'vjp',
        )
      ).session;
    }
  } catch (error) {
    await releaseQuietly(forwardSession);
    throw error;
  }
  const size = dataSize(dataShape);

  const fixed = resolved.fixedBatch;
  const chunk = fixed ?? maxBatch;
  const latentDims = (rows: number) => [rows, ...resolved.latentShape];
  const logDetDims = (rows: number) => (resolved.logDetRank === 2 ? [rows, 1] : [rows]);
  let disposed = false;

  /** Runs `session` over `n` rows in chunks, padding the last one for a fixed-batch model. */
  const runChunked = async (
    session: OrtSessionLike,
    n: number,
    feeds: (start: number, rows: number, padded: number) => Record<string, unknown>,
    outputs: { name: string; width: number }[],
  ): Promise<Float32Array[]> => {
    if (disposed) {
      throw new OnnxFlowError(
        'DISPOSED',
        `${where}: the flow was disposed; load the model again to keep using it.`,
      );
    }
    const results = outputs.map((o) => new Float32Array(n * o.width));
    for (let start = 0; start < n; start += chunk) {
      const rows = Math.min(chunk, n - start);
      const padded = fixed ?? rows;
      let out: Record<string, OrtTensorLike>;
      try {
        out = await session.run(
          feeds(start, rows, padded),
          outputs.map((o) => o.name),
        );
      } catch (error) {
        throw new OnnxFlowError(
          'RUN_FAILED',
          `${where}: ONNX Runtime failed on a batch of ${padded} rows: ${(error as Error).message}`,
          { cause: error },
        );
      }
      outputs.forEach((o, k) => {
        const data = readFloats(out[o.name], o.name, where);
        results[k].set(data.subarray(0, rows * o.width), start * o.width);
      });
    }
    return results;
  };

  const slice = (
    array: Float32Array,
    width: number,
    start: number,
    rows: number,
    padded: number,
  ) => {
    if (rows === padded) return array.subarray(start * width, (start + rows) * width);
    const out = new Float32Array(padded * width);
    out.set(array.subarray(start * width, (start + rows) * width));
    return out;
  };

  const checkBatch = (z: Float32Array, n: number, method: string) => {
    if (!Number.isInteger(n) || n < 1 || !(z instanceof Float32Array) || z.length !== n * d) {
      throw new InvalidArgumentError(`OnnxFlow.${method}()`, [
        `z must be a Float32Array of length n * d = ${n} * ${d}; received ` +
          `${describeValue(z)} with n = ${describeValue(n)}. Pass a [n, ${d}] row-major batch.`,
      ]);
    }
  };

  const forward = async (z: Float32Array, n: number): Promise<FlowOutputs> => {
    checkBatch(z, n, 'forward');
    const zeros = exportedNames ? new Float32Array(chunk * size) : null;
    const [x, logDet] = await runChunked(
      forwardSession,
      n,
      (start, rows, padded) => {
        const feeds: Record<string, unknown> = {
          [resolved.input]: new ort.Tensor(
            'float32',
            slice(z, d, start, rows, padded),
            latentDims(padded),
          ),
        };
        if (exportedNames && zeros) {
          feeds[exportedNames.cotangentX] = new ort.Tensor(
            'float32',
            zeros.subarray(0, padded * size),
            [padded, ...dataShape],
          );
          feeds[exportedNames.cotangentLogDet] = new ort.Tensor(
            'float32',
            zeros.subarray(0, padded),
            logDetDims(padded),
          );
        }
        return feeds;
      },
      [
        { name: resolved.x, width: size },
        { name: resolved.logDet, width: 1 },
      ],
    );
    return { x, logDet };
  };

  const sessionVjp = async (
    session: OrtSessionLike,
    names: { cotangentX: string; cotangentLogDet: string; gradient: string },
    z: Float32Array,
    n: number,
    cotangent: FlowCotangent,
  ): Promise<FlowVjp> => {
    checkBatch(z, n, 'vjp');
    const cx = cotangent.x ?? new Float32Array(n * size);
    const cl = cotangent.logDet ?? new Float32Array(n);
    if (cx.length !== n * size || cl.length !== n) {
      throw new InvalidArgumentError('OnnxFlow.vjp()', [
        `cotangent.x must have length ${n * size} and cotangent.logDet length ${n}; received ` +
          `${cx.length} and ${cl.length}. Pass one cotangent row per latent row.`,
      ]);
    }
    const [x, logDet, grad] = await runChunked(
      session,
      n,
      (start, rows, padded) => ({
        [resolved.input]: new ort.Tensor(
          'float32',
          slice(z, d, start, rows, padded),
          latentDims(padded),
        ),
        [names.cotangentX]: new ort.Tensor('float32', slice(cx, size, start, rows, padded), [
          padded,
          ...dataShape,
        ]),
        [names.cotangentLogDet]: new ort.Tensor(
          'float32',
          slice(cl, 1, start, rows, padded),
          logDetDims(padded),
        ),
      }),
      [
        { name: resolved.x, width: size },
        { name: resolved.logDet, width: 1 },
        { name: names.gradient, width: d },
      ],
    );
    return { x, logDet, z: grad };
  };

  let vjp: DifferentiableFlow['vjp'];
  let jacobian: DifferentiableFlow['jacobian'];
  if (gradientSource === 'autodiff' && vjpSession !== null) {
    const session = vjpSession;
    const names = {
      cotangentX: VJP_COTANGENT_X,
      cotangentLogDet: VJP_COTANGENT_LOGDET,
      gradient: VJP_GRADIENT,
    };
    vjp = (z, n, cotangent) => sessionVjp(session, names, z, n, cotangent);
  } else if (gradientSource === 'exported' && exportedNames !== undefined) {
    vjp = (z, n, cotangent) => sessionVjp(forwardSession, exportedNames, z, n, cotangent);
  } else {
    const fd = finiteDifferenceFlow(forward, {
      latentDim: d,
      dataShape: dataShape,
      maxBatch,
      ...(options.finiteDifferenceStep === undefined
        ? {}
        : { relativeStep: options.finiteDifferenceStep }),
    });
    vjp = (z, n, cotangent) => fd.vjp(z, n, cotangent);
    jacobian = (z, n) => fd.jacobian(z, n);
  }

  return {
    latentDim: d,
    dataShape: dataShape,
    gradient: gradientSource === 'finite-difference' ? 'finite-difference' : 'exact',
    executionProvider: provider.name,
    gradientSource,
    unsupportedOperators: unsupported,
    io: { ...resolved, dataShape },
    operators: io.operators,
    opset: io.opset,
    forward,
    vjp,
    ...(jacobian === undefined ? {} : { jacobian }),
    async dispose() {
      if (disposed) return;
      disposed = true;
      try {
        await forwardSession.release();
      } finally {
        await vjpSession?.release();
      }
    },
  };
}
