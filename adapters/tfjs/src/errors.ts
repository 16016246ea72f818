/** Errors of the TensorFlow.js adapter. */
import { LatentLangevinError } from '@latent-langevin/core';

/** Codes of {@link TfjsFlowError}. */
export type TfjsFlowErrorCode =
  | 'INVALID_MODEL'
  | 'UNSUPPORTED_MODEL'
  | 'ASYNC_ONLY_GRAPH'
  | 'UNSUPPORTED_OPERATOR'
  | 'NAME_NOT_FOUND'
  | 'AMBIGUOUS_NAME'
  | 'UNKNOWN_SHAPE'
  | 'SHAPE_MISMATCH'
  | 'BACKEND_UNAVAILABLE'
  | 'RUN_FAILED'
  | 'DISPOSED';

/** An error of the TensorFlow.js adapter; `code` says which kind. */
export class TfjsFlowError extends LatentLangevinError<TfjsFlowErrorCode> {
  constructor(code: TfjsFlowErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'TfjsFlowError';
  }
}
