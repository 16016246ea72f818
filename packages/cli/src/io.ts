/** The streams and context a command runs with, injectable so that tests run it in-process. */

/** A writable text stream: `process.stdout`, or anything with `write` for tests. */
export interface OutputStream {
  write(text: string): unknown;
  /** True when the stream is a terminal; progress bars are drawn only then. */
  readonly isTTY?: boolean;
  /** Width of the terminal, used to wrap help. */
  readonly columns?: number;
}

/** Where a command writes and what it runs against. */
export interface CliIo {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  /** Directory that relative paths are resolved against; default `process.cwd()`. */
  readonly cwd?: string;
  /** Cancels a running command (the binary wires it to SIGINT). */
  readonly signal?: AbortSignal;
  /** Environment variables; default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}
