/** Errors of the ONNX adapter. */
import { LatentLangevinError } from '@latent-langevin/core';

/** Codes of {@link OnnxFlowError}. */
export type OnnxFlowErrorCode =
  | 'INVALID_ARGUMENT'
  | 'INVALID_MODEL'
  | 'UNSUPPORTED_MODEL'
  | 'NAME_NOT_FOUND'
  | 'AMBIGUOUS_NAME'
  | 'UNKNOWN_SHAPE'
  | 'PROVIDER_UNAVAILABLE'
  | 'UNSUPPORTED_OPERATOR'
  | 'RUN_FAILED'
  | 'DISPOSED';

/** An error of the ONNX adapter; `code` says which kind. */
export class OnnxFlowError extends LatentLangevinError<OnnxFlowErrorCode> {
  constructor(code: OnnxFlowErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'OnnxFlowError';
  }
}
