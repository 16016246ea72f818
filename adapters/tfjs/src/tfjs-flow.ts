/**
 * The TensorFlow.js flow: a `DifferentiableFlow` over any synchronous tfjs computation
 * `z -> (x, logDet)`, shared by graph models, layers models and plain functions. Gradients are
 * exact: reverse mode through tfjs' own tape. Every call runs inside `tf.tidy`, so no tensor
 * outlives it.
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

/** Where notices go (a graph rewritten, for instance); the library never writes to the console. */
export interface TfjsLogger {
  warn(message: string): void;
  info?(message: string): void;
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

/** Reads a float32 tensor without copying where the backend allows (cpu: the tensor's array). */
function read(tensor: tf.Tensor): Float32Array {
  return tensor.dataSync() as Float32Array;
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
      return new TfjsFlowError(
        'UNSUPPORTED_OPERATOR',
        `${where}: tfjs has no gradient for the kernel '${kernel}' on the path from z to x and ` +
          'logDet, and this package registers none for it. Register one with ' +
          'tf.registerGradient, or use finite differences from ' +
          '@latent-langevin/finite-difference: ' +
          'finiteDifferenceFlow((z, n) => flow.forward(z, n), { latentDim }).',
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
   * `sum(x * cx) + sum(logDet * cl)` with respect to `z`, which is the VJP.
   */
  const runBatch = (
    z: Float32Array,
    rows: number,
    cotangent: Cotangent | null,
  ): { x: Float32Array; logDet: Float32Array; z: Float32Array | null; xShape: number[] } => {
    // The result leaves tidy by assignment: a returned container would be walked element by
    // element in search of tensors.
    let result: ReturnType<typeof tidyBatch> | undefined;
    try {
      tf.tidy(() => {
        result = tidyBatch(z, rows, cotangent);
      });
    } catch (error) {
      throw translate(error, rows);
    }
    return result as ReturnType<typeof tidyBatch>;
  };

  const tidyBatch = (
    z: Float32Array,
    rows: number,
    cotangent: Cotangent | null,
  ): { x: Float32Array; logDet: Float32Array; z: Float32Array | null; xShape: number[] } => {
    const zT = tf.tensor(z, [rows, ...latentShape], 'float32');
    if (cotangent === null) {
      const out = call(zT, rows);
      return { x: read(out.x), logDet: read(out.logDet), z: null, xShape: out.x.shape };
    }
    let x: Float32Array = new Float32Array(0);
    let logDet: Float32Array = new Float32Array(0);
    let xShape: number[] = [];
    // The engine's gradients() with allowNoGradients: a flow whose logDet does not depend on
    // z (NICE) has no path from z to a logDet-only objective, and its gradient is zero.
    const { grads } = tf.engine().gradients(
      () => {
        const out = call(zT, rows);
        x = read(out.x);
        logDet = read(out.logDet);
        xShape = out.x.shape;
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
    const dz = gradient == null ? new Float32Array(rows * d) : read(gradient);
    return { x, logDet, z: dz, xShape };
  };

  /** Never hands back the caller's own array (an identity model returns its input's data). */
  const own = (array: Float32Array, z: Float32Array) =>
    array.buffer === z.buffer ? array.slice() : array;

  /** Runs `n` rows in batches of at most `chunk`, padding the last for a fixed-batch model. */
  const runAll = (z: Float32Array, n: number, cotangent: Cotangent | null): FlowVjp => {
    if (disposed) {
      throw new TfjsFlowError(
        'DISPOSED',
        `${where}: the flow was disposed; create it again to keep using the model.`,
      );
    }
    if (n <= chunk && fixedBatch === null) {
      const out = runBatch(z, n, cotangent);
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
      const out = runBatch(
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
  // handed out.
  const probeRows = fixedBatch ?? 1;
  const probeZ = new Float32Array(probeRows * d);
  const probe = runBatch(probeZ, probeRows, null);
  dataShape = spec.dataShape ?? probe.xShape.slice(1);
  size = dataSize(dataShape);
  if (size !== d) {
    throw new TfjsFlowError(
      'UNSUPPORTED_MODEL',
      `${where}: the latent input has ${d} values a row but x has ${size} ` +
        `(shape [${dataShape.join(', ')}]); a flow maps R^d to R^d. Check the input and output ` +
        'names, or latentShape and dataShape.',
    );
  }
  runBatch(probeZ, probeRows, {
    x: new Float32Array(probeRows * size).fill(1),
    logDet: new Float32Array(probeRows).fill(1),
  });

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
      const { x, logDet } = runAll(z, n, null);
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
