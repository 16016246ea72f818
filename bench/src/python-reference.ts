/**
 * The client side of the PyTorch reference (bench/reference/mala_reference.py): one Python
 * process for the whole run, spoken to in JSON lines over stdin and stdout, one request at a
 * time, so that the benchmark can interleave its own timings with PyTorch's.
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { BenchError } from './errors.js';
import { repositoryRoot } from './machine.js';

/** Debian's interpreter, the one that sees python3-torch (the first python3 on PATH may not). */
export const DEFAULT_PYTHON = '/usr/bin/python3';

/** How to install PyTorch on the build machines (ENVIRONMENT.md). */
export const TORCH_INSTALL_HINT =
  'apt-get update && apt-get install -y --no-install-recommends python3-torch';

/** Path of the reference script. */
export function referenceScriptPath(): string {
  return join(repositoryRoot(), 'bench', 'reference', 'mala_reference.py');
}

/** Whether PyTorch can be imported, and if not, why and how to install it. */
export type TorchAvailability =
  | { readonly available: true; readonly python: string }
  | { readonly available: false; readonly python: string; readonly reason: string };

/**
 * Checks that `python -c 'import torch'` succeeds (within 120 s, the first import is slow).
 *
 * @param python the interpreter, by default {@link DEFAULT_PYTHON}
 * @example
 * ```ts
 * const torch = checkTorch();
 * if (!torch.available) console.log(`${torch.reason} Install: ${TORCH_INSTALL_HINT}`);
 * ```
 */
export function checkTorch(python = DEFAULT_PYTHON): TorchAvailability {
  const result = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8', timeout: 120_000 });
  if (result.error !== undefined) {
    return {
      available: false,
      python,
      reason: `${python} could not run: ${result.error.message}.`,
    };
  }
  if (result.status !== 0) {
    const lines = (result.stderr ?? '').trim().split('\n');
    return {
      available: false,
      python,
      reason: `${python} -c 'import torch' failed: ${lines[lines.length - 1] || 'no message'}.`,
    };
  }
  return { available: true, python };
}

/** A reply of the reference process: `ok` and the command's fields. */
export type ReferenceReply = Record<string, unknown> & { readonly ok: boolean };

/**
 * A running PyTorch reference process. Create it with {@link PythonReference.start}, send
 * commands with {@link PythonReference.request}, and end it with {@link PythonReference.close}.
 */
export class PythonReference {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: {
    resolve: (reply: ReferenceReply) => void;
    reject: (error: Error) => void;
  }[] = [];
  private stderr = '';
  private exited: Error | null = null;

  private constructor(child: ChildProcessWithoutNullStreams) {
    this.child = child;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-4000);
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      const next = this.waiting.shift();
      if (next === undefined) return;
      try {
        next.resolve(JSON.parse(line) as ReferenceReply);
      } catch (error) {
        next.reject(
          new BenchError('REFERENCE_FAILED', `PyTorch reference: unreadable reply ${line}`, {
            cause: error,
          }),
        );
      }
    });
    const fail = (error: Error) => {
      this.exited = error;
      for (const waiter of this.waiting.splice(0)) waiter.reject(error);
    };
    child.on('error', (error) =>
      fail(
        new BenchError('REFERENCE_FAILED', `PyTorch reference: ${error.message}`, { cause: error }),
      ),
    );
    child.on('exit', (code, signal) =>
      fail(
        new BenchError(
          'REFERENCE_FAILED',
          `PyTorch reference exited (code ${code}, signal ${signal}). ` +
            `stderr: ${this.stderr.trim()}`,
        ),
      ),
    );
  }

  /**
   * Spawns the reference script.
   *
   * @param python the interpreter, by default {@link DEFAULT_PYTHON}
   * @example
   * ```ts
   * const torch = PythonReference.start();
   * console.log(await torch.request({ cmd: 'hello' }));
   * await torch.close();
   * ```
   */
  static start(python = DEFAULT_PYTHON, script = referenceScriptPath()): PythonReference {
    const child = spawn(python, ['-B', '-u', script], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONUNBUFFERED: '1' },
    });
    return new PythonReference(child);
  }

  /**
   * Sends one command and waits for its reply.
   *
   * @throws BenchError `REFERENCE_FAILED` when the process is gone or replies `ok: false`
   */
  request(message: Record<string, unknown>): Promise<ReferenceReply> {
    if (this.exited !== null) return Promise.reject(this.exited);
    return new Promise<ReferenceReply>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.child.stdin.write(`${JSON.stringify(message)}\n`);
    }).then((reply) => {
      if (reply.ok !== true) {
        throw new BenchError(
          'REFERENCE_FAILED',
          `PyTorch reference: command '${String(message.cmd)}' failed: ${String(reply.error)}`,
        );
      }
      return reply;
    });
  }

  /** Asks the process to quit and waits for it (kills it after 5 s). */
  async close(): Promise<void> {
    if (this.exited !== null) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end(`${JSON.stringify({ cmd: 'quit' })}\n`);
    const timer = setTimeout(() => this.child.kill(), 5000);
    await gone;
    clearTimeout(timer);
  }
}
