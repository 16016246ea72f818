/**
 * The error class of the ONNX autodiff. Every error has a stable `code` for programs, so that a
 * caller can fall back to finite differences on `UNSUPPORTED_OPERATOR`, and a message for people.
 */

/** Codes of {@link OnnxAutodiffError}. */
export type OnnxAutodiffErrorCode =
  /** An operator on the differentiated path has no gradient rule (see `operators`). */
  | 'UNSUPPORTED_OPERATOR'
  /** The model's default-domain opset is below 13, or absent. */
  | 'UNSUPPORTED_OPSET'
  /** An option names no graph input or output, or a name collides with the graph's. */
  | 'INVALID_ARGUMENT'
  /** The model breaks an ONNX rule the transformer relies on (e.g. nodes out of order). */
  | 'INVALID_MODEL'
  /** The rank of a tensor that a gradient rule needs could not be inferred. */
  | 'RANK_INFERENCE'
  /** An invariant of the transformer itself broke: a bug here, not in the model. */
  | 'INTERNAL';

/** One operator on the differentiated path that the autodiff cannot differentiate. */
export interface UnsupportedOperator {
  /** The operator type, prefixed with its domain when not the default one, e.g. `Einsum`. */
  readonly opType: string;
  /** Names (or, for unnamed nodes, first outputs) of the nodes using it on the path. */
  readonly nodes: readonly string[];
  /** Why: no rule at all, or which attribute or input the rule does not handle. */
  readonly reason: string;
}

/**
 * Failure of the ONNX autodiff; `operators` is non-empty when `code` is `UNSUPPORTED_OPERATOR`,
 * and names the operator whose rule failed when a rule failed on one node (`RANK_INFERENCE`).
 *
 * @example
 * try {
 *   vjpModel = buildVjpModel(model, { input: 'z', outputs: ['x', 'logdet'] });
 * } catch (error) {
 *   if (!(error instanceof OnnxAutodiffError)) throw error;
 *   if (error.code !== 'UNSUPPORTED_OPERATOR') throw error;
 *   useFiniteDifferences(error.operators.map((op) => op.opType));
 * }
 */
export class OnnxAutodiffError extends Error {
  readonly code: OnnxAutodiffErrorCode;
  readonly operators: readonly UnsupportedOperator[];

  constructor(
    code: OnnxAutodiffErrorCode,
    message: string,
    options?: { cause?: unknown; operators?: readonly UnsupportedOperator[] },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OnnxAutodiffError';
    this.code = code;
    this.operators = options?.operators ?? [];
  }
}
