/**
 * The `--input`, `--x-output` and `--log-det-output` options: which graph input is the latent
 * `z` and which outputs are `x` and `logDet`, for models where the adapter cannot tell.
 */
import { OnnxFlowError, type OnnxFlowOptions } from '@latent-langevin/onnx';
import { CliError } from './cli-error.js';
import { oneLine } from './one-line.js';

/** The naming options as commander hands them over. */
export interface ModelNameOptions {
  readonly input?: string;
  readonly xOutput?: string;
  readonly logDetOutput?: string;
}

/** The `loadOnnxFlow()` options that name the model's input and outputs. */
export function flowNames(options: ModelNameOptions): Pick<OnnxFlowOptions, 'input' | 'outputs'> {
  const outputs = {
    ...(options.xOutput === undefined ? {} : { x: options.xOutput }),
    ...(options.logDetOutput === undefined ? {} : { logDet: options.logDetOutput }),
  };
  return {
    ...(options.input === undefined ? {} : { input: options.input }),
    ...(Object.keys(outputs).length === 0 ? {} : { outputs }),
  };
}

/**
 * Adds the command-line spelling of the fix to the adapter's naming errors, which speak of
 * `loadOnnxFlow()` options; other errors pass through unchanged.
 */
export function withNameHint(error: unknown): unknown {
  if (
    error instanceof OnnxFlowError &&
    (error.code === 'AMBIGUOUS_NAME' || error.code === 'NAME_NOT_FOUND')
  ) {
    return new CliError(
      error.code,
      `${oneLine(error.message)} On the command line: --input <name>, --x-output <name>, ` +
        '--log-det-output <name>.',
      { cause: error },
    );
  }
  return error;
}
