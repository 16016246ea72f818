/**
 * What `sample` writes: the run as JSON, as a NumPy `.npz` archive, or its data draws alone as
 * `.npy`, and where: every path is checked before the run starts, so that a typo in a directory
 * does not cost a whole run.
 */
import { open, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import type { BaselineDraws, RunSummary, SampleResult } from '@latent-langevin/core';
import { CliError } from './cli-error.js';
import { type NpyArray, encodeNpy, encodeNpz } from './npy.js';

/** Format tag of the JSON file, bumped when its layout changes. */
export const RUN_JSON_FORMAT = 'latent-langevin/run@1';

/** Kinds of output file, from their extension. */
export type OutputKind = 'json' | 'npz' | 'npy' | 'png';

/** An output path, resolved and checked. */
export interface PlannedOutput {
  /** The path as the user wrote it, for messages. */
  readonly given: string;
  readonly path: string;
  readonly kind: OutputKind;
}

const KINDS: Record<string, OutputKind> = {
  '.json': 'json',
  '.npz': 'npz',
  '.npy': 'npy',
  '.png': 'png',
};

/**
 * Resolves an output path and checks, before any work, that it can be written: a known
 * extension, an existing directory that is writable, and no directory in the file's place.
 *
 * @param option the flag, for messages (`--out` or `--plot`)
 * @param given the path as written on the command line
 * @param allowed extensions the flag accepts, e.g. `['.json', '.npz', '.npy']`
 * @throws CliError naming the path, what is wrong and the fix
 */
export async function planOutput(
  option: string,
  given: string,
  allowed: readonly string[],
  cwd: string,
): Promise<PlannedOutput> {
  const path = resolve(cwd, given);
  const extension = extname(path).toLowerCase();
  if (!allowed.includes(extension)) {
    throw new CliError(
      'OUTPUT_EXTENSION',
      `${option} ${given}: unknown file type '${extension || '(none)'}'; expected a path ` +
        `ending in ${allowed.join(', ')}.`,
      { exitCode: 2 },
    );
  }
  const directory = dirname(path);
  const directoryStat = await stat(directory).catch(() => null);
  if (directoryStat !== null && !directoryStat.isDirectory()) {
    throw new CliError(
      'OUTPUT_NOT_WRITABLE',
      `${option} ${given}: cannot write there, '${directory}' is a file, not a directory. ` +
        'Choose another path.',
    );
  }
  if (directoryStat === null) {
    throw new CliError(
      'OUTPUT_NOT_WRITABLE',
      `${option} ${given}: cannot write there, directory '${directory}' does not exist. ` +
        'Create it first or choose another path.',
    );
  }
  const existing = await stat(path).catch(() => null);
  if (existing !== null && existing.isDirectory()) {
    throw new CliError(
      'OUTPUT_NOT_WRITABLE',
      `${option} ${given}: '${path}' is a directory. Pass a file path such as ${given}/run` +
        `${extension || '.json'}.`,
    );
  }
  // Opening the file is the only check that holds for every user and file system (root passes
  // access() checks on read-only mounts); a file created by the probe is removed again.
  try {
    const handle = await open(path, existing === null ? 'wx' : 'r+');
    await handle.close();
    if (existing === null) await unlink(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'EROFS'
          ? 'read-only file system'
          : ((error as Error).message ?? String(error));
    throw new CliError(
      'OUTPUT_NOT_WRITABLE',
      `${option} ${given}: cannot write '${path}' (${why}). Choose a path you can write to.`,
      { cause: error },
    );
  }
  return { given, path, kind: KINDS[extension] };
}

/**
 * Writes bytes or text to a planned output.
 *
 * @throws CliError when the write fails (disk full, permissions changed since planning)
 */
export async function writeOutput(
  output: PlannedOutput,
  option: string,
  content: Uint8Array | string,
): Promise<void> {
  try {
    await writeFile(output.path, content);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliError(
      'OUTPUT_WRITE_FAILED',
      `${option} ${output.given}: writing failed (${reason}). Check the path and free space.`,
      { cause: error },
    );
  }
}

/** What the files record about how the run was made. */
export interface RunMetadata {
  readonly model: string;
  readonly target: string;
  readonly executionProvider: string;
  readonly gradientSource: string;
  readonly options: Readonly<Record<string, unknown>>;
}

/** Nests a row-major array into plain arrays of the given shape. */
function nest(data: ArrayLike<number>, shape: readonly number[]): unknown {
  if (shape.length === 0) return data[0];
  const build = (offset: number, axis: number): unknown[] => {
    const extent = shape[axis];
    if (axis === shape.length - 1)
      return Array.from({ length: extent }, (_, k) => data[offset + k]);
    const stride = shape.slice(axis + 1).reduce((product, e) => product * e, 1);
    return Array.from({ length: extent }, (_, k) => build(offset + k * stride, axis + 1));
  };
  return build(0, 0);
}

/** Statistics of the summary that hold numbers only (its `text` is printed instead). */
function summaryData(summary: RunSummary): Omit<RunSummary, 'text'> {
  return Object.fromEntries(Object.entries(summary).filter(([key]) => key !== 'text')) as Omit<
    RunSummary,
    'text'
  >;
}

/**
 * The run as a JSON document: metadata, the summary (null for a run interrupted before it had
 * draws to summarise), `drawOffset` (index of the first draw within the whole run: 0 unless
 * resumed), nested arrays `z` `[chains][draws][d]`, `x` `[chains][draws][...dataShape]`,
 * `logPi`, `logDet`, `accepted` `[chains][draws]`, the naive draws, and the sampler's
 * `checkpoint`, which `sample --resume` continues from. Non-finite numbers become null, as JSON
 * requires; a checkpoint holding one (a chain at a point of zero density) no longer resumes.
 *
 * @example
 * ```ts
 * await writeFile('run.json', runJson(run, summarize(run), naiveDraws, metadata));
 * ```
 */
export function runJson(
  run: SampleResult,
  summary: RunSummary | null,
  naiveDraws: BaselineDraws,
  metadata: RunMetadata,
): string {
  const { chains, draws, latentDim: d, dataShape } = run;
  const document = {
    format: RUN_JSON_FORMAT,
    ...metadata,
    chains,
    draws,
    drawOffset: run.drawOffset,
    latentDim: d,
    dataShape,
    stepSize: run.stepSize,
    summary: summary === null ? null : summaryData(summary),
    z: nest(run.z, [chains, draws, d]),
    x: run.x === null ? null : nest(run.x, [chains, draws, ...dataShape]),
    logPi: nest(run.logPi, [chains, draws]),
    logDet: nest(run.logDet, [chains, draws]),
    accepted: nest(run.accepted, [chains, draws]),
    naive: {
      count: naiveDraws.count,
      z: nest(naiveDraws.z, [naiveDraws.count, d]),
      x: nest(naiveDraws.x, [naiveDraws.count, ...dataShape]),
      logDet: Array.from(naiveDraws.logDet),
    },
    checkpoint: run.checkpoint,
  };
  return JSON.stringify(document) + '\n';
}

/**
 * The run's arrays under the names the `.npz` archive uses: `z` `[chains, draws, d]`, `x`
 * `[chains, draws, ...dataShape]`, `log_pi` (float64), `log_det` and `accepted` (uint8)
 * `[chains, draws]`, `step_size` (a float64 scalar), `draw_offset` (an int32 scalar: index of
 * the first draw within the whole run, 0 unless resumed), and the naive draws `naive_z`
 * `[count, d]`, `naive_x` `[count, ...dataShape]` and `naive_log_det` `[count]`.
 */
export function runArrays(run: SampleResult, naiveDraws: BaselineDraws): Record<string, NpyArray> {
  const { chains, draws, latentDim: d, dataShape } = run;
  const arrays: Record<string, NpyArray> = {
    z: { data: run.z, shape: [chains, draws, d] },
  };
  if (run.x !== null) arrays.x = { data: run.x, shape: [chains, draws, ...dataShape] };
  arrays.log_pi = { data: run.logPi, shape: [chains, draws] };
  arrays.log_det = { data: run.logDet, shape: [chains, draws] };
  arrays.accepted = { data: run.accepted, shape: [chains, draws] };
  arrays.step_size = { data: new Float64Array([run.stepSize]), shape: [] };
  arrays.draw_offset = { data: new Int32Array([run.drawOffset]), shape: [] };
  arrays.naive_z = { data: naiveDraws.z, shape: [naiveDraws.count, d] };
  arrays.naive_x = { data: naiveDraws.x, shape: [naiveDraws.count, ...dataShape] };
  arrays.naive_log_det = { data: naiveDraws.logDet, shape: [naiveDraws.count] };
  return arrays;
}

/** The bytes of a run output of kind `npz` (every array) or `npy` (`x` alone). */
export function runNumpy(kind: 'npz' | 'npy', arrays: Record<string, NpyArray>): Uint8Array {
  if (kind === 'npz') return encodeNpz(arrays);
  return encodeNpy(arrays.x ?? arrays.z);
}
