/**
 * Latent targets. Each is an unnormalised log-density on the latent space of the form
 *
 *     log pi(z) = a log q_Z(z) + b logDet(z) + c log p_X(f(z)),
 *
 * so that its gradient costs one vector-Jacobian product of the flow.
 */
import { InvalidArgumentError, InvalidFlowError, describeValue } from './errors.js';
import type { DifferentiableFlow } from './flow.js';
import { dataSize } from './flow.js';
import { type TargetScratch, scratchFloat32, scratchFloat64 } from './target-scratch.js';

/** Buffers a target writes into; they belong to the caller and are reused between calls. */
export interface TargetBuffers {
  /** `[n]`, float64: log pi at each row. */
  readonly logPi: Float64Array;
  /** `[n, d]`, float64: grad log pi at each row; null when no gradient is wanted. */
  readonly grad: Float64Array | null;
  /**
   * Where the target keeps the cotangents and perturbed rows it builds, reused between calls.
   * Give each caller (each sampler) its own, never one shared by evaluations that may run at
   * the same time; without one, the target allocates them afresh for this call.
   */
  readonly scratch?: TargetScratch;
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
  /**
   * Short description, e.g. `tempered(beta=0.5)`. Checkpoints record it and a resumed run must
   * have the same, so targets that differ should be named apart.
   */
  readonly name: string;
  /**
   * Evaluates log pi (and its gradient when `out.grad` is not null) at the `n` rows of `z`.
   * Non-finite values are written as they come; the sampler treats them as divergences. The
   * target keeps no state between calls: anything it reuses lives in `out.scratch`.
   */
  evaluate(
    flow: DifferentiableFlow,
    z: Float32Array,
    n: number,
    out: TargetBuffers,
  ): Promise<TargetOutputs>;
}

const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/**
 * log N(z; 0, I) of row `i` of `z`, in float64.
 *
 * @param z `[n, d]` row-major
 * @param i row, an integer in [0, n)
 * @param d latent dimension, an integer >= 1
 * @returns `-|z_i|^2 / 2 - d log(2 pi) / 2`
 * @example
 * ```ts
 * const z = new Float32Array([0, 0, 1, 2]); // two rows of d = 2
 * const second = logStandardNormal(z, 1, 2); // -2.5 - log(2 pi)
 * ```
 */
export function logStandardNormal(z: ArrayLike<number>, i: number, d: number): number {
  let sum = 0;
  for (let j = i * d; j < (i + 1) * d; j++) sum += z[j] * z[j];
  return -0.5 * sum - d * HALF_LOG_TWO_PI;
}

/** `[length]` float32 of `slot`, every entry `value`, filled anew on every call. */
function constantCotangent(
  scratch: TargetScratch | undefined,
  slot: string,
  length: number,
  value: number,
): Float32Array {
  return scratchFloat32(scratch, slot, length).fill(value);
}

/**
 * Checks the lengths of what a flow method returned for a batch of `n` rows, so that a flow
 * breaking its contract is named here rather than read past its ends as NaN gradients. The
 * check itself allocates nothing; messages are built only when it fails.
 */
function checkFlowResult(
  where: string,
  method: 'forward' | 'vjp',
  result: { x?: ArrayLike<number>; logDet?: ArrayLike<number>; z?: ArrayLike<number> },
  n: number,
  d: number,
  size: number,
): void {
  if (
    typeof result === 'object' &&
    result !== null &&
    result.x?.length === n * size &&
    result.logDet?.length === n &&
    (method === 'forward' || result.z?.length === n * d)
  ) {
    return;
  }
  throw new InvalidFlowError(where, flowResultProblems(method, result, n, d, size));
}

/** The problems {@link checkFlowResult} found, one line each. */
function flowResultProblems(
  method: 'forward' | 'vjp',
  result: { x?: ArrayLike<number>; logDet?: ArrayLike<number>; z?: ArrayLike<number> },
  n: number,
  d: number,
  size: number,
): string[] {
  const call = method === 'vjp' ? `vjp(z, ${n}, cotangent)` : `forward(z, ${n})`;
  if (typeof result !== 'object' || result === null) {
    return [
      `${call} resolved to ${describeValue(result)}; expected an object { x, logDet` +
        `${method === 'vjp' ? ', z' : ''} }. Run checkFlow(flow) to list every broken promise.`,
    ];
  }
  const fix = ' Return one row of each output per input row; checkFlow(flow) lists every problem.';
  const expected: [string, ArrayLike<number> | undefined, number, string][] = [
    ['x', result.x, n * size, `n * D = ${n} * ${size}`],
    ['logDet', result.logDet, n, 'n'],
  ];
  if (method === 'vjp') expected.push(['z', result.z, n * d, `n * d = ${n} * ${d}`]);
  const problems: string[] = [];
  for (const [name, value, length, shape] of expected) {
    const got = value?.length;
    if (got === length) continue;
    const what = got === undefined ? describeValue(value) : `length ${got}`;
    problems.push(`${call} returned ${name} of ${what}; expected ${shape} = ${length}.${fix}`);
  }
  return problems;
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
  const targetName = name ?? `tempered(beta=${beta})`;
  const where = `${targetName}.evaluate()`;
  return {
    name: targetName,
    async evaluate(flow, z, n, out) {
      const d = flow.latentDim;
      const size = dataSize(flow.dataShape);
      const needsVjp = out.grad !== null && beta !== 0;
      let x: Float32Array;
      let logDet: Float32Array;
      let vjp: Float32Array | null = null;
      if (needsVjp) {
        const cotangent = constantCotangent(out.scratch, 'tempered.logDet', n, -beta);
        const result = await flow.vjp(z, n, { logDet: cotangent });
        checkFlowResult(where, 'vjp', result, n, d, size);
        ({ x, logDet, z: vjp } = result);
      } else {
        const result = await flow.forward(z, n);
        checkFlowResult(where, 'forward', result, n, d, size);
        ({ x, logDet } = result);
      }
      for (let i = 0; i < n; i++) {
        out.logPi[i] = logStandardNormal(z, i, d) - beta * logDet[i];
      }
      if (out.grad !== null) {
        for (let k = 0; k < n * d; k++) out.grad[k] = -z[k] + (vjp === null ? 0 : vjp[k]);
      }
      return { x, logDet, gradientRows: needsVjp ? n : 0, forwardRows: needsVjp ? 0 : n };
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
  /**
   * Name of the target, recorded in checkpoints; default `pullback`. A checkpoint is refused
   * when the resumed run's target has another name, so naming each density (e.g.
   * `posterior-v2`) is what lets a resume with a different density be caught.
   */
  readonly name?: string;
}

/**
 * The exact pull-back `p_X(f(z)) |det J_f(z)|` of an explicit data-space density: if `z` follows
 * it, `f(z)` is an exact draw of `p_X`, however imperfect the flow (the paper's Fig. 1a).
 *
 * @param logDensity batched log p_X, with or without its gradient; the `x` it receives may be a
 *   buffer that the next call overwrites, so copy it to keep it
 * @param options.relativeStep central-difference step, finite and > 0; default 1e-4
 * @param options.name a non-empty name recorded in checkpoints; default `pullback`
 * @throws InvalidArgumentError when logDensity is not a function, the step is not positive or
 *   the name is not a non-empty string
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
 * }, { name: 'standard-normal' });
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
  const name = options.name ?? 'pullback';
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidArgumentError('pullback()', [
      `options.name must be a non-empty string; received ${describeValue(name)}. ` +
        "Pass a name for the density such as 'posterior', or leave it out.",
    ]);
  }
  const where = `${name}.evaluate()`;
  return {
    name,
    async evaluate(flow, z, n, out) {
      const d = flow.latentDim;
      const size = dataSize(flow.dataShape);
      const forward = await flow.forward(z, n);
      checkFlowResult(where, 'forward', forward, n, d, size);
      const wantGradient = out.grad !== null;
      // The data-space gradient, rounded to float32, is the x cotangent of the VJP.
      const cotangentX = wantGradient
        ? scratchFloat32(out.scratch, 'pullback.cotangentX', n * size)
        : null;
      const density = await evaluateDensity(
        logDensity,
        forward.x,
        n,
        step,
        out.scratch,
        cotangentX,
      );
      for (let i = 0; i < n; i++) out.logPi[i] = forward.logDet[i] + density[i];
      if (out.grad === null || cotangentX === null) {
        return { x: forward.x, logDet: forward.logDet, gradientRows: 0, forwardRows: n };
      }
      const one = constantCotangent(out.scratch, 'pullback.logDet', n, 1);
      const vjp = await flow.vjp(z, n, { x: cotangentX, logDet: one });
      checkFlowResult(where, 'vjp', vjp, n, d, size);
      for (let k = 0; k < n * d; k++) out.grad[k] = vjp.z[k];
      return { x: forward.x, logDet: forward.logDet, gradientRows: n, forwardRows: n };
    },
  };
}

/**
 * Evaluates a data density at the `n` rows of `x` and returns its values; when `gradientOut` is
 * given, writes the data-space gradient there, from the density or, when it gives none, by
 * central differences.
 */
async function evaluateDensity(
  logDensity: DataLogDensity,
  x: Float32Array,
  n: number,
  relativeStep: number,
  scratch: TargetScratch | undefined,
  gradientOut: Float32Array | null,
): Promise<ArrayLike<number>> {
  const wantGradient = gradientOut !== null;
  const result = await logDensity(x, n);
  checkDensityResult(result, x.length, n, wantGradient);
  if (gradientOut === null) return result.logDensity;
  if (result.gradient !== undefined) {
    gradientOut.set(result.gradient);
    return result.logDensity;
  }

  // Central differences in data space: 2 D perturbed copies of every row, one batched call.
  const size = x.length / n;
  const rows = 2 * size * n;
  const perturbed = scratchFloat32(scratch, 'pullback.perturbed', rows * size);
  const steps = scratchFloat64(scratch, 'pullback.steps', x.length);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < size; j++) {
      const value = x[i * size + j];
      const h = relativeStep * Math.max(1, Math.abs(value));
      const plus = Math.fround(value + h);
      const minus = Math.fround(value - h);
      steps[i * size + j] = plus - minus;
      const rowPlus = (i * 2 * size + 2 * j) * size;
      const rowMinus = rowPlus + size;
      for (let a = 0; a < size; a++) {
        perturbed[rowPlus + a] = x[i * size + a];
        perturbed[rowMinus + a] = x[i * size + a];
      }
      perturbed[rowPlus + j] = plus;
      perturbed[rowMinus + j] = minus;
    }
  }
  const shifted = await logDensity(perturbed, rows);
  checkDensityResult(shifted, perturbed.length, rows, false);
  for (let k = 0; k < x.length; k++) {
    gradientOut[k] = (shifted.logDensity[2 * k] - shifted.logDensity[2 * k + 1]) / steps[k];
  }
  return result.logDensity;
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
 * @param logDensity batched log pi with its partial gradients; its arrays may be buffers that
 *   the next call overwrites
 * @param name recorded in checkpoints, where it is the only record of the target; default
 *   `custom`, so give targets that differ their own names
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
 * }, 'tempered-by-hand');
 * ```
 */
export function custom(logDensity: CustomLogDensity, name = 'custom'): LatentTarget {
  if (typeof logDensity !== 'function') {
    throw new InvalidArgumentError('custom()', [
      `logDensity must be a function (z, x, logDet, n) => { logPi, gradZ?, gradX?, ` +
        `gradLogDet? }; received ${describeValue(logDensity)}.`,
    ]);
  }
  const where = `${name}.evaluate()`;
  return {
    name,
    async evaluate(flow, z, n, out) {
      const d = flow.latentDim;
      const size = dataSize(flow.dataShape);
      const forward = await flow.forward(z, n);
      checkFlowResult(where, 'forward', forward, n, d, size);
      const result = await logDensity(z, forward.x, forward.logDet, n);
      checkCustomResult(result, n, d, size);
      for (let i = 0; i < n; i++) out.logPi[i] = result.logPi[i];
      if (out.grad === null) {
        return { x: forward.x, logDet: forward.logDet, gradientRows: 0, forwardRows: n };
      }
      const { gradX, gradLogDet, gradZ } = result;
      const hasFlowPart = gradX !== undefined || gradLogDet !== undefined;
      let vjp: Float32Array | null = null;
      if (hasFlowPart) {
        // The partial gradients, rounded to float32, are the cotangents of the VJP.
        const cotangentX = gradX === undefined ? undefined : float32Copy(out, 'custom.x', gradX);
        const cotangentLogDet =
          gradLogDet === undefined ? undefined : float32Copy(out, 'custom.logDet', gradLogDet);
        const cotangent = {
          ...(cotangentX === undefined ? {} : { x: cotangentX }),
          ...(cotangentLogDet === undefined ? {} : { logDet: cotangentLogDet }),
        };
        const flowResult = await flow.vjp(z, n, cotangent);
        checkFlowResult(where, 'vjp', flowResult, n, d, size);
        vjp = flowResult.z;
      }
      for (let k = 0; k < n * d; k++) {
        out.grad[k] = (gradZ === undefined ? 0 : gradZ[k]) + (vjp === null ? 0 : vjp[k]);
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

/** `values` rounded to float32 into the scratch array of `slot`. */
function float32Copy(out: TargetBuffers, slot: string, values: ArrayLike<number>): Float32Array {
  const array = scratchFloat32(out.scratch, slot, values.length);
  array.set(values);
  return array;
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
