/**
 * `latent-langevin evaluate`: the experiments of `@latent-langevin/eval` (naive sampling, latent
 * MALA, random-walk Metropolis and SIR scored against exact draws on the repository's
 * fixtures), with progress on standard error and the written files on standard output.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  type ExperimentProgress,
  SYNTHETIC_FIXTURES,
  DIGITS_FIXTURE,
  runExperiments,
} from '@latent-langevin/eval';
import { CliError, usageError } from '../cli-error.js';
import type { CliIo } from '../io.js';
import { formatDuration } from '../progress.js';

/** Options of `evaluate` as commander hands them over. */
export interface EvaluateCommandOptions {
  readonly quick?: boolean;
  readonly out: string;
  readonly seeds?: string;
  readonly fixtures?: string;
  readonly only?: string;
  readonly progress: boolean;
}

/** Help text after the options of `evaluate`. */
export const EVALUATE_HELP = `
The fixtures are the models of the latent-langevin repository (fixtures/ of a clone): inside the
clone they are found by themselves; elsewhere pass --fixtures <clone>/fixtures.

Examples:
  $ latent-langevin evaluate --quick --out out/quick     # seconds: checks the pipeline
  $ latent-langevin evaluate --seeds 1,2,3 --only two-moons-realnvp,ring-realnvp
`;

/** Parses `--seeds 1,2,3`. */
function parseSeeds(value: string): number[] {
  const seeds = value.split(',').map((s) => (/^\s*\d+\s*$/.test(s) ? Number(s) : Number.NaN));
  if (seeds.length === 0 || !seeds.every((s) => Number.isSafeInteger(s) && s < 2 ** 43)) {
    throw usageError(
      `--seeds must be whole numbers in [0, 2^43) separated by commas; received '${value}'. ` +
        'Pass e.g. --seeds 1,2,3.',
    );
  }
  return seeds;
}

/** Parses `--only a,b` against the fixtures the runner knows. */
function parseOnly(value: string): string[] {
  const known = [...SYNTHETIC_FIXTURES.map((f) => f.fixture), DIGITS_FIXTURE];
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const unknown = names.filter((name) => !known.includes(name));
  if (names.length === 0 || unknown.length > 0) {
    throw usageError(
      `--only: unknown fixture ${unknown.map((u) => `'${u}'`).join(', ') || "''"}; expected ` +
        `names among ${known.join(', ')}.`,
    );
  }
  return names;
}

/**
 * Runs the `evaluate` command.
 *
 * @returns the exit status: 0 when at least one fixture ran
 * @throws CliError for bad options, a missing fixtures folder, or when no fixture could run
 */
export async function evaluateCommand(options: EvaluateCommandOptions, io: CliIo): Promise<number> {
  const cwd = io.cwd ?? process.cwd();
  const seeds = options.seeds === undefined ? undefined : parseSeeds(options.seeds);
  const only = options.only === undefined ? undefined : parseOnly(options.only);
  const fixturesDir = options.fixtures === undefined ? undefined : resolve(cwd, options.fixtures);
  if (fixturesDir !== undefined && !(await stat(fixturesDir).catch(() => null))?.isDirectory()) {
    throw new CliError(
      'FIXTURES_NOT_FOUND',
      `--fixtures ${options.fixtures}: no directory at '${fixturesDir}'. Pass the fixtures/ ` +
        'folder of a clone of the latent-langevin repository.',
    );
  }
  const outDir = resolve(cwd, options.out);

  const started = performance.now();
  let last = -Infinity;
  const onProgress = (progress: ExperimentProgress) => {
    if (!options.progress) return;
    const now = performance.now();
    if (progress.step !== 'skip' && progress.done < progress.total && now - last < 1000) return;
    last = now;
    const left =
      progress.done > 0
        ? ((progress.total - progress.done) * progress.elapsedMs) / progress.done / 1000
        : Number.NaN;
    io.stderr.write(
      `[${progress.done}/${progress.total}] ${formatDuration(progress.elapsedMs / 1000)}, ` +
        `${Number.isFinite(left) ? `${formatDuration(left)} left` : 'estimating'}: ` +
        `${progress.message}\n`,
    );
  };

  const results = await runExperiments({
    size: options.quick === true ? 'quick' : 'default',
    outDir,
    ...(seeds === undefined ? {} : { seeds }),
    ...(fixturesDir === undefined ? {} : { fixturesDir }),
    ...(only === undefined ? {} : { only }),
    ...(io.signal === undefined ? {} : { signal: io.signal }),
    onProgress,
  });
  if (results.targets.length === 0 && results.digits === null) {
    const first = results.skipped[0];
    throw new CliError(
      'NO_FIXTURES',
      `no fixture could run; ${results.skipped.length} skipped, the first ` +
        `${first === undefined ? 'none' : `${first.fixture} (${first.reason})`}. Pass ` +
        '--fixtures <clone>/fixtures, the fixtures/ folder of the repository.',
    );
  }
  for (const skip of results.skipped) {
    io.stderr.write(`latent-langevin evaluate: skipped ${skip.fixture}: ${skip.reason}\n`);
  }

  const files = [results.files.json, results.files.markdown, ...results.files.pictures];
  const fixtures = results.targets.length + (results.digits === null ? 0 : 1);
  const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;
  io.stdout.write(
    `${plural(fixtures, 'fixture')}, ${plural(results.seeds.length, 'seed')}, ` +
      `${results.size} size, in ${formatDuration((performance.now() - started) / 1000)}; ` +
      `wrote to ${outDir}:\n${files.map((file) => `  ${file}\n`).join('')}`,
  );
  return 0;
}
