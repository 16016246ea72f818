/**
 * Analytic reference flows: pure TypeScript maps with exact, hand-written gradients. They give
 * the tests exact vector-Jacobian products and Jacobians to check adapters and kernels against,
 * exact inverses that turn exact draws of a target `p_X` into exact latent draws, and the first
 * `npm start` a flow that needs no runtime.
 *
 * Every map is evaluated in float64. The `DifferentiableFlow` methods round the results to
 * float32; `float64` exposes the same maps unrounded, for tests that need tight tolerances.
 */
import { z as zod } from 'zod';

import { describeValue, InvalidArgumentError } from './errors.js';
import type { DifferentiableFlow, FlowCotangent, FlowOutputs, FlowVjp } from './flow.js';
import { createStreams } from './random.js';
import { unknownKeyIssues } from './unknown-keys.js';

/** A batch of numbers, row-major: a typed array or a plain array. */
export type NumericBatch = ArrayLike<number>;

/** Forward outputs of an analytic flow in float64: `x` is `[n, d]`, `logDet` is `[n]`. */
export interface Float64Outputs {
  readonly x: Float64Array;
  readonly logDet: Float64Array;
}

/** Cotangents in float64 or float32: `x` is `[n, d]`, `logDet` is `[n]`; missing means zero. */
export interface NumericCotangent {
  readonly x?: NumericBatch;
  readonly logDet?: NumericBatch;
}

/** The maps of an analytic flow in float64, synchronous and unrounded. */
export interface Float64FlowMaps {
  /** Forward map of a batch `z` of `[n, d]`. */
  forward(z: NumericBatch, n: number): Float64Outputs;
  /** Vector-Jacobian product of a batch; `z` of the result is `[n, d]`. */
  vjp(
    z: NumericBatch,
    n: number,
    cotangent: NumericCotangent,
  ): Float64Outputs & { z: Float64Array };
  /** Full Jacobian `[n, d, d]`, `jacobian[i, a, b] = d x_a / d z_b` at row `i`. */
  jacobian(z: NumericBatch, n: number): Float64Outputs & { jacobian: Float64Array };
  /** Inverse map of a batch `x` of `[n, d]`: the latent `z` with `f(z) = x`, `[n, d]`. */
  inverse(x: NumericBatch, n: number): Float64Array;
}

/** A flow with exact gradients, an exact Jacobian and an exact inverse. */
export interface AnalyticFlow extends DifferentiableFlow {
  readonly gradient: 'exact';
  /** The same maps in float64, unrounded, synchronous. */
  readonly float64: Float64FlowMaps;
  /** Full Jacobian `[n, d, d]` of a batch `z` of `[n, d]`, with the forward outputs. */
  jacobian(z: Float32Array, n: number): Promise<FlowOutputs & { readonly jacobian: Float32Array }>;
  /**
   * Inverse map of a batch `x` of `[n, d]`, rounded to float32. Synchronous: it needs no model.
   */
  inverse(x: NumericBatch, n: number): Float32Array;
}

/** Options of {@link affineFlow}. */
export interface AffineFlowOptions {
  /** `[d]`, finite and nonzero. */
  readonly scale: NumericBatch;
  /** `[d]`, finite; zero when absent. */
  readonly shift?: NumericBatch;
}

/**
 * Weights of the one-hidden-layer network of a coupling layer, `H` hidden units:
 * `h = tanh(hiddenWeights * u + hiddenBiases)`, `s = scaleBound * tanh(scaleWeights . h +
 * scaleBias)`, `t = shiftWeights . h + shiftBias`.
 */
export interface CouplingNetwork {
  /** `[H]`. */
  readonly hiddenWeights: readonly number[];
  /** `[H]`. */
  readonly hiddenBiases: readonly number[];
  /** `[H]`. */
  readonly scaleWeights: readonly number[];
  readonly scaleBias: number;
  /** `[H]`. */
  readonly shiftWeights: readonly number[];
  readonly shiftBias: number;
}

/** Options of {@link couplingFlow2d}. */
export interface CouplingFlow2dOptions {
  /** Seed of the default weights, an integer in [0, 2^53); default 0. Ignored with `layers`. */
  readonly seed?: number;
  /** Hidden width `H` of the default networks, an integer in [1, 1024]; default 8. */
  readonly hiddenWidth?: number;
  /** Bound on `|s|`, so each layer scales by a factor in [e^-bound, e^bound]; default 1. */
  readonly scaleBound?: number;
  /** Explicit weights of layer 1 (conditioned on `z1`) and layer 2 (conditioned on `x2`). */
  readonly layers?: readonly [CouplingNetwork, CouplingNetwork];
}

/** The two-dimensional coupling flow of {@link couplingFlow2d}, with the weights it uses. */
export interface CouplingFlow2d extends AnalyticFlow {
  readonly layers: readonly [CouplingNetwork, CouplingNetwork];
  readonly scaleBound: number;
}

/**
 * The affine flow `x = scale * z + shift`, elementwise, in any dimension `d`; `logDet` is the
 * constant `sum_j log|scale_j|`.
 *
 * @param options.scale `[d]`, finite and nonzero, `d >= 1`
 * @param options.shift `[d]`, finite; zero when absent
 * @returns an {@link AnalyticFlow} with `latentDim = d` and `dataShape = [d]`
 * @throws {InvalidArgumentError} when an option is missing, of the wrong length, zero or not finite
 * @example
 * ```ts
 * const flow = affineFlow({ scale: [2, 0.5], shift: [0, 1] });
 * const { x, logDet } = await flow.forward(new Float32Array([1, 1]), 1); // x = [2, 1.5]
 * ```
 */
export function affineFlow(options: AffineFlowOptions): AnalyticFlow {
  const where = 'affineFlow()';
  const parsed = parseOptions(where, affineOptionsSchema, options);
  const d = parsed.scale.length;
  if (parsed.shift !== undefined && parsed.shift.length !== d) {
    throw new InvalidArgumentError(where, [
      `options.shift is ${describeValue(parsed.shift)}; expected ${d} values, one per entry of ` +
        `options.scale. Pass shift and scale of the same length d.`,
    ]);
  }

  const scale = Float64Array.from(parsed.scale);
  const shift = parsed.shift === undefined ? new Float64Array(d) : Float64Array.from(parsed.shift);
  let logDet = 0;
  for (let j = 0; j < d; j++) logDet += Math.log(Math.abs(scale[j]));

  return makeAnalyticFlow('affineFlow', {
    latentDim: d,
    forward(z, o, x) {
      for (let j = 0; j < d; j++) x[o + j] = scale[j] * z[o + j] + shift[j];
      return logDet;
    },
    vjp(z, o, cx, _cl, x, gz) {
      for (let j = 0; j < d; j++) {
        x[o + j] = scale[j] * z[o + j] + shift[j];
        gz[o + j] = cx === undefined ? 0 : scale[j] * cx[o + j];
      }
      return logDet;
    },
    jacobian(z, o, x, jacobian, jo) {
      for (let a = 0; a < d; a++) {
        x[o + a] = scale[a] * z[o + a] + shift[a];
        jacobian[jo + a * d + a] = scale[a];
      }
      return logDet;
    },
    inverse(x, o, z) {
      for (let j = 0; j < d; j++) z[o + j] = (x[o + j] - shift[j]) / scale[j];
    },
  });
}

/**
 * A two-dimensional flow whose Jacobian varies from point to point: two affine coupling layers,
 * each conditioned by a one-hidden-layer tanh network (Dinh et al. 2017, RealNVP):
 *
 *     layer 1: x2 = z2 * exp(s1(z1)) + t1(z1),   x1 = z1
 *     layer 2: x1' = x1 * exp(s2(x2)) + t2(x2)
 *     x = (x1', x2),   logDet = s1(z1) + s2(x2)
 *
 * `|s| <= scaleBound`, so each layer stretches by a factor in `[e^-scaleBound, e^scaleBound]`
 * and `|logDet| <= 2 scaleBound`, while the shears make the Jacobian vary across the plane: with
 * the default weights its condition number runs from 1 to about 16 over `[-3, 3]^2`. Default
 * weights are drawn from `seed`.
 *
 * @param options.seed integer in [0, 2^53) for the default weights; default 0
 * @param options.hiddenWidth integer in [1, 1024], hidden units per network; default 8
 * @param options.scaleBound positive bound on `|s|`, at most 10; default 1
 * @param options.layers explicit weights; override `seed` and `hiddenWidth`
 * @returns a {@link CouplingFlow2d}, `latentDim = 2`, `dataShape = [2]`, with its `inverse`
 * @throws {InvalidArgumentError} when an option is out of range or the weights are inconsistent
 * @example
 * ```ts
 * const flow = couplingFlow2d({ seed: 3 });
 * const { x } = await flow.forward(new Float32Array([0.5, -1]), 1);
 * const z = flow.inverse(x, 1); // ≈ [0.5, -1]
 * ```
 */
export function couplingFlow2d(options: CouplingFlow2dOptions = {}): CouplingFlow2d {
  const where = 'couplingFlow2d()';
  const parsed = parseOptions(where, couplingOptionsSchema, options);
  const bound = parsed.scaleBound ?? 1;
  const layers = parsed.layers ?? defaultCouplingLayers(parsed.seed ?? 0, parsed.hiddenWidth ?? 8);

  const net1 = compileNetwork(layers[0], bound);
  const net2 = compileNetwork(layers[1], bound);
  const a = new Float64Array(4); // s, ds/du, t, dt/du of layer 1 at z1
  const b = new Float64Array(4); // the same for layer 2 at x2

  const flow = makeAnalyticFlow('couplingFlow2d', {
    latentDim: 2,
    forward(z, o, x) {
      const z1 = z[o];
      net1(z1, a);
      const x2 = z[o + 1] * Math.exp(a[0]) + a[2];
      net2(x2, b);
      x[o] = z1 * Math.exp(b[0]) + b[2];
      x[o + 1] = x2;
      return a[0] + b[0];
    },
    vjp(z, o, cx, cl, x, gz) {
      const z1 = z[o];
      const z2 = z[o + 1];
      net1(z1, a);
      const e1 = Math.exp(a[0]);
      const x2 = z2 * e1 + a[2];
      net2(x2, b);
      const e2 = Math.exp(b[0]);
      x[o] = z1 * e2 + b[2];
      x[o + 1] = x2;

      // Reverse pass. g2 = d x1' / d x2 at fixed x1, g1 = d x2 / d z1 at fixed z2.
      const c1 = cx === undefined ? 0 : cx[o];
      const c2 = cx === undefined ? 0 : cx[o + 1];
      const g2 = z1 * e2 * b[1] + b[3];
      const g1 = z2 * e1 * a[1] + a[3];
      const barX2 = c2 + c1 * g2 + cl * b[1];
      gz[o] = c1 * e2 + cl * a[1] + barX2 * g1;
      gz[o + 1] = barX2 * e1;
      return a[0] + b[0];
    },
    jacobian(z, o, x, jacobian, jo) {
      const z1 = z[o];
      const z2 = z[o + 1];
      net1(z1, a);
      const e1 = Math.exp(a[0]);
      const x2 = z2 * e1 + a[2];
      net2(x2, b);
      const e2 = Math.exp(b[0]);
      x[o] = z1 * e2 + b[2];
      x[o + 1] = x2;

      const g2 = z1 * e2 * b[1] + b[3];
      const g1 = z2 * e1 * a[1] + a[3];
      jacobian[jo] = e2 + g2 * g1;
      jacobian[jo + 1] = g2 * e1;
      jacobian[jo + 2] = g1;
      jacobian[jo + 3] = e1;
      return a[0] + b[0];
    },
    inverse(x, o, z) {
      const x2 = x[o + 1];
      net2(x2, b);
      const z1 = (x[o] - b[2]) * Math.exp(-b[0]);
      net1(z1, a);
      z[o] = z1;
      z[o + 1] = (x2 - a[2]) * Math.exp(-a[0]);
    },
  });
  return Object.assign(flow, { layers, scaleBound: bound });
}

/**
 * Default weights of the coupling networks: hidden weights and biases of unit and half-unit
 * scale, so the tanh units bend within the bulk of `N(0, 1)`; output weights of scale
 * `1.5 / sqrt(H)` for the log-scale (before its tanh bound) and `1 / sqrt(H)` for the shift.
 */
function defaultCouplingLayers(
  seed: number,
  width: number,
): readonly [CouplingNetwork, CouplingNetwork] {
  const [first, second] = createStreams(seed, 2);
  const draw = (stream: typeof first): CouplingNetwork => {
    const normals = (count: number, scale: number): number[] =>
      Array.from({ length: count }, () => scale * stream.normal());
    return {
      hiddenWeights: normals(width, 1),
      hiddenBiases: normals(width, 0.5),
      scaleWeights: normals(width, 1.5 / Math.sqrt(width)),
      scaleBias: 0,
      shiftWeights: normals(width, 1 / Math.sqrt(width)),
      shiftBias: 0,
    };
  };
  return [draw(first), draw(second)];
}

/** Writes `s(u)`, `s'(u)`, `t(u)`, `t'(u)` of one coupling network into `out[0..3]`. */
type CompiledNetwork = (u: number, out: Float64Array) => void;

function compileNetwork(network: CouplingNetwork, bound: number): CompiledNetwork {
  const w = Float64Array.from(network.hiddenWeights);
  const c = Float64Array.from(network.hiddenBiases);
  const v = Float64Array.from(network.scaleWeights);
  const r = Float64Array.from(network.shiftWeights);
  const { scaleBias, shiftBias } = network;
  const width = w.length;

  return (u, out) => {
    let preScale = scaleBias;
    let dPreScale = 0;
    let shift = shiftBias;
    let dShift = 0;
    for (let k = 0; k < width; k++) {
      const h = Math.tanh(w[k] * u + c[k]);
      const dh = w[k] * (1 - h * h);
      preScale += v[k] * h;
      dPreScale += v[k] * dh;
      shift += r[k] * h;
      dShift += r[k] * dh;
    }
    const squashed = Math.tanh(preScale);
    out[0] = bound * squashed;
    out[1] = bound * (1 - squashed * squashed) * dPreScale;
    out[2] = shift;
    out[3] = dShift;
  };
}

/**
 * One analytic map, row by row, in float64. `o` is the offset `i * d` of row `i` in `z` and
 * `x`; `jo` the offset `i * d * d` in the Jacobian. Each method returns `logDet` of the row.
 */
interface RowMap {
  readonly latentDim: number;
  forward(z: NumericBatch, o: number, x: Float64Array): number;
  vjp(
    z: NumericBatch,
    o: number,
    cx: NumericBatch | undefined,
    cl: number,
    x: Float64Array,
    gz: Float64Array,
  ): number;
  jacobian(z: NumericBatch, o: number, x: Float64Array, jacobian: Float64Array, jo: number): number;
  inverse(x: NumericBatch, o: number, z: Float64Array): void;
}

function makeAnalyticFlow(name: string, map: RowMap): AnalyticFlow {
  const d = map.latentDim;
  const at = (method: string): string => `${name}().${method}()`;

  const float64: Float64FlowMaps = {
    forward(z, n) {
      checkBatch(at('forward'), 'z', z, n, d, '[n, d]');
      const x = new Float64Array(n * d);
      const logDet = new Float64Array(n);
      for (let i = 0; i < n; i++) logDet[i] = map.forward(z, i * d, x);
      return { x, logDet };
    },
    vjp(z, n, cotangent) {
      const where = at('vjp');
      checkBatch(where, 'z', z, n, d, '[n, d]');
      checkCotangent(where, cotangent, n, d);
      const cx = cotangent.x;
      const cl = cotangent.logDet;
      const x = new Float64Array(n * d);
      const logDet = new Float64Array(n);
      const gz = new Float64Array(n * d);
      for (let i = 0; i < n; i++) {
        logDet[i] = map.vjp(z, i * d, cx, cl === undefined ? 0 : cl[i], x, gz);
      }
      return { x, logDet, z: gz };
    },
    jacobian(z, n) {
      checkBatch(at('jacobian'), 'z', z, n, d, '[n, d]');
      const x = new Float64Array(n * d);
      const logDet = new Float64Array(n);
      const jacobian = new Float64Array(n * d * d);
      for (let i = 0; i < n; i++) logDet[i] = map.jacobian(z, i * d, x, jacobian, i * d * d);
      return { x, logDet, jacobian };
    },
    inverse(x, n) {
      checkBatch(at('inverse'), 'x', x, n, d, '[n, d]');
      const z = new Float64Array(n * d);
      for (let i = 0; i < n; i++) map.inverse(x, i * d, z);
      return z;
    },
  };

  return {
    latentDim: d,
    dataShape: [d],
    gradient: 'exact',
    float64,
    async forward(z: Float32Array, n: number): Promise<FlowOutputs> {
      const out = float64.forward(z, n);
      return { x: new Float32Array(out.x), logDet: new Float32Array(out.logDet) };
    },
    async vjp(z: Float32Array, n: number, cotangent: FlowCotangent): Promise<FlowVjp> {
      const out = float64.vjp(z, n, cotangent);
      return {
        x: new Float32Array(out.x),
        logDet: new Float32Array(out.logDet),
        z: new Float32Array(out.z),
      };
    },
    async jacobian(z: Float32Array, n: number) {
      const out = float64.jacobian(z, n);
      return {
        x: new Float32Array(out.x),
        logDet: new Float32Array(out.logDet),
        jacobian: new Float32Array(out.jacobian),
      };
    },
    inverse(x: NumericBatch, n: number): Float32Array {
      return new Float32Array(float64.inverse(x, n));
    },
    async dispose(): Promise<void> {
      // Nothing to release: the weights are plain arrays.
    },
  };
}

function isNumericBatch(value: unknown): value is NumericBatch {
  if (Array.isArray(value)) return true;
  return ArrayBuffer.isView(value) && !(value instanceof DataView);
}

function checkBatch(
  where: string,
  name: string,
  values: unknown,
  n: number,
  perRow: number,
  shape: string,
): void {
  if (!Number.isInteger(n) || n < 1) {
    throw new InvalidArgumentError(where, [
      `n is ${describeValue(n)}; expected a positive integer, the number of rows of the batch. ` +
        `Pass the batch size, ${name}.length / ${perRow}.`,
    ]);
  }
  if (!isNumericBatch(values) || values.length !== n * perRow) {
    throw new InvalidArgumentError(where, [
      `${name} is ${describeValue(values)}; expected ${n * perRow} numbers, a batch ${shape} ` +
        `row-major with n = ${n} and ${perRow} per row. Pass a Float32Array of n * ${perRow} ` +
        `values, or correct n.`,
    ]);
  }
}

function checkCotangent(where: string, cotangent: unknown, n: number, d: number): void {
  if (typeof cotangent !== 'object' || cotangent === null) {
    throw new InvalidArgumentError(where, [
      `cotangent is ${describeValue(cotangent)}; expected an object { x?, logDet? }. ` +
        `Pass {} for a zero cotangent.`,
    ]);
  }
  const { x, logDet } = cotangent as NumericCotangent;
  const issues: string[] = [];
  if (x !== undefined && (!isNumericBatch(x) || x.length !== n * d)) {
    issues.push(
      `cotangent.x is ${describeValue(x)}; expected ${n * d} numbers, [n, d] row-major with ` +
        `n = ${n}, d = ${d}. Pass one cotangent per value of x, or leave it out for zero.`,
    );
  }
  if (logDet !== undefined && (!isNumericBatch(logDet) || logDet.length !== n)) {
    issues.push(
      `cotangent.logDet is ${describeValue(logDet)}; expected ${n} numbers, one per row. ` +
        `Pass one cotangent per row, or leave it out for zero.`,
    );
  }
  if (issues.length > 0) throw new InvalidArgumentError(where, issues);
}

/** A zod field whose check returns the problem ("expected ...; fix") or undefined when valid. */
function field<T>(check: (value: unknown) => string | undefined): zod.ZodType<T> {
  return zod.custom<T>((value) => check(value) === undefined, {
    error: (issue) => check(issue.input),
  });
}

function finiteArray(nonzero: boolean, what: string) {
  return field<NumericBatch>((value) => {
    if (!isNumericBatch(value) || value.length === 0) {
      return `expected a non-empty array of ${what}. Pass an array or a typed array of d values.`;
    }
    for (let j = 0; j < value.length; j++) {
      const entry = value[j];
      if (typeof entry !== 'number' || !Number.isFinite(entry) || (nonzero && entry === 0)) {
        return `entry ${j} is ${describeValue(entry)}; expected ${what}. Replace it.`;
      }
    }
    return undefined;
  });
}

const affineOptionsSchema = zod.strictObject(
  {
    scale: finiteArray(true, 'finite nonzero numbers, so that the map is invertible'),
    shift: finiteArray(false, 'finite numbers').optional(),
  },
  { error: optionsObjectError('{ scale, shift? }') },
);

function numberIn(low: number, high: number, integer: boolean, fix: string) {
  return field<number>((value) => {
    const ok =
      typeof value === 'number' &&
      value >= low &&
      value <= high &&
      (!integer || Number.isInteger(value)) &&
      (integer || value > 0);
    if (ok) return undefined;
    const kind = integer ? `an integer in [${low}, ${high}]` : `a number in (0, ${high}]`;
    return `expected ${kind}. ${fix}`;
  });
}

function checkNetworks(value: unknown): string | undefined {
  const fix =
    'Pass two networks with hiddenWeights, hiddenBiases, scaleWeights and shiftWeights ' +
    'of one common length H >= 1 and finite scaleBias and shiftBias.';
  if (!Array.isArray(value) || value.length !== 2) {
    return `expected a pair [layer1, layer2] of coupling networks. ${fix}`;
  }
  const width = (value[0] as Partial<CouplingNetwork> | undefined)?.hiddenWeights?.length;
  for (let l = 0; l < 2; l++) {
    const network = value[l] as Record<string, unknown> | null | undefined;
    if (typeof network !== 'object' || network === null) {
      return `layers[${l}] is ${describeValue(network)}; expected a coupling network. ${fix}`;
    }
    for (const key of ['hiddenWeights', 'hiddenBiases', 'scaleWeights', 'shiftWeights']) {
      const weights = network[key];
      const ok =
        Array.isArray(weights) &&
        weights.length === width &&
        weights.length >= 1 &&
        weights.every((w) => typeof w === 'number' && Number.isFinite(w));
      if (!ok) {
        return (
          `layers[${l}].${key} is ${describeValue(weights)}; expected ${width ?? 'H >= 1'} ` +
          `finite numbers, as many as layers[0].hiddenWeights. ${fix}`
        );
      }
    }
    for (const key of ['scaleBias', 'shiftBias']) {
      const bias = network[key];
      if (typeof bias !== 'number' || !Number.isFinite(bias)) {
        return `layers[${l}].${key} is ${describeValue(bias)}; expected a finite number. ${fix}`;
      }
    }
  }
  return undefined;
}

const couplingOptionsSchema = zod.strictObject(
  {
    seed: numberIn(
      0,
      Number.MAX_SAFE_INTEGER,
      true,
      'Pass a non-negative integer seed.',
    ).optional(),
    hiddenWidth: numberIn(1, 1024, true, 'Pass the number of hidden units, e.g. 8.').optional(),
    scaleBound: numberIn(0, 10, false, 'Pass a positive bound on |s|, e.g. 1.').optional(),
    layers: field<readonly [CouplingNetwork, CouplingNetwork]>(checkNetworks).optional(),
  },
  { error: optionsObjectError('{ seed?, hiddenWidth?, scaleBound?, layers? }') },
);

function optionsObjectError(shape: string) {
  return (issue: { code: string }): string | undefined =>
    issue.code === 'invalid_type' ? `expected an options object ${shape}` : undefined;
}

/** Parses `options` with `schema`, or throws one InvalidArgumentError listing every issue. */
function parseOptions<T>(
  where: string,
  schema: zod.ZodType<T> & { readonly shape: object },
  options: unknown,
): T {
  const result = schema.safeParse(options, { reportInput: true });
  if (result.success) return result.data;
  const issues = result.error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return unknownKeyIssues(issue.keys, Object.keys(schema.shape));
    }
    const path = ['options', ...issue.path.map((key) => String(key))].join('.');
    const input = 'input' in issue ? issue.input : undefined;
    return [`${path} is ${describeValue(input)}; ${issue.message}`];
  });
  throw new InvalidArgumentError(where, issues);
}
