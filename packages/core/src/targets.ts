/**
 * Latent targets. Each is an unnormalised log-density on the latent space of the form
 *
 *     log pi(z) = a log q_Z(z) + b logDet(z) + c log p_X(f(z)),
 *
 * so that its gradient costs one vector-Jacobian product of the flow.
 */
import { InvalidArgumentError, describeValue } from './errors.js';
import type { DifferentiableFlow, FlowOutputs } from './flow.js';
import { dataSize } from './flow.js';

/** Buffers a target writes into; they belong to the caller and are reused between calls. */
export interface TargetBuffers {
  /** `[n]`, float64: log pi at each row. */
  readonly logPi: Float64Array;
  /** `[n, d]`, float64: grad log pi at each row; null when no gradient is wanted. */
  readonly grad: Float64Array | null;
}

/** What a target evaluation returns besides the buffers: the flow outputs at the same rows. */
export interface TargetOutputs {
  /** `[n, ...dataShape]`. */
  readonly x: Float32Array;
  /** `[n]`. */
  readonly logDet: Float32Array;
  /** Rows of `z` pushed through the flow's vector-Jacobian product by this call. */
  readonly gradientRows: number;
  /** Rows of `z` pushed through the flow's forward map by this call. */
  readonly forwardRows: number;
}

/** An unnormalised latent log-density that the sampler can evaluate in batches. */
export interface LatentTarget {
  /** Short description, e.g. `tempered(beta=0.5)`. */
  readonly name: string;
  /**
   * Evaluates log pi (and its gradient when `out.grad` is not null) at the `n` rows of `z`.
   * Non-finite values are written as they come; the sampler treats them as divergences.
   */
  evaluate(
    flow: DifferentiableFlow,
    z: Float32Array,
    n: number,
    out: TargetBuffers,
  ): Promise<TargetOutputs>;
}

const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/** log N(z; 0, I) of row `i` of `z` (`[n, d]`), in float64. */
export function logStandardNormal(z: ArrayLike<number>, i: number, d: number): number {
  let sum = 0;
  for (let j = i * d; j < (i + 1) * d; j++) sum += z[j] * z[j];
  return -0.5 * sum - d * HALF_LOG_TWO_PI;
}

/** Cotangent arrays filled with one constant, cached by batch size so the hot loop reuses them. */
class ConstantCotangent {
  private cache = new Map<number, Float32Array>();

  constructor(private readonly value: number) {}

  get(n: number): Float32Array {
    let array = this.cache.get(n);
    if (array === undefined) {
      array = new Float32Array(n).fill(this.value);
      this.cache.set(n, array);
    }
    return array;
  }
}

/**
 * The flow's own latent density `q_Z = N(0, I)`. Sampling it reproduces naive sampling, which
 * makes it a check of the sampler rather than a method.
 *
 * @example
 * ```ts
 * const run = await sample(flow, { target: base(), chains: 4, draws: 1000, seed: 1 });
 * ```
 */
export function base(): LatentTarget {
  return tempered({ beta: 0 }, 'base()');
}

/**
 * The tempered latent density `q_Z(z) |det J_f(z)|^-beta`. With `beta = 1` it is `q_X(f(z))`, the
 * flow's learnt density read at `f(z)` (the paper's Fig. 1b): it removes latent mass where the
 * Jacobian explodes, the regions that naive sampling maps between the modes.
 *
 * @param options.beta tempering exponent, finite and non-negative; 0 gives `base()`
 * @throws InvalidArgumentError when beta is not a finite non-negative number
 * @example
 * ```ts
 * const target = tempered({ beta: 1 });
 * ```
 */
export function tempered(options: { beta: number }, name?: string): LatentTarget {
  const beta = options?.beta;
  if (typeof beta !== 'number' || !Number.isFinite(beta) || beta < 0) {
    throw new InvalidArgumentError('tempered()', [
      `beta must be a finite number >= 0; received ${describeValue(beta)}. ` +
        'Pass e.g. { beta: 1 } for the flow density, or { beta: 0 } for the base density.',
    ]);
  }
  const cotangent = new ConstantCotangent(-beta);
  return {
    name: name ?? `tempered(beta=${beta})`,
    async evaluate(flow, z, n, out) {
      const d = flow.latentDim;
      const needsVjp = out.grad !== null && beta !== 0;
      const result: FlowOutputs & { z?: Float32Array } = needsVjp
        ? await flow.vjp(z, n, { logDet: cotangent.get(n) })
        : await flow.forward(z, n);
      for (let i = 0; i < n; i++) {
        out.logPi[i] = logStandardNormal(z, i, d) - beta * result.logDet[i];
      }
      if (out.grad !== null) {
        const vjp = result.z;
        for (let k = 0; k < n * d; k++) out.grad[k] = -z[k] + (vjp === undefined ? 0 : vjp[k]);
      }
      return {
        x: result.x,
        logDet: result.logDet,
        gradientRows: needsVjp ? n : 0,
        forwardRows: needsVjp ? 0 : n,
      };
    },
  };
}

/** A data-space log-density evaluated on a batch. */
export interface DataLogDensityResult {
  /** `[n]`: log p_X at each row, up to a constant. */
  readonly logDensity: ArrayLike<number>;
  /** `[n, ...dataShape]`: grad_x log p_X; when absent it is taken by central differences. */
  readonly gradient?: ArrayLike<number>;
}

/**
 * A data-space log-density: `x` is `[n, ...dataShape]` row-major, `n` the batch size.
 * Returning the gradient saves `2 D` density evaluations a row.
 */
export type DataLogDensity = (
  x: Float32Array,
  n: number,
) => DataLogDensityResult | Promise<DataLogDensityResult>;

/** Options of {@link pullback}. */
export interface PullbackOptions {
  /**
   * Step of the central differences used when the density gives no gradient, relative to
   * `max(1, |x_j|)`; default 1e-4 (the density is evaluated in float64).
   */
  readonly relativeStep?: number;
}

/**
 * The exact pull-back `p_X(f(z)) |det J_f(z)|` of an explicit data-space density: if `z` follows
 * it, `f(z)` is an exact draw of `p_X`, however imperfect the flow (the paper's Fig. 1a).
 *
 * @param logDensity batched log p_X, with or without its gradient
 * @throws InvalidArgumentError when logDensity is not a function or the step is not positive
 * @example
 * ```ts
 * const target = pullback((x, n) => {
 *   const logDensity = new Float64Array(n);
 *   const gradient = new Float64Array(2 * n);
 *   for (let i = 0; i < n; i++) {
 *     logDensity[i] = -0.5 * (x[2 * i] ** 2 + x[2 * i + 1] ** 2);
 *     gradient[2 * i] = -x[2 * i];
 *     gradient[2 * i + 1] = -x[2 * i + 1];
 *   }
 *   return { logDensity, gradient };
 * });
 * ```
 */
export function pullback(logDensity: DataLogDensity, options: PullbackOptions = {}): LatentTarget {
  if (typeof logDensity !== 'function') {
    throw new InvalidArgumentError('pullback()', [
      `logDensity must be a function (x, n) => { logDensity, gradient? }; received ` +
        `${describeValue(logDensity)}. Pass the batched log-density of the data-space target.`,
    ]);
  }
  const step = options.relativeStep ?? 1e-4;
  if (typeof step !== 'number' || !(step > 0) || !Number.isFinite(step)) {
    throw new InvalidArgumentError('pullback()', [
      `options.relativeStep must be a finite number > 0; received ${describeValue(step)}. ` +
        'Leave it out for the default 1e-4.',
    ]);
  }
  const one = new ConstantCotangent(1);
  let cotangentX: Float32Array | null = null; // reused between calls of the same batch size
  return {
    name: 'pullback',
    async evaluate(flow, z, n, out) {
      const d = flow.latentDim;
      const forward = await flow.forward(z, n);
      const wantGradient = out.grad !== null;
      const density = await evaluateDensity(logDensity, forward.x, n, wantGradient, step);
      for (let i = 0; i < n; i++) out.logPi[i] = forward.logDet[i] + density.logDensity[i];
      if (out.grad === null) {
        return { x: forward.x, logDet: forward.logDet, gradientRows: 0, forwardRows: n };
      }
      const gradient = density.gradient as ArrayLike<number>;
      if (cotangentX === null || cotangentX.length !== gradient.length) {
        cotangentX = new Float32Array(gradient.length);
      }
      cotangentX.set(gradient);
      const vjp = await flow.vjp(z, n, { x: cotangentX, logDet: one.get(n) });
      for (let k = 0; k < n * d; k++) out.grad[k] = vjp.z[k];
      return { x: forward.x, logDet: forward.logDet, gradientRows: n, forwardRows: n };
    },
  };
}

/** Evaluates a data density, filling in its gradient by central differences when it has none. */
async function evaluateDensity(
  logDensity: DataLogDensity,
  x: Float32Array,
  n: number,
  wantGradient: boolean,
  relativeStep: number,
): Promise<{ logDensity: ArrayLike<number>; gradient?: ArrayLike<number> }> {
  const result = await logDensity(x, n);
  checkDensityResult(result, x.length, n, wantGradient);
  if (!wantGradient || result.gradient !== undefined) return result;

  // Central differences in data space: 2 D perturbed copies of every row, one batched call.
  const size = x.length / n;
  const perturbed = new Float32Array(2 * size * x.length);
  const steps = new Float64Array(x.length);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < size; j++) {
      const value = x[i * size + j];
      const h = relativeStep * Math.max(1, Math.abs(value));
      const plus = Math.fround(value + h);
      const minus = Math.fround(value - h);
      steps[i * size + j] = plus - minus;
      const rowPlus = (i * 2 * size + 2 * j) * size;
      const rowMinus = rowPlus + size;
      perturbed.set(x.subarray(i * size, (i + 1) * size), rowPlus);
      perturbed.set(x.subarray(i * size, (i + 1) * size), rowMinus);
      perturbed[rowPlus + j] = plus;
      perturbed[rowMinus + j] = minus;
    }
  }
  const shifted = await logDensity(perturbed, 2 * size * n);
  checkDensityResult(shifted, perturbed.length, 2 * size * n, false);
  const gradient = new Float64Array(x.length);
  for (let k = 0; k < x.length; k++) {
    gradient[k] = (shifted.logDensity[2 * k] - shifted.logDensity[2 * k + 1]) / steps[k];
  }
  return { logDensity: result.logDensity, gradient };
}

function checkDensityResult(
  result: DataLogDensityResult,
  xLength: number,
  n: number,
  wantGradient: boolean,
): void {
  const problems: string[] = [];
  if (result === null || typeof result !== 'object' || result.logDensity === undefined) {
    problems.push(
      `it returned ${describeValue(result)}; expected an object { logDensity, gradient? }.`,
    );
  } else {
    if (result.logDensity.length !== n) {
      problems.push(
        `logDensity has length ${result.logDensity.length}; expected n = ${n}, one value a row.`,
      );
    }
    if (wantGradient && result.gradient !== undefined && result.gradient.length !== xLength) {
      problems.push(
        `gradient has length ${result.gradient.length}; expected ${xLength}, the size of x.`,
      );
    }
  }
  if (problems.length > 0) {
    throw new InvalidArgumentError(
      'pullback(): the data log-density',
      problems.map((p) => `${p} Return one value per row (and the gradient of x's shape).`),
    );
  }
}

/** What a custom target returns for a batch. */
export interface CustomTargetResult {
  /** `[n]`: log pi at each row. */
  readonly logPi: ArrayLike<number>;
  /** `[n, d]`: partial gradient with respect to `z` (the explicit dependence); default 0. */
  readonly gradZ?: ArrayLike<number>;
  /** `[n, ...dataShape]`: partial gradient with respect to `x = f(z)`; default 0. */
  readonly gradX?: ArrayLike<number>;
  /** `[n]`: partial derivative with respect to `logDet(z)`; default 0. */
  readonly gradLogDet?: ArrayLike<number>;
}

/** A log-density of `(z, x, logDet)` on a batch: `z` `[n, d]`, `x` `[n, ...]`, `logDet` `[n]`. */
export type CustomLogDensity = (
  z: Float32Array,
  x: Float32Array,
  logDet: Float32Array,
  n: number,
) => CustomTargetResult | Promise<CustomTargetResult>;

/**
 * Any target written as a function of `(z, x = f(z), logDet(z))` with its partial gradients;
 * the total gradient is `gradZ + J^T gradX + grad logDet * gradLogDet`.
 *
 * @throws InvalidArgumentError when logDensity is not a function
 * @example
 * ```ts
 * // the same as tempered({ beta: 1 }), written by hand
 * const target = custom((z, x, logDet, n) => {
 *   const logPi = new Float64Array(n);
 *   const gradZ = new Float64Array(z.length);
 *   for (let i = 0; i < n; i++) logPi[i] = logStandardNormal(z, i, 2) - logDet[i];
 *   for (let k = 0; k < z.length; k++) gradZ[k] = -z[k];
 *   return { logPi, gradZ, gradLogDet: new Float64Array(n).fill(-1) };
 * });
 * ```
 */
export function custom(logDensity: CustomLogDensity, name = 'custom'): LatentTarget {
  if (typeof logDensity !== 'function') {
    throw new InvalidArgumentError('custom()', [
      `logDensity must be a function (z, x, logDet, n) => { logPi, gradZ?, gradX?, ` +
        `gradLogDet? }; received ${describeValue(logDensity)}.`,
    ]);
  }
  return {
    name,
    async evaluate(flow, z, n, out) {
      const d = flow.latentDim;
      const size = dataSize(flow.dataShape);
      const forward = await flow.forward(z, n);
      const result = await logDensity(z, forward.x, forward.logDet, n);
      checkCustomResult(result, n, d, size);
      for (let i = 0; i < n; i++) out.logPi[i] = result.logPi[i];
      if (out.grad === null) {
        return { x: forward.x, logDet: forward.logDet, gradientRows: 0, forwardRows: n };
      }
      const hasFlowPart = result.gradX !== undefined || result.gradLogDet !== undefined;
      let vjp: Float32Array | null = null;
      if (hasFlowPart) {
        const cotangent = {
          ...(result.gradX === undefined ? {} : { x: Float32Array.from(result.gradX) }),
          ...(result.gradLogDet === undefined
            ? {}
            : { logDet: Float32Array.from(result.gradLogDet) }),
        };
        vjp = (await flow.vjp(z, n, cotangent)).z;
      }
      for (let k = 0; k < n * d; k++) {
        out.grad[k] = (result.gradZ === undefined ? 0 : result.gradZ[k]) + (vjp?.[k] ?? 0);
      }
      return {
        x: forward.x,
        logDet: forward.logDet,
        gradientRows: hasFlowPart ? n : 0,
        forwardRows: n,
      };
    },
  };
}

function checkCustomResult(result: CustomTargetResult, n: number, d: number, size: number): void {
  const problems: string[] = [];
  const expect = (name: string, value: ArrayLike<number> | undefined, length: number) => {
    if (value !== undefined && value.length !== length) {
      problems.push(`${name} has length ${value.length}; expected ${length}.`);
    }
  };
  if (result === null || typeof result !== 'object' || result.logPi === undefined) {
    problems.push(`it returned ${describeValue(result)}; expected an object with logPi.`);
  } else {
    expect('logPi', result.logPi, n);
    expect('gradZ', result.gradZ, n * d);
    expect('gradX', result.gradX, n * size);
    expect('gradLogDet', result.gradLogDet, n);
  }
  if (problems.length > 0) throw new InvalidArgumentError('custom(): the log-density', problems);
}
