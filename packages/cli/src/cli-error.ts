/** The error the command line throws on purpose: one line for people, and an exit status. */

/** Exit status of a usage mistake (unknown flag, bad value), as most command-line tools use. */
export const EXIT_USAGE = 2;

/** Exit status of any other failure: a missing file, a failed run, an unwritable output. */
export const EXIT_FAILURE = 1;

/** Exit status after an interrupt (Ctrl-C), 128 + SIGINT. */
export const EXIT_INTERRUPTED = 130;

/**
 * A failure the command line explains itself. `message` is one line that says what went wrong
 * and how to fix it; `exitCode` is the process's exit status.
 */
export class CliError extends Error {
  readonly exitCode: number;
  readonly code: string;

  constructor(code: string, message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.code = code;
    this.exitCode = options.exitCode ?? EXIT_FAILURE;
  }
}

/** A mistake in the command line itself; exits with {@link EXIT_USAGE}. */
export function usageError(message: string): CliError {
  return new CliError('USAGE', message, { exitCode: EXIT_USAGE });
}
