/**
 * The contract between the sampler core and a model. The core knows nothing of ONNX or
 * TensorFlow: an adapter turns a model into a `DifferentiableFlow`, and the core only ever calls
 * the methods below.
 *
 * Batches are row-major. For a batch of `n` latent points in dimension `d`:
 * - `z` is `[n, d]`,
 * - `x` is `[n, ...dataShape]`, so `n * D` values where `D` is the product of `dataShape`,
 * - `logDet` is `[n]`, the log absolute determinant of the Jacobian of `f` at each row.
 */

/** Outputs of the forward map `z -> (x, log|det J_f(z)|)` for a batch. */
export interface FlowOutputs {
  /** `[n, ...dataShape]`, row-major. */
  readonly x: Float32Array;
  /** `[n]`. */
  readonly logDet: Float32Array;
}

/**
 * Cotangents for a vector-Jacobian product. A missing entry is a zero cotangent: `vjp` with
 * `{ logDet }` alone differentiates `sum_i logDet[i] * c[i]` only.
 */
export interface FlowCotangent {
  /** `[n, ...dataShape]`, row-major; cotangent of `x`. */
  readonly x?: Float32Array;
  /** `[n]`; cotangent of `logDet`. */
  readonly logDet?: Float32Array;
}

/** Result of a vector-Jacobian product: the forward outputs and the gradient with respect to z. */
export interface FlowVjp extends FlowOutputs {
  /** `[n, d]`: row `i` is `J_x(z_i)^T c_x[i] + grad logDet(z_i) * c_logDet[i]`. */
  readonly z: Float32Array;
}

/**
 * How a flow computes its gradients; finite differences keep MALA exact, only slower. The kind
 * also says what a gradient costs the model, which the sampler's `flowRows` counter reports:
 * `exact`, one row a point for `vjp` and `d` for `jacobian`; `finite-difference`, central
 * differences, `2d + 1` forward rows a point for either (the perturbed rows and the point).
 */
export type GradientKind = 'exact' | 'finite-difference';

/**
 * A normalizing flow `f: R^d -> R^D` (with `D = d`) that can be differentiated.
 *
 * @example
 * ```ts
 * const flow: DifferentiableFlow = affineFlow({ scale: [2, 0.5], shift: [0, 1] });
 * const { x, logDet } = await flow.forward(new Float32Array([0, 0, 1, 1]), 2);
 * ```
 */
export interface DifferentiableFlow {
  /** Latent dimension `d`. */
  readonly latentDim: number;
  /** Shape of one data point, e.g. `[2]` or `[1, 8, 8]`; its size equals `latentDim`. */
  readonly dataShape: readonly number[];
  /** Whether `vjp` is exact or approximated by finite differences. */
  readonly gradient: GradientKind;
  /** Forward map of a batch: `z` is `[n, d]`. */
  forward(z: Float32Array, n: number): Promise<FlowOutputs>;
  /** Vector-Jacobian product of a batch: `z` is `[n, d]`, returns the forward outputs too. */
  vjp(z: Float32Array, n: number, cotangent: FlowCotangent): Promise<FlowVjp>;
  /**
   * Optional full Jacobian `d x / d z` of a batch, `[n, D, d]` row-major, with the forward
   * outputs. When absent, the core assembles it from `D` vector-Jacobian products.
   */
  jacobian?(z: Float32Array, n: number): Promise<FlowOutputs & { readonly jacobian: Float32Array }>;
  /** Releases the model's resources; the flow must not be used afterwards. */
  dispose(): Promise<void>;
}

/**
 * Number of values in one data point: the product of `dataShape`.
 *
 * @param shape extents of one data point, non-negative integers; `[]` is a scalar
 * @returns the product of the extents, 1 for `[]`
 * @example
 * ```ts
 * dataSize([1, 8, 8]); // 64
 * ```
 */
export function dataSize(shape: readonly number[]): number {
  let size = 1;
  for (const extent of shape) size *= extent;
  return size;
}
