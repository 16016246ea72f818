/**
 * `sample --resume <run.json>`: reads the checkpoint and the options that an earlier
 * `sample --out run.json` recorded, so that the run continues bit for bit.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CHECKPOINT_FORMAT, type SamplerCheckpoint } from '@latent-langevin/core';
import { CliError } from './cli-error.js';
import { RUN_JSON_FORMAT } from './run-files.js';

/** A run file to continue, read and checked. */
export interface ResumeFile {
  /** The path as the user wrote it, for messages. */
  readonly given: string;
  readonly checkpoint: SamplerCheckpoint;
  /** Draws per chain the checkpoint already holds (0 when it stopped during warm-up). */
  readonly drawOffset: number;
  /**
   * The recorded options as command-line strings, keyed like commander's option values
   * (`chains`, `global`, `stepSize`, ...); absent where the file does not record one.
   */
  readonly options: Readonly<Record<string, string>>;
}

/** Recorded option (`metadata.options`) -> commander's option key. */
const RECORDED_OPTIONS: Readonly<Record<string, string>> = {
  target: 'target',
  chains: 'chains',
  warmup: 'warmup',
  draws: 'draws',
  seed: 'seed',
  preconditioner: 'preconditioner',
  globalMoveProbability: 'global',
  kernel: 'kernel',
  stepSize: 'stepSize',
  executionProvider: 'executionProvider',
  gradient: 'gradient',
  input: 'input',
  xOutput: 'xOutput',
  logDetOutput: 'logDetOutput',
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads a run JSON written by `sample --out run.json` for `--resume`.
 *
 * @param given the path as written on the command line
 * @param cwd the directory `given` is resolved against
 * @throws CliError naming the file, what is wrong with it and what to pass instead
 * @example
 * ```ts
 * const resume = await readResumeFile('run.json', process.cwd());
 * await sample(flow, { ...options, draws: 2000, resume: resume.checkpoint });
 * ```
 */
export async function readResumeFile(given: string, cwd: string): Promise<ResumeFile> {
  const path = resolve(cwd, given);
  const fix = "Pass a run.json written by 'latent-langevin sample --out run.json'.";
  const fail = (what: string, cause?: unknown): CliError =>
    new CliError('RESUME_FILE', `--resume ${given}: ${what}. ${fix}`, { cause });

  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'a directory'
          : code === 'EACCES' || code === 'EPERM'
            ? 'permission denied'
            : String(code ?? error);
    throw fail(`cannot read '${path}' (${why})`, error);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw fail(`not valid JSON (${(error as Error).message})`, error);
  }

  if (!isRecord(document) || document.format !== RUN_JSON_FORMAT) {
    const format = isRecord(document) ? JSON.stringify(document.format) : 'not an object';
    throw fail(`not a run file (format ${format}; expected "${RUN_JSON_FORMAT}")`);
  }
  const checkpoint = document.checkpoint;
  if (
    !isRecord(checkpoint) ||
    checkpoint.format !== CHECKPOINT_FORMAT ||
    !isRecord(checkpoint.config) ||
    !isRecord(checkpoint.state) ||
    !Number.isSafeInteger(checkpoint.iteration) ||
    !Number.isSafeInteger(checkpoint.config.warmup)
  ) {
    throw fail(
      `holds no usable checkpoint (expected "checkpoint" with format "${CHECKPOINT_FORMAT}"; ` +
        'files from before --resume existed have none)',
    );
  }
  const iteration = checkpoint.iteration as number;
  const warmup = checkpoint.config.warmup as number;

  const recorded = isRecord(document.options) ? document.options : {};
  const options: Record<string, string> = {};
  for (const [name, key] of Object.entries(RECORDED_OPTIONS)) {
    const value = recorded[name];
    if (typeof value === 'number' || typeof value === 'string') options[key] = String(value);
  }
  return {
    given,
    checkpoint: checkpoint as unknown as SamplerCheckpoint,
    drawOffset: Math.max(0, iteration - warmup),
    options,
  };
}
