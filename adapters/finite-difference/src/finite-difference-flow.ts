/**
 * A `DifferentiableFlow` from any forward-only flow, by central finite differences.
 *
 * Exactness. MALA stays exact with any drift that is a deterministic function of the current
 * state: the Metropolis-Hastings ratio only needs the proposal density in both directions, and
 * both are evaluated with the same drift function. Central differences
 * are such a function, as long as the wrapped model is deterministic and treats the rows of a
 * batch independently; the chain is then exact, the approximate gradient only costs speed. So
 * this adapter draws no random numbers, and a row's gradient depends on its own perturbed rows
 * alone, whatever `maxBatch` is.
 *
 * Step. A central difference of a function evaluated with relative error `eps` has error
 * `O(h^2)` (truncation) plus `O(eps / h)` (rounding), smallest near `h ~ eps^(1/3)` times the
 * scale of the coordinate. Models take and return float32, `eps = 2^-23`, hence the default
 * relative step `2^(-23/3) ≈ 4.9e-3` and a step `h_j = relativeStep * max(1, |z_j|)`. The
 * perturbed coordinates `z_j ± h_j` are rounded to float32 first, and the difference quotient
 * divides by their actual distance, so the step the model saw is the step divided by.
 */
import {
  dataSize,
  describeValue,
  InvalidArgumentError,
  InvalidFlowError,
  unknownKeyIssues,
} from '@latent-langevin/core';
import type {
  DifferentiableFlow,
  FlowCotangent,
  FlowOutputs,
  FlowVjp,
} from '@latent-langevin/core';

/** Outputs of a wrapped forward map: `x` is `[rows, ...dataShape]`, `logDet` is `[rows]`. */
export interface ForwardOutputs {
  readonly x: ArrayLike<number>;
  readonly logDet: ArrayLike<number>;
}

/**
 * A forward-only flow: maps a batch `z` of `[rows, d]` (row-major float32) to its outputs. It
 * must be deterministic and treat rows independently (see the module notes on exactness).
 */
export type ForwardFunction = (
  z: Float32Array,
  rows: number,
) => Promise<ForwardOutputs> | ForwardOutputs;

/** Options of {@link finiteDifferenceFlow}. */
export interface FiniteDifferenceOptions {
  /** Latent dimension `d`, a positive integer. */
  readonly latentDim: number;
  /** Shape of one data point, positive integers whose product is `latentDim`; default `[d]`. */
  readonly dataShape?: readonly number[];
  /** Most rows per call of the wrapped forward, a positive integer; default 4096. */
  readonly maxBatch?: number;
  /** Step relative to `max(1, |z_j|)`, in [1e-6, 0.5]; default `2^(-23/3) ≈ 4.9e-3`. */
  readonly relativeStep?: number;
  /** Called once by `dispose()`, to release the wrapped model. */
  readonly dispose?: () => void | Promise<void>;
}

/** A flow whose gradients are central finite differences of a forward-only model. */
export interface FiniteDifferenceFlow extends DifferentiableFlow {
  readonly gradient: 'finite-difference';
  /** Most rows per call of the wrapped forward. */
  readonly maxBatch: number;
  /** Step relative to `max(1, |z_j|)`. */
  readonly relativeStep: number;
  /**
   * Full Jacobian `[n, D, d]` of a batch `z` of `[n, d]`, with the forward outputs, from the same
   * `2d` perturbed rows per point as a vector-Jacobian product.
   */
  jacobian(z: Float32Array, n: number): Promise<FlowOutputs & { readonly jacobian: Float32Array }>;
}

/** Default rows per call of the wrapped forward. */
export const DEFAULT_MAX_BATCH = 4096;

/** Default relative step, `eps^(1/3)` for float32 (`eps = 2^-23`): about 4.9e-3. */
export const DEFAULT_RELATIVE_STEP = 2 ** (-23 / 3);

const MIN_RELATIVE_STEP = 1e-6;
const MAX_RELATIVE_STEP = 0.5;

/**
 * Wraps a forward-only flow into a `DifferentiableFlow` whose `vjp` and `jacobian` are central
 * finite differences. A vector-Jacobian product of `n` points costs `(2d + 1) n` forward rows
 * (the perturbed rows and the point itself), sent in calls of at most `maxBatch` rows:
 * `ceil((2d + 1) n / maxBatch)` calls; the core's `flowRows` counter counts them so. Every call
 * allocates its own buffers and the flow keeps none, so samplers may share one flow at once.
 *
 * @param forward the model's forward map, `z` of `[rows, d]` to `x` of `[rows, ...dataShape]`
 *   and `logDet` of `[rows]`; deterministic, rows independent
 * @param options.latentDim `d >= 1`
 * @param options.dataShape positive integers with product `d`; default `[d]`
 * @param options.maxBatch positive integer, rows per model call; default 4096
 * @param options.relativeStep in [1e-6, 0.5]; default `2^(-23/3)`
 * @param options.dispose called once by `dispose()`
 * @returns a {@link FiniteDifferenceFlow}
 * @throws {InvalidArgumentError} when `forward` is not a function or an option is invalid; its
 *   methods throw it for a malformed batch, and {@link InvalidFlowError} when `forward` returns
 *   outputs of the wrong length
 * @example
 * ```ts
 * // x = 2 z + 1 elementwise, so log|det J| = d log 2
 * const flow = finiteDifferenceFlow(
 *   (z, rows) => ({
 *     x: z.map((v) => 2 * v + 1),
 *     logDet: new Float32Array(rows).fill(2 * Math.log(2)),
 *   }),
 *   { latentDim: 2 },
 * );
 * const z = new Float32Array([0.1, -0.3, 1.2, 0.4]); // [2, d]
 * const { z: gradient } = await flow.vjp(z, 2, { x: new Float32Array(4).fill(1) }); // ≈ 2
 * ```
 */
export function finiteDifferenceFlow(
  forward: ForwardFunction,
  options: FiniteDifferenceOptions,
): FiniteDifferenceFlow {
  const settings = parseOptions(forward, options);
  const { latentDim: d, dataShape, maxBatch, relativeStep } = settings;
  const size = dataSize(dataShape);
  const rowsPerPoint = 2 * d + 1;
  let disposed = false;

  /**
   * Evaluates `count` rows, `maxBatch` at a time, in order. `fill` writes row `r`'s input at
   * `input[offset..offset + d)`; `visit` receives row `r`'s outputs: `x` at `xs[o..o + D)`.
   */
  async function sweep(
    where: string,
    count: number,
    fill: (r: number, input: Float32Array, offset: number) => void,
    visit: (r: number, xs: ArrayLike<number>, o: number, logDet: number) => void,
  ): Promise<void> {
    for (let start = 0; start < count; start += maxBatch) {
      const rows = Math.min(maxBatch, count - start);
      const input = new Float32Array(rows * d);
      for (let row = 0; row < rows; row++) fill(start + row, input, row * d);
      const out = await forward(input, rows);
      checkOutputs(where, out, rows, size, dataShape);
      for (let row = 0; row < rows; row++) visit(start + row, out.x, row * size, out.logDet[row]);
    }
  }

  /**
   * Runs the `2d + 1` rows of every point: row `k = 0` is the point, rows `2j + 1` and `2j + 2`
   * move coordinate `j` up and down. `difference(i, j, delta)` gets, for point `i` and
   * coordinate `j`, the differences of the outputs between the two rows, `delta[0..D)` for `x`
   * and `delta[D]` for `logDet` (exact in float64), and the distance between the two inputs.
   */
  async function perturb(
    where: string,
    z: Float32Array,
    n: number,
    difference: (i: number, j: number, delta: Float64Array, distance: number) => void,
  ): Promise<FlowOutputs> {
    const up = new Float32Array(n * d);
    const down = new Float32Array(n * d);
    for (let k = 0; k < n * d; k++) {
      const h = relativeStep * Math.max(1, Math.abs(z[k]));
      up[k] = z[k] + h; // rounded to float32 on store: the input the model sees
      down[k] = z[k] - h;
    }

    // The plus row is copied: its minus row may come from the next model call, and a model may
    // reuse its output buffers between calls.
    const x = new Float32Array(n * size);
    const logDet = new Float32Array(n);
    const delta = new Float64Array(size + 1);
    await sweep(
      where,
      n * rowsPerPoint,
      (r, input, offset) => {
        const i = Math.floor(r / rowsPerPoint);
        const k = r - i * rowsPerPoint;
        for (let j = 0; j < d; j++) input[offset + j] = z[i * d + j];
        if (k === 0) return;
        const j = (k - 1) >> 1;
        input[offset + j] = k % 2 === 1 ? up[i * d + j] : down[i * d + j];
      },
      (r, xs, o, value) => {
        const i = Math.floor(r / rowsPerPoint);
        const k = r - i * rowsPerPoint;
        if (k === 0) {
          for (let a = 0; a < size; a++) x[i * size + a] = xs[o + a];
          logDet[i] = value;
        } else if (k % 2 === 1) {
          for (let a = 0; a < size; a++) delta[a] = xs[o + a];
          delta[size] = value;
        } else {
          for (let a = 0; a < size; a++) delta[a] -= xs[o + a];
          delta[size] -= value;
          const j = (k - 1) >> 1;
          difference(i, j, delta, up[i * d + j] - down[i * d + j]);
        }
      },
    );
    return { x, logDet };
  }

  const flow: FiniteDifferenceFlow = {
    latentDim: d,
    dataShape,
    gradient: 'finite-difference',
    maxBatch,
    relativeStep,

    async forward(z: Float32Array, n: number): Promise<FlowOutputs> {
      const where = 'finiteDifferenceFlow().forward()';
      checkBatch(where, z, n, d, disposed);

      const x = new Float32Array(n * size);
      const logDet = new Float32Array(n);
      await sweep(
        where,
        n,
        (r, input, offset) => {
          for (let j = 0; j < d; j++) input[offset + j] = z[r * d + j];
        },
        (r, xs, o, value) => {
          for (let a = 0; a < size; a++) x[r * size + a] = xs[o + a];
          logDet[r] = value;
        },
      );
      return { x, logDet };
    },

    async vjp(z: Float32Array, n: number, cotangent: FlowCotangent): Promise<FlowVjp> {
      const where = 'finiteDifferenceFlow().vjp()';
      checkBatch(where, z, n, d, disposed);
      checkCotangent(where, cotangent, n, size);
      const cx = cotangent.x;
      const cl = cotangent.logDet;

      // Row i, coordinate j: (c_x . (x+ - x-) + c_ld (ld+ - ld-)) / (z_j+ - z_j-), in float64.
      const gradient = new Float32Array(n * d);
      const outputs = await perturb(where, z, n, (i, j, delta, distance) => {
        let sum = 0;
        if (cx !== undefined) {
          for (let a = 0, c = i * size; a < size; a++) sum += cx[c + a] * delta[a];
        }
        if (cl !== undefined) sum += cl[i] * delta[size];
        gradient[i * d + j] = sum / distance;
      });
      return { ...outputs, z: gradient };
    },

    async jacobian(z: Float32Array, n: number) {
      const where = 'finiteDifferenceFlow().jacobian()';
      checkBatch(where, z, n, d, disposed);

      const jacobian = new Float32Array(n * size * d);
      const outputs = await perturb(where, z, n, (i, j, delta, distance) => {
        const base = i * size * d + j;
        for (let a = 0; a < size; a++) jacobian[base + a * d] = delta[a] / distance;
      });
      return { ...outputs, jacobian };
    },

    async dispose(): Promise<void> {
      if (disposed) return;
      disposed = true;
      await settings.dispose?.();
    },
  };
  return flow;
}

interface Settings {
  readonly latentDim: number;
  readonly dataShape: readonly number[];
  readonly maxBatch: number;
  readonly relativeStep: number;
  readonly dispose: (() => void | Promise<void>) | undefined;
}

const KNOWN_OPTIONS = ['latentDim', 'dataShape', 'maxBatch', 'relativeStep', 'dispose'];

function parseOptions(forward: unknown, options: unknown): Settings {
  const where = 'finiteDifferenceFlow()';
  const issues: string[] = [];
  if (typeof forward !== 'function') {
    issues.push(
      `forward is ${describeValue(forward)}; expected a function (z: Float32Array, rows: number) ` +
        `=> Promise<{ x, logDet }>. Pass the model's forward map as the first argument.`,
    );
  }
  if (typeof options !== 'object' || options === null) {
    issues.push(
      `options is ${describeValue(options)}; expected an object { latentDim, dataShape?, ` +
        `maxBatch?, relativeStep?, dispose? }. Pass at least { latentDim }.`,
    );
    throw new InvalidArgumentError(where, issues);
  }

  const given = options as Record<string, unknown>;
  const unknown = Object.keys(given).filter((key) => !KNOWN_OPTIONS.includes(key));
  issues.push(...unknownKeyIssues(unknown, KNOWN_OPTIONS));

  const { latentDim, dataShape, maxBatch, relativeStep, dispose } = given;
  const latentOk = isPositiveInteger(latentDim);
  if (!latentOk) {
    issues.push(
      `options.latentDim is ${describeValue(latentDim)}; expected a positive integer, the ` +
        `latent dimension d of the flow. Pass the number of values in one latent point.`,
    );
  }
  if (dataShape !== undefined) {
    if (!Array.isArray(dataShape) || !dataShape.every(isPositiveInteger)) {
      issues.push(
        `options.dataShape is ${describeValue(dataShape)}; expected an array of positive ` +
          `integers, e.g. [1, 8, 8]. Pass the shape of one data point, or leave it out for [d].`,
      );
    } else if (latentOk && dataSize(dataShape) !== latentDim) {
      issues.push(
        `options.dataShape is [${dataShape.join(', ')}], of size ${dataSize(dataShape)}; ` +
          `expected size latentDim = ${latentDim as number}, since a flow maps R^d onto R^d. ` +
          `Correct dataShape or latentDim.`,
      );
    }
  }
  if (maxBatch !== undefined && !isPositiveInteger(maxBatch)) {
    issues.push(
      `options.maxBatch is ${describeValue(maxBatch)}; expected a positive integer, the most ` +
        `rows per model call. Pass e.g. ${DEFAULT_MAX_BATCH}, or less if the model runs out ` +
        `of memory.`,
    );
  }
  if (
    relativeStep !== undefined &&
    !(
      typeof relativeStep === 'number' &&
      relativeStep >= MIN_RELATIVE_STEP &&
      relativeStep <= MAX_RELATIVE_STEP
    )
  ) {
    issues.push(
      `options.relativeStep is ${describeValue(relativeStep)}; expected a number in ` +
        `[${MIN_RELATIVE_STEP}, ${MAX_RELATIVE_STEP}]. Leave it out for the float32 optimum ` +
        `${DEFAULT_RELATIVE_STEP.toPrecision(2)}.`,
    );
  }
  if (dispose !== undefined && typeof dispose !== 'function') {
    issues.push(
      `options.dispose is ${describeValue(dispose)}; expected a function that releases the ` +
        `model. Pass a function, or leave it out.`,
    );
  }
  if (issues.length > 0) throw new InvalidArgumentError(where, issues);

  const d = latentDim as number;
  return {
    latentDim: d,
    dataShape: dataShape === undefined ? [d] : [...(dataShape as number[])],
    maxBatch: (maxBatch as number | undefined) ?? DEFAULT_MAX_BATCH,
    relativeStep: (relativeStep as number | undefined) ?? DEFAULT_RELATIVE_STEP,
    dispose: dispose as Settings['dispose'],
  };
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1;
}

function isNumericArray(value: unknown): value is ArrayLike<number> {
  if (Array.isArray(value)) return true;
  return ArrayBuffer.isView(value) && !(value instanceof DataView);
}

function checkBatch(where: string, z: unknown, n: number, d: number, disposed: boolean): void {
  if (disposed) {
    throw new InvalidArgumentError(where, [
      'the flow was disposed; expected a live flow. Create a new flow after dispose().',
    ]);
  }
  if (!isPositiveInteger(n)) {
    throw new InvalidArgumentError(where, [
      `n is ${describeValue(n)}; expected a positive integer, the number of rows of the batch. ` +
        `Pass the batch size, z.length / ${d}.`,
    ]);
  }
  if (!(z instanceof Float32Array) || z.length !== n * d) {
    throw new InvalidArgumentError(where, [
      `z is ${describeValue(z)}; expected a Float32Array of n * d = ${n} * ${d} = ${n * d} ` +
        `values, the batch [n, d] row-major. Pass one row of d values per point, or correct n.`,
    ]);
  }
}

function checkCotangent(where: string, cotangent: unknown, n: number, size: number): void {
  if (typeof cotangent !== 'object' || cotangent === null) {
    throw new InvalidArgumentError(where, [
      `cotangent is ${describeValue(cotangent)}; expected an object { x?, logDet? }. ` +
        `Pass {} for a zero cotangent.`,
    ]);
  }
  const { x, logDet } = cotangent as FlowCotangent;
  const issues: string[] = [];
  if (x !== undefined && (!isNumericArray(x) || x.length !== n * size)) {
    issues.push(
      `cotangent.x is ${describeValue(x)}; expected ${n * size} numbers, [n, ...dataShape] ` +
        `row-major with n = ${n}. Pass one cotangent per value of x, or leave it out for zero.`,
    );
  }
  if (logDet !== undefined && (!isNumericArray(logDet) || logDet.length !== n)) {
    issues.push(
      `cotangent.logDet is ${describeValue(logDet)}; expected ${n} numbers, one per row. ` +
        `Pass one cotangent per row, or leave it out for zero.`,
    );
  }
  if (issues.length > 0) throw new InvalidArgumentError(where, issues);
}

function checkOutputs(
  where: string,
  out: unknown,
  rows: number,
  size: number,
  dataShape: readonly number[],
): asserts out is ForwardOutputs {
  if (typeof out !== 'object' || out === null) {
    throw new InvalidFlowError(where, [
      `the wrapped forward returned ${describeValue(out)} for a batch of ${rows} rows; ` +
        `expected { x, logDet }. Return (or resolve to) an object with both arrays.`,
    ]);
  }
  const { x, logDet } = out as Partial<ForwardOutputs>;
  const problems: string[] = [];
  if (!isNumericArray(x) || x.length !== rows * size) {
    problems.push(
      `the wrapped forward returned x = ${describeValue(x)} for a batch of ${rows} rows; ` +
        `expected ${rows * size} numbers, [${rows}, ${dataShape.join(', ')}] row-major. ` +
        `Return one data point per input row, or correct options.dataShape.`,
    );
  }
  if (!isNumericArray(logDet) || logDet.length !== rows) {
    problems.push(
      `the wrapped forward returned logDet = ${describeValue(logDet)} for a batch of ${rows} ` +
        `rows; expected ${rows} numbers, one per row. Return log|det J_f(z)| of each row.`,
    );
  }
  if (problems.length > 0) throw new InvalidFlowError(where, problems);
}
