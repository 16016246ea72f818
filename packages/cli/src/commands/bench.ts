/**
 * `latent-langevin bench`: runs the benchmark entry of the repository's `bench/` workspace.
 * `@latent-langevin/bench` is private (it races a PyTorch reference that is not shipped), so
 * the command works inside a checkout of the repository only and says so elsewhere.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, parse } from 'node:path';
import { CliError } from '../cli-error.js';
import type { CliIo } from '../io.js';

/** Why `bench` is repository-only, shown in its help and its error. */
export const BENCH_SCOPE_NOTE =
  '@latent-langevin/bench is private and not published: this command runs only inside a ' +
  'clone of the latent-langevin repository, after npm ci and npm run build.';

/** The workspace's directory, if `@latent-langevin/bench` is installed or `cwd` is inside it. */
function findBenchWorkspace(cwd: string): string | null {
  for (const from of [join(cwd, 'noop.js'), import.meta.url]) {
    try {
      const entry = createRequire(from).resolve('@latent-langevin/bench');
      return dirname(dirname(entry)); // <workspace>/dist/index.js
    } catch {
      // not resolvable from here; try the next place, then the directories above cwd
    }
  }
  let directory = cwd;
  for (;;) {
    const manifest = join(directory, 'bench', 'package.json');
    if (existsSync(manifest)) {
      try {
        const name = (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name;
        if (name === '@latent-langevin/bench') return join(directory, 'bench');
      } catch {
        // an unreadable manifest is not the workspace; keep looking upwards
      }
    }
    if (directory === parse(directory).root) return null;
    directory = dirname(directory);
  }
}

/**
 * Runs `bench/dist/main.js` of the repository checkout in a child Node process, passing `args`
 * through and relaying its output.
 *
 * @returns the benchmark's exit status
 * @throws CliError when no checkout is found or it is not built
 */
export async function benchCommand(args: readonly string[], io: CliIo): Promise<number> {
  const cwd = io.cwd ?? process.cwd();
  const workspace = findBenchWorkspace(cwd);
  if (workspace === null) {
    throw new CliError(
      'BENCH_UNAVAILABLE',
      `no bench/ workspace found from '${cwd}'. ${BENCH_SCOPE_NOTE} Run it from the clone.`,
    );
  }
  const main = join(workspace, 'dist', 'main.js');
  if (!existsSync(main)) {
    throw new CliError(
      'BENCH_NOT_BUILT',
      `'${main}' does not exist: the benchmarks are not built. Run npm run build (tsc -b) in ` +
        'the repository first.',
    );
  }

  // Commander keeps a `--` that follows unknown options; the benchmarks' parser must not see it.
  const separator = args.indexOf('--');
  const forwarded =
    separator < 0 ? args : [...args.slice(0, separator), ...args.slice(separator + 1)];
  const child = spawn(process.execPath, [main, ...forwarded], {
    cwd,
    stdio: ['inherit', 'pipe', 'pipe'],
    env: { ...process.env, ...io.env },
  });
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => io.stdout.write(chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => io.stderr.write(chunk));
  const onAbort = () => child.kill('SIGINT');
  io.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await new Promise<number>((resolve, reject) => {
      child.on('error', (error) =>
        reject(
          new CliError('BENCH_FAILED', `could not start the benchmarks (${error.message}).`, {
            cause: error,
          }),
        ),
      );
      child.on('close', (code, signal) => resolve(code ?? (signal === 'SIGINT' ? 130 : 1)));
    });
  } finally {
    io.signal?.removeEventListener('abort', onAbort);
  }
}
