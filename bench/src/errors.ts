/**
 * Errors of the benchmark, each with a `code` a caller can branch on.
 */

/** Codes of {@link BenchError}. */
export type BenchErrorCode =
  /** The PyTorch reference process failed to start, died, or answered with an error. */
  | 'REFERENCE_FAILED'
  /** A command-line option or a configuration value is invalid. */
  | 'INVALID_OPTION';

/** An error of the benchmark; the cause, when there is one, is chained. */
export class BenchError extends Error {
  readonly code: BenchErrorCode;

  constructor(code: BenchErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BenchError';
    this.code = code;
  }
}
