/**
 * What the executable does when the reader of its output goes away early, as in
 * `latent-langevin sample --help | head -1`: Node ignores SIGPIPE, so a write to the closed pipe
 * fails with EPIPE, which would otherwise end the process with a stack trace and status 1.
 *
 * The policy: the reader of standard output has taken all it wanted, so the program stops at
 * once, silently, with status 0 (what a shell reports for `cmd | head` without `pipefail`, and
 * what keeps `set -o pipefail` scripts going; a tool killed by SIGPIPE would give 141). Output
 * files were written before the summary reaches standard output, so none is left half done. A
 * closed standard error only loses the messages: the command carries on, and its exit status
 * still says how it went. Any other failure to write standard output (a full disk behind
 * `> file`) ends the program with one line on standard error and status 1.
 */
import { EXIT_FAILURE } from './cli-error.js';

/** Exit status when the reader of standard output closed it early. */
export const EXIT_BROKEN_PIPE = 0;

/** A stream that reports write failures as `error` events, like `process.stdout`. */
export interface ErrorEmitter {
  on(event: 'error', listener: (error: Error) => void): unknown;
  write(text: string): unknown;
}

const isBrokenPipe = (error: Error) => (error as NodeJS.ErrnoException).code === 'EPIPE';

/**
 * Applies the policy above to the process's streams.
 *
 * @param stdout standard output, normally `process.stdout`
 * @param stderr standard error, normally `process.stderr`
 * @param exit ends the process with a status, normally `process.exit`
 * @example
 * ```ts
 * handleBrokenPipes(process.stdout, process.stderr, (code) => process.exit(code));
 * ```
 */
export function handleBrokenPipes(
  stdout: ErrorEmitter,
  stderr: ErrorEmitter,
  exit: (code: number) => void,
): void {
  stdout.on('error', (error) => {
    if (isBrokenPipe(error)) {
      exit(EXIT_BROKEN_PIPE);
      return;
    }
    stderr.write(`latent-langevin: cannot write to standard output (${error.message}).\n`);
    exit(EXIT_FAILURE);
  });
  stderr.on('error', () => {
    // Nothing is left to tell about a failing standard error; the exit status still tells.
  });
}
