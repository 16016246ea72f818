/**
 * The experiment runner: a reproduction of the paper's comparisons on this repository's
 * fixtures, written to a folder as JSON, Markdown and PNG pictures.
 */
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  type DifferentiableFlow,
  InvalidArgumentError,
  describeValue,
} from '@latent-langevin/core';

import { imageGridSpec } from '../plots/image-grid.js';
import { scatterPanels } from '../plots/scatter-panels.js';
import { sideBySide } from '../plots/side-by-side.js';
import { gaussianRing } from '../targets/gaussian-ring.js';
import type { SyntheticTarget } from '../targets/synthetic-target.js';
import { twoModeMixture } from '../targets/two-mode-mixture.js';
import { twoMoons } from '../targets/two-moons.js';
import {
  DIGITS_METHODS,
  type DigitsResults,
  decodeHeldOut,
  runDigitsExperiment,
} from './digits-experiment.js';
import { SYNTHETIC_METHODS } from './methods.js';
import { markdownReport } from './report.js';
import { EXPERIMENT_SIZES, type ExperimentSize } from './sizes.js';
import { type TargetResults, runSyntheticExperiment } from './synthetic-experiment.js';

/**
 * Fixtures with an explicit target density, in report order, with the synthetic target each
 * flow was trained on. The `gmm-d*` fixtures are run when their `model.onnx` exists.
 */
export const SYNTHETIC_FIXTURES: readonly {
  readonly fixture: string;
  readonly target: () => SyntheticTarget;
}[] = [
  { fixture: 'two-moons-realnvp', target: twoMoons },
  { fixture: 'ring-realnvp', target: gaussianRing },
  { fixture: 'two-moons-nice', target: twoMoons },
  ...[2, 8, 32].map((dimension) => ({
    fixture: `gmm-d${dimension}-realnvp`,
    target: () => twoModeMixture({ dimension }),
  })),
];

/** The data-driven fixture: a Glow on the 8 x 8 digits, with held-out images. */
export const DIGITS_FIXTURE = 'digits-glow';

/** Progress of a run, reported after every method of every seed and at each stage. */
export interface ExperimentProgress {
  /** Units of work done (one unit: one method on one seed of one fixture) and planned. */
  readonly done: number;
  readonly total: number;
  readonly fixture: string;
  readonly seed: number | null;
  /** Method id, or a stage: `load`, `skip`, `picture`, `write`. */
  readonly step: string;
  readonly elapsedMs: number;
  /** One line for people. */
  readonly message: string;
}

/** Options of {@link runExperiments}. */
export interface RunExperimentsOptions {
  /** `quick` checks the pipeline in seconds; `default` (the default) gives reported numbers. */
  readonly size?: 'quick' | 'default';
  /** Folder to write `results.json`, `results.md` and the pictures into; created if needed. */
  readonly outDir: string;
  /** Seeds, integers in [0, 2^53); default `[1, 2]` (quick) or `[1, 2, 3, 4, 5]`. */
  readonly seeds?: readonly number[];
  /** Receives progress; the runner itself writes nothing to the console. */
  readonly onProgress?: (progress: ExperimentProgress) => void;
  /** Folder holding the fixture folders; default the repository's `fixtures/`. */
  readonly fixturesDir?: string;
  /** Fixture names to run, by default every one found. */
  readonly only?: readonly string[];
  /** Cancels the run between two methods. */
  readonly signal?: AbortSignal;
}

/** Everything a run measured; written as `results.json`. */
export interface ExperimentResults {
  readonly format: 'latent-langevin/experiments@2';
  readonly size: 'quick' | 'default';
  readonly seeds: readonly number[];
  readonly settings: ExperimentSize;
  readonly startedAt: string;
  readonly wallTimeMs: number;
  readonly environment: { readonly node: string; readonly platform: string; readonly cpus: number };
  readonly targets: readonly TargetResults[];
  readonly digits: DigitsResults | null;
  /** Fixtures not run, and why. */
  readonly skipped: readonly { readonly fixture: string; readonly reason: string }[];
  /** Files written, relative to the output folder. */
  readonly files: { readonly json: string; readonly markdown: string; readonly pictures: string[] };
}

/** The repository's `fixtures/` folder, four levels above this file in `src/` or `dist/`. */
function defaultFixturesDir(): string {
  return fileURLToPath(new URL('../../../../fixtures/', import.meta.url));
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs the experiments: on each 2-D (or mixture) fixture found, naive sampling, latent MALA on
 * tempered and pull-back targets, random-walk Metropolis and SIR at a matched budget of flow
 * rows, scored against fresh exact draws over seeds beside the noise floor of two exact sets;
 * on the digits Glow, naive sampling against tempered MALA by precision and recall. Writes
 * `results.json`, `results.md`, one picture per 2-D target and one of digit grids.
 *
 * @param options.size `quick` or `default`; `outDir` the output folder; `seeds`; `onProgress`
 * @returns the results, as written to `results.json`
 * @throws InvalidArgumentError for bad options; errors of the file system; a `DOMException`
 *   named `AbortError` when cancelled. A fixture that is missing or fails to load is skipped and
 *   listed in the results instead.
 * @example
 * ```ts
 * const results = await runExperiments({
 *   size: 'quick',
 *   outDir: 'out/experiments',
 *   onProgress: (p) => process.stdout.write(`${p.message}\n`),
 * });
 * ```
 */
export async function runExperiments(options: RunExperimentsOptions): Promise<ExperimentResults> {
  const where = 'runExperiments()';
  const sizeName = options?.size ?? 'default';
  if (sizeName !== 'quick' && sizeName !== 'default') {
    throw new InvalidArgumentError(where, [
      `options.size must be 'quick' or 'default'; received ${describeValue(sizeName)}.`,
    ]);
  }
  if (typeof options.outDir !== 'string' || options.outDir === '') {
    throw new InvalidArgumentError(where, [
      `options.outDir must be a folder path; received ${describeValue(options.outDir)}.`,
    ]);
  }
  const size = EXPERIMENT_SIZES[sizeName];
  const seeds = options.seeds ?? size.seeds;
  if (
    !Array.isArray(seeds) ||
    seeds.length === 0 ||
    !seeds.every((s) => Number.isInteger(s) && s >= 0 && s * 1000 + 999 < 2 ** 53)
  ) {
    throw new InvalidArgumentError(where, [
      `options.seeds must be a non-empty array of integers in [0, 2^43); received ` +
        `${describeValue(seeds)}. Pass e.g. seeds: [1, 2, 3, 4, 5].`,
    ]);
  }
  const fixturesDir = options.fixturesDir ?? defaultFixturesDir();
  const wanted = (name: string) => options.only === undefined || options.only.includes(name);
  const started = performance.now();
  const startedAt = new Date().toISOString();
  await mkdir(options.outDir, { recursive: true });

  // Plan: which fixtures exist, and how many units of work they make.
  const skipped: { fixture: string; reason: string }[] = [];
  const present: (typeof SYNTHETIC_FIXTURES)[number][] = [];
  for (const entry of SYNTHETIC_FIXTURES.filter((f) => wanted(f.fixture))) {
    const model = join(fixturesDir, entry.fixture, 'model.onnx');
    if (await exists(model)) present.push(entry);
    else skipped.push({ fixture: entry.fixture, reason: `${model} not found` });
  }
  const digitsSeeds = seeds.slice(0, size.digits.seedCount);
  const digitsModel = join(fixturesDir, DIGITS_FIXTURE, 'model.onnx');
  const digitsHeldOut = join(fixturesDir, DIGITS_FIXTURE, 'heldout.bin');
  let runDigits = wanted(DIGITS_FIXTURE);
  if (runDigits && !((await exists(digitsModel)) && (await exists(digitsHeldOut)))) {
    skipped.push({ fixture: DIGITS_FIXTURE, reason: `${digitsModel} or heldout.bin not found` });
    runDigits = false;
  }
  const total =
    present.length * seeds.length * (SYNTHETIC_METHODS.length + 1) +
    (runDigits ? digitsSeeds.length * DIGITS_METHODS.length : 0);
  let done = 0;
  const report = (fixture: string, seed: number | null, step: string, message: string) =>
    options.onProgress?.({
      done,
      total,
      fixture,
      seed,
      step,
      elapsedMs: performance.now() - started,
      message,
    });
  for (const skip of skipped) report(skip.fixture, null, 'skip', `skipped: ${skip.reason}`);

  const { loadOnnxFlow } = await import('@latent-langevin/onnx');
  const load = async (fixture: string): Promise<DifferentiableFlow | null> => {
    report(fixture, null, 'load', `loading ${fixture}`);
    try {
      return await loadOnnxFlow(join(fixturesDir, fixture, 'model.onnx'));
    } catch (error) {
      skipped.push({ fixture, reason: `failed to load: ${(error as Error).message}` });
      report(fixture, null, 'skip', `skipped: ${fixture} failed to load`);
      return null;
    }
  };

  const pictures: string[] = [];
  const targets: TargetResults[] = [];
  for (const entry of present) {
    const flow = await load(entry.fixture);
    if (flow === null) {
      done += seeds.length * (SYNTHETIC_METHODS.length + 1);
      continue;
    }
    const target = entry.target();
    try {
      const outcome = await runSyntheticExperiment(
        entry.fixture,
        flow,
        target,
        size,
        seeds,
        (seed, method, ms) => {
          done++;
          report(
            entry.fixture,
            seed,
            method,
            `${entry.fixture} seed ${seed} ${method} ` + `(${(ms / 1000).toFixed(1)} s)`,
          );
        },
        options.signal,
      );
      let picture: string | null = null;
      if (target.dimension === 2) {
        report(entry.fixture, null, 'picture', `drawing ${entry.fixture}`);
        picture = `${entry.fixture}.png`;
        const figure = await scatterPanels({
          title: `${entry.fixture}: draws of seed ${seeds[0]}, ${size.budget} flow rows a method`,
          limits: [target.extent[0], target.extent[1]],
          width: 170,
          maxPoints: size.draws,
          panels: [
            { title: 'target density', logDensity: (x, n) => target.logDensity(x, n).logDensity },
            ...outcome.firstSeedDraws.map((draws) => ({ title: draws.label, points: draws.x })),
          ],
        });
        await writeFile(join(options.outDir, picture), figure.png);
        pictures.push(picture);
      }
      targets.push({ ...outcome.results, picture });
    } finally {
      await flow.dispose();
    }
  }

  let digits: DigitsResults | null = null;
  const digitsFlow = runDigits ? await load(DIGITS_FIXTURE) : null;
  if (digitsFlow !== null) {
    try {
      const heldOut = decodeHeldOut(new Uint8Array(await readFile(digitsHeldOut)));
      const outcome = await runDigitsExperiment(
        DIGITS_FIXTURE,
        digitsFlow,
        heldOut,
        size,
        digitsSeeds,
        (seed, method, ms) => {
          done++;
          report(
            DIGITS_FIXTURE,
            seed,
            method,
            `${DIGITS_FIXTURE} seed ${seed} ${method} ` + `(${(ms / 1000).toFixed(1)} s)`,
          );
        },
        options.signal,
      );
      report(DIGITS_FIXTURE, null, 'picture', `drawing ${DIGITS_FIXTURE}`);
      const picture = `${DIGITS_FIXTURE}.png`;
      const grid = (images: Float32Array, title: string) =>
        imageGridSpec({ images, shape: [8, 8], columns: 6, maxImages: 36, title, pixelSize: 4 });
      const figure = await sideBySide(
        [
          grid(heldOut, 'held-out data'),
          ...outcome.firstSeedDraws.map((x, m) => grid(x, DIGITS_METHODS[m].label)),
        ],
        { title: `${DIGITS_FIXTURE}: draws of seed ${digitsSeeds[0]}`, spacing: 16 },
      );
      await writeFile(join(options.outDir, picture), figure.png);
      pictures.push(picture);
      digits = { ...outcome.results, picture };
    } finally {
      await digitsFlow.dispose();
    }
  }

  report('', null, 'write', 'writing results.json and results.md');
  const results: ExperimentResults = {
    format: 'latent-langevin/experiments@2',
    size: sizeName,
    seeds: [...seeds],
    settings: size,
    startedAt,
    wallTimeMs: performance.now() - started,
    environment: { node: process.versions.node, platform: process.platform, cpus: cpus().length },
    targets,
    digits,
    skipped,
    files: { json: 'results.json', markdown: 'results.md', pictures },
  };
  await writeFile(join(options.outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(join(options.outDir, 'results.md'), markdownReport(results));
  return results;
}
