/**
 * The TensorFlow.js flow: a `DifferentiableFlow` over any synchronous tfjs computation
 * `z -> (x, logDet)`, shared by graph models, layers models and plain functions. Gradients are
 * exact: reverse mode through tfjs' own tape. Every call runs inside `tf.tidy`; its outputs are
 * read with `await tensor.data()` and disposed, so no tensor outlives a call.
 */
import {
  type DifferentiableFlow,
  type FlowCotangent,
  type FlowOutputs,
  type FlowVjp,
  InvalidArgumentError,
  LatentLangevinError,
  dataSize,
  describeValue,
} from '@latent-langevin/core';
import * as tf from '@tensorflow/tfjs';
import { TfjsFlowError } from './errors.js';

/**
 * Where notices go; the library never writes to the console. `info` receives what the adapter did
 * on its own that changes nothing in the results (a graph rewritten with the same numbers);
 * `warn` is kept for notices that ask for action, of which the adapter has none at present, so
 * the ONNX adapter's logger (or `console`) fits as it is.
 */
export interface TfjsLogger {
  info(message: string): void;
  warn?(message: string): void;
}

/** Options shared by `fromGraphModel()`, `fromLayersModel()` and `fromFunction()`. */
export interface TfjsFlowOptions {
  /** Shape of one data row; read from a probe run on one zero row when absent. */
  readonly dataShape?: readonly number[];
  /** Largest batch run at once; larger batches are split. Integer >= 1, default 4096. */
  readonly maxBatch?: number;
  /** Receives notices; nothing is written to the console. */
  readonly logger?: TfjsLogger;
}

/** A `DifferentiableFlow` backed by TensorFlow.js. */
export interface TfjsFlow extends DifferentiableFlow {
  readonly gradient: 'exact';
  /** What the flow runs. */
  readonly source: 'graph-model' | 'layers-model' | 'function';
  /** The tfjs backend calls run on now: `tf.getBackend()`, e.g. `cpu`, `wasm`, `webgl`. */
  readonly backend: string;
  /** Shape of one latent row; `latentDim` is its size. */
  readonly latentShape: readonly number[];
  /** Kernels whose gradients this package registered in tfjs (see `registerGradients()`). */
  readonly registeredGradients: readonly string[];
}

/** One model call: `z` of `[rows, ...latentShape]` to `x` and `logDet`, recorded on the tape. */
export type TfjsRun = (z: tf.Tensor) => { x: tf.Tensor; logDet: tf.Tensor };

/** What {@link createTfjsFlow} needs to know about a model. */
export interface TfjsFlowSpec {
  /** Function name for messages, e.g. `fromGraphModel()`. */
  readonly where: string;
  readonly source: TfjsFlow['source'];
  /** Runs the model; must be synchronous and made of tfjs operations. */
  readonly run: TfjsRun;
  /**
   * How to run the model forward only, for the finite-difference fallback that the error for a
   * kernel without a gradient suggests: an expression of the latent batch `t`, e.g. `fn(t)`.
   */
  readonly forwardOnly: string;
  /** Turns an error of the model into the adapter's own, or returns undefined. */
  readonly explain?: (error: unknown) => Error | undefined;
  readonly latentShape: readonly number[];
  readonly dataShape?: readonly number[];
  /** The batch size the model requires, or null when any size runs. */
  readonly fixedBatch: number | null;
  readonly maxBatch: number;
  readonly registeredGradients: readonly string[];
  /** Releases the model, once, when the flow is disposed. */
  readonly release: () => void;
}

type Cotangent = { readonly x?: Float32Array; readonly logDet?: Float32Array };

/** The tensors of one batch, kept out of `tf.tidy` until their values are read. */
interface BatchTensors {
  readonly x: tf.Tensor;
  readonly logDet: tf.Tensor;
  /** The VJP, or null without a cotangent or when no path leads from `z` to the objective. */
  readonly z: tf.Tensor | null;
}

/** The values of one batch. */
interface BatchValues {
  readonly x: Float32Array;
  readonly logDet: Float32Array;
  readonly z: Float32Array | null;
}

/** Validates the `logger` option: absent, or an object with an `info` function. */
export function parseLogger(where: string, logger: unknown): TfjsLogger | undefined {
  if (logger === undefined) return undefined;
  const { info, warn } = (logger ?? {}) as { info?: unknown; warn?: unknown };
  if (typeof info !== 'function' || (warn !== undefined && typeof warn !== 'function')) {
    throw new InvalidArgumentError(where, [
      `options.logger must have an info(message) function (warn is optional); received ` +
        `${describeValue(logger)}. Pass e.g. logger: { info: (message) => notices.push(message) }, or leave it out.`,
    ]);
  }
  return logger as TfjsLogger;
}

/** Validates the `maxBatch` option. */
export function parseMaxBatch(where: string, maxBatch: unknown): number {
  const value = maxBatch ?? 4096;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new InvalidArgumentError(where, [
      `options.maxBatch must be an integer >= 1; received ${describeValue(value)}. ` +
        'Pass e.g. maxBatch: 1024.',
    ]);
  }
  return value;
}

/** Validates a shape option: a non-empty array of positive integers. */
export function parseShape(where: string, name: string, shape: unknown): number[] | undefined {
  if (shape === undefined) return undefined;
  if (
    !Array.isArray(shape) ||
    shape.length === 0 ||
    !shape.every((d) => typeof d === 'number' && Number.isInteger(d) && d > 0)
  ) {
    throw new InvalidArgumentError(where, [
      `options.${name} must be a non-empty array of positive integers; received ` +
        `${describeValue(shape)}. Pass e.g. ${name}: [2].`,
    ]);
  }
  return [...shape];
}

/**
 * Builds a {@link TfjsFlow} from a synchronous tfjs computation, after one probe run (forward and
 * gradient) on a batch of zero rows that reads `dataShape` and finds a missing gradient or an
 * asynchronous graph now rather than at the first sampler step.
 *
 * @internal used by `fromGraphModel()`, `fromLayersModel()` and `fromFunction()`
 */
export function createTfjsFlow(spec: TfjsFlowSpec): TfjsFlow {
  const { where, latentShape, fixedBatch } = spec;
  const d = dataSize(latentShape);
  const chunk = fixedBatch ?? spec.maxBatch;
  let dataShape: readonly number[] = spec.dataShape ?? [];
  let size = spec.dataShape === undefined ? 0 : dataSize(dataShape);
  let disposed = false;

  /** The adapter's error for what a batch of `rows` threw. */
  const translate = (error: unknown, rows: number): Error => {
    if (error instanceof LatentLangevinError) return error;
    const explained = spec.explain?.(error);
    if (explained !== undefined) return explained;
    const message = (error as Error)?.message ?? String(error);
    const kernel = /gradient function not found for (\S+?)\.?$/.exec(message)?.[1];
    if (kernel !== undefined) {
      const shape = ['n', ...latentShape].join(', ');
      return new TfjsFlowError(
        'UNSUPPORTED_OPERATOR',
        `${where}: tfjs has no gradient for the kernel '${kernel}' on the path from z to x and ` +
          'logDet, and this package registers none for it. Register one with ' +
          `tf.registerGradient({ kernelName: '${kernel}', ... }) before calling ${where}, or ` +
          'sample with finite differences, which need the forward pass alone: ' +
          `finiteDifferenceFlow(forward, { latentDim: ${d} }) from ` +
          '@latent-langevin/finite-difference, where forward = async (z, n) => ({ x, logDet }) ' +
          `reads x and logDet (await tensor.data()) from ${spec.forwardOnly} with ` +
          `t = tf.tensor(z, [${shape}]).`,
        { cause: error },
      );
    }
    const missing = /Kernel '([^']+)' not registered for backend '([^']+)'/.exec(message);
    if (missing !== null) {
      return new TfjsFlowError(
        'UNSUPPORTED_OPERATOR',
        `${where}: the tfjs backend '${missing[2]}' has no kernel '${missing[1]}', which the ` +
          'model or its gradient needs. Select a backend that has it before creating the flow ' +
          "(await useBackend('cpu')).",
        { cause: error },
      );
    }
    return new TfjsFlowError(
      'RUN_FAILED',
      `${where}: TensorFlow.js failed on a batch of ${rows} rows: ${message}`,
      { cause: error },
    );
  };

  /** Runs the model on `z` and checks what it returns; `rows` is the batch `z` holds. */
  const call = (z: tf.Tensor, rows: number): { x: tf.Tensor; logDet: tf.Tensor } => {
    const out = spec.run(z);
    const problems: string[] = [];
    if (!(out?.x instanceof tf.Tensor) || !(out?.logDet instanceof tf.Tensor)) {
      throw new TfjsFlowError(
        'SHAPE_MISMATCH',
        `${where}: the model returned ${describeValue(out)}; expected tensors x and logDet. ` +
          'Return { x, logDet } (a function) or name the outputs (a model).',
      );
    }
    const { x, logDet } = out;
    if (x.dtype !== 'float32' || logDet.dtype !== 'float32') {
      problems.push(`x is ${x.dtype} and logDet is ${logDet.dtype}; both must be float32`);
    }
    if (x.shape[0] !== rows || (size > 0 && x.size !== rows * size)) {
      problems.push(
        `x has shape [${x.shape.join(', ')}] for ${rows} rows; expected ` +
          `[${[rows, ...dataShape].join(', ')}] ([n, ...dataShape])`,
      );
    }
    const perRow = logDet.rank === 1 || (logDet.rank === 2 && logDet.shape[1] === 1);
    if (logDet.shape[0] !== rows || !perRow) {
      problems.push(
        `logDet has shape [${logDet.shape.join(', ')}] for ${rows} rows; expected [${rows}] or ` +
          `[${rows}, 1]`,
      );
    }
    if (problems.length > 0) {
      throw new TfjsFlowError(
        'SHAPE_MISMATCH',
        `${where}: the model's outputs do not fit the flow: ${problems.join('; ')}. Check the ` +
          'output names, dataShape, and that the model maps each row on its own.',
      );
    }
    return out;
  };

  /**
   * One batch, inside `tf.tidy`: forward outputs, and with a cotangent the gradient of
   * `sum(x * cx) + sum(logDet * cl)` with respect to `z`, which is the VJP. The outputs leave
   * tidy kept (`tf.keep`), for {@link readBatch} to read and dispose.
   *
   * tf.grad records and replays the tape synchronously on every backend; only the reading of the
   * results waits for a GPU (webgl, webgpu), and it is asynchronous. tfjs-converter still reads
   * shape-like parameters of a graph (slice bounds, axes) with dataSync(), which is a GPU
   * readback only for a parameter computed on the GPU; converted flows take them from constants,
   * which tfjs keeps in CPU memory.
   */
  const computeBatch = (
    z: Float32Array,
    rows: number,
    cotangent: Cotangent | null,
  ): BatchTensors => {
    const kept: tf.Tensor[] = [];
    const keep = (tensor: tf.Tensor): tf.Tensor => {
      kept.push(tf.keep(tensor));
      return tensor;
    };
    // The result leaves tidy by assignment: a returned container would be walked element by
    // element in search of tensors.
    let result: BatchTensors | undefined;
    try {
      tf.tidy(() => {
        result = tidyBatch(z, rows, cotangent, keep);
      });
    } catch (error) {
      kept.forEach((tensor) => tensor.dispose());
      throw translate(error, rows);
    }
    return result as BatchTensors;
  };

  const tidyBatch = (
    z: Float32Array,
    rows: number,
    cotangent: Cotangent | null,
    keep: (tensor: tf.Tensor) => tf.Tensor,
  ): BatchTensors => {
    const zT = tf.tensor(z, [rows, ...latentShape], 'float32');
    if (cotangent === null) {
      const out = call(zT, rows);
      return { x: keep(out.x), logDet: keep(out.logDet), z: null };
    }
    let x: tf.Tensor | undefined;
    let logDet: tf.Tensor | undefined;
    // The engine's gradients() with allowNoGradients: a flow whose logDet does not depend on
    // z (NICE) has no path from z to a logDet-only objective, and its gradient is zero.
    const { grads } = tf.engine().gradients(
      () => {
        const out = call(zT, rows);
        x = keep(out.x);
        logDet = keep(out.logDet);
        const terms: tf.Tensor[] = [];
        if (cotangent.x !== undefined) {
          terms.push(tf.sum(tf.mul(out.x, tf.tensor(cotangent.x, out.x.shape, 'float32'))));
        }
        if (cotangent.logDet !== undefined) {
          const cl = tf.tensor(cotangent.logDet, out.logDet.shape, 'float32');
          terms.push(tf.sum(tf.mul(out.logDet, cl)));
        }
        return terms.length === 0 ? tf.scalar(0) : terms.reduce((a, b) => tf.add(a, b));
      },
      [zT],
      undefined,
      true,
    );
    const gradient = grads[0];
    return {
      x: x as tf.Tensor,
      logDet: logDet as tf.Tensor,
      z: gradient == null ? null : keep(gradient),
    };
  };

  const release = (tensors: BatchTensors) => {
    tensors.x.dispose();
    tensors.logDet.dispose();
    tensors.z?.dispose();
  };

  /**
   * Reads the values of a batch and disposes its tensors. On cpu, `data()` resolves to the
   * tensor's own array, so nothing is copied; elsewhere it is a download.
   */
  const readBatch = async (
    tensors: BatchTensors,
    rows: number,
    withGradient: boolean,
  ): Promise<BatchValues> => {
    try {
      const [x, logDet, dz] = await Promise.all([
        tensors.x.data() as Promise<Float32Array>,
        tensors.logDet.data() as Promise<Float32Array>,
        tensors.z?.data() as Promise<Float32Array> | undefined,
      ]);
      const z = dz ?? (withGradient ? new Float32Array(rows * d) : null);
      return { x, logDet, z };
    } catch (error) {
      throw translate(error, rows);
    } finally {
      release(tensors);
    }
  };

  const runBatch = (z: Float32Array, rows: number, cotangent: Cotangent | null) =>
    readBatch(computeBatch(z, rows, cotangent), rows, cotangent !== null);

  /** Never hands back the caller's own array (an identity model returns its input's data). */
  const own = (array: Float32Array, z: Float32Array) =>
    array.buffer === z.buffer ? array.slice() : array;

  /** Runs `n` rows in batches of at most `chunk`, padding the last for a fixed-batch model. */
  const runAll = async (
    z: Float32Array,
    n: number,
    cotangent: Cotangent | null,
  ): Promise<FlowVjp> => {
    if (disposed) {
      throw new TfjsFlowError(
        'DISPOSED',
        `${where}: the flow was disposed; create it again to keep using the model.`,
      );
    }
    if (n <= chunk && fixedBatch === null) {
      const out = await runBatch(z, n, cotangent);
      return {
        x: own(out.x, z),
        logDet: own(out.logDet, z),
        z: out.z === null ? new Float32Array(0) : own(out.z, z),
      };
    }
    const x = new Float32Array(n * size);
    const logDet = new Float32Array(n);
    const gradient = new Float32Array(cotangent === null ? 0 : n * d);
    for (let start = 0; start < n; start += chunk) {
      const rows = Math.min(chunk, n - start);
      const padded = fixedBatch ?? rows;
      const slice = (array: Float32Array | undefined, width: number) => {
        if (array === undefined) return undefined;
        const part = array.subarray(start * width, (start + rows) * width);
        if (rows === padded) return part;
        const out = new Float32Array(padded * width);
        out.set(part);
        return out;
      };
      const out = await runBatch(
        slice(z, d) as Float32Array,
        padded,
        cotangent === null
          ? null
          : { x: slice(cotangent.x, size), logDet: slice(cotangent.logDet, 1) },
      );
      x.set(out.x.subarray(0, rows * size), start * size);
      logDet.set(out.logDet.subarray(0, rows), start);
      if (out.z !== null) gradient.set(out.z.subarray(0, rows * d), start * d);
    }
    return { x, logDet, z: gradient };
  };

  const checkBatch = (z: Float32Array, n: number, method: string) => {
    if (!Number.isInteger(n) || n < 1 || !(z instanceof Float32Array) || z.length !== n * d) {
      throw new InvalidArgumentError(`TfjsFlow.${method}()`, [
        `z must be a Float32Array of length n * d = ${n} * ${d}; received ` +
          `${describeValue(z)} with n = ${describeValue(n)}. Pass a [n, ${d}] row-major batch.`,
      ]);
    }
  };

  // Probe: one forward and one gradient (through x and logDet) on zero rows, before the flow is
  // handed out. Construction is synchronous, so it reads shapes only, never values. When a kernel
  // has no gradient, tfjs throws without disposing what it saved for the backward pass, so a
  // construction that fails here leaves those few tensors behind.
  const probeRows = fixedBatch ?? 1;
  const probeZ = new Float32Array(probeRows * d);
  const probe = computeBatch(probeZ, probeRows, null);
  const xShape = probe.x.shape;
  release(probe);
  dataShape = spec.dataShape ?? xShape.slice(1);
  size = dataSize(dataShape);
  if (size !== d) {
    throw new TfjsFlowError(
      'UNSUPPORTED_MODEL',
      `${where}: the latent input has ${d} values a row but x has ${size} ` +
        `(shape [${dataShape.join(', ')}]); a flow maps R^d to R^d. Check the input and output ` +
        'names, or latentShape and dataShape.',
    );
  }
  release(
    computeBatch(probeZ, probeRows, {
      x: new Float32Array(probeRows * size).fill(1),
      logDet: new Float32Array(probeRows).fill(1),
    }),
  );

  return {
    latentDim: d,
    dataShape,
    latentShape,
    gradient: 'exact',
    source: spec.source,
    get backend() {
      return tf.getBackend();
    },
    registeredGradients: spec.registeredGradients,
    async forward(z: Float32Array, n: number): Promise<FlowOutputs> {
      checkBatch(z, n, 'forward');
      const { x, logDet } = await runAll(z, n, null);
      return { x, logDet };
    },
    async vjp(z: Float32Array, n: number, cotangent: FlowCotangent): Promise<FlowVjp> {
      checkBatch(z, n, 'vjp');
      const cx = cotangent?.x;
      const cl = cotangent?.logDet;
      if (
        (cx !== undefined && (!(cx instanceof Float32Array) || cx.length !== n * size)) ||
        (cl !== undefined && (!(cl instanceof Float32Array) || cl.length !== n))
      ) {
        throw new InvalidArgumentError('TfjsFlow.vjp()', [
          `cotangent.x must be a Float32Array of length ${n * size} and cotangent.logDet one of ` +
            `length ${n}; received ${describeValue(cx)} and ${describeValue(cl)}. Pass one ` +
            'cotangent row per latent row.',
        ]);
      }
      return runAll(z, n, { x: cx, logDet: cl });
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      spec.release();
    },
  };
}
