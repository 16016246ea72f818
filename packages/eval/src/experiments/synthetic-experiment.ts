/**
 * The experiment on one flow trained on a target with an explicit density: every method of
 * {@link SYNTHETIC_METHODS} at a matched budget, scored over seeds against fresh exact draws,
 * beside the noise floor of two exact sets.
 */
import type { DifferentiableFlow } from '@latent-langevin/core';

import { medianBandwidth } from '../mmd.js';
import type { SyntheticTarget } from '../targets/synthetic-target.js';
import { type MethodRun, type MethodSpec, SYNTHETIC_METHODS, runMethod } from './methods.js';
import {
  type Reference,
  type Scores,
  type Spread,
  pairedDifference,
  score,
  spread,
} from './score.js';
import type { ExperimentSize } from './sizes.js';

/** One method on one seed. */
export interface RunRecord {
  readonly seed: number;
  /** Null when scoring failed; `error` then says why. */
  readonly scores: Scores | null;
  readonly error?: string;
  /** Draws returned and scored, and how many of them are not copies of another. */
  readonly draws: number;
  readonly distinctDraws: number;
  readonly flowRows: number;
  readonly forwardRows: number;
  readonly gradientRows: number;
  /** Rows the method was allowed; null for naive sampling and the exact set. */
  readonly budget: number | null;
  /** Why the run is not comparable with the others at this budget; absent when it is. */
  readonly notComparable?: string;
  readonly wallTimeMs: number;
  readonly mcmc?: MethodRun['mcmc'];
  readonly weightEss?: number;
}

/** The metrics of {@link Scores}, by name. */
export type MetricName = keyof Scores;

/** The metrics, in table order. */
export const METRICS: readonly MetricName[] = ['mmd', 'sw2', 'energy', 'modeTv', 'ood'];

/**
 * Mean, standard deviation and standard error over seeds of one method's numbers, and, per
 * metric, the mean over seeds of its difference from the noise floor of the same seed (both
 * sets are scored against the same reference draws) with that mean's standard error.
 */
export interface MethodSummary {
  readonly mmd: Spread | null;
  readonly sw2: Spread | null;
  readonly energy: Spread | null;
  readonly modeTv: Spread | null;
  readonly ood: Spread | null;
  /**
   * Per metric, method minus noise floor paired by seed; `differs` when the mean is more than
   * `FLOOR_STANDARD_ERRORS` standard errors from 0. Null for the floor itself, for metrics that
   * do not apply, and with fewer than 3 seeds.
   */
  readonly versusFloor: Readonly<
    Record<MetricName, { mean: number; se: number; differs: boolean } | null>
  >;
  readonly draws: Spread | null;
  readonly distinctDraws: Spread | null;
  readonly flowRows: Spread | null;
  readonly wallTimeMs: Spread | null;
  readonly acceptance: Spread | null;
  readonly stuckChains: Spread | null;
}

/** Standard errors of the paired difference beyond which a score is set apart from the floor. */
export const FLOOR_STANDARD_ERRORS = 3;

/** One method over all seeds; the noise floor is the method `exact`, with `reference: true`. */
export interface MethodResults {
  readonly id: string;
  readonly label: string;
  readonly reference: boolean;
  readonly runs: readonly RunRecord[];
  readonly summary: MethodSummary;
}

/** The results of one fixture. */
export interface TargetResults {
  readonly fixture: string;
  readonly target: string;
  readonly dimension: number;
  readonly methods: readonly MethodResults[];
  /** File name of the picture in the output folder, null for targets that are not 2-D. */
  readonly picture: string | null;
}

/** Called after every method of every seed. */
export type UnitDone = (seed: number, method: string, wallTimeMs: number) => void;

/** What {@link runSyntheticExperiment} returns besides the results: draws for the picture. */
export interface SyntheticOutcome {
  readonly results: Omit<TargetResults, 'picture'>;
  /** Draws of the first seed: the exact set first, then each method's, in table order. */
  readonly firstSeedDraws: readonly { readonly label: string; readonly x: ArrayLike<number> }[];
}

/** The seed of each random quantity, distinct across methods, sets and seeds. */
function subSeed(seed: number, slot: number): number {
  return seed * 1000 + slot;
}

/**
 * Runs every method on one flow for each seed and scores it.
 *
 * @param flow the fixture's flow, `d = D = target.dimension`
 * @param target the density the flow was trained on, with its exact sampler
 */
export async function runSyntheticExperiment(
  fixture: string,
  flow: DifferentiableFlow,
  target: SyntheticTarget,
  size: ExperimentSize,
  seeds: readonly number[],
  unitDone: UnitDone,
  signal?: AbortSignal,
): Promise<SyntheticOutcome> {
  const d = target.dimension;
  const records = new Map<string, RunRecord[]>();
  const firstSeedDraws: { label: string; x: ArrayLike<number> }[] = [];
  const methods: readonly MethodSpec[] = SYNTHETIC_METHODS;
  for (const id of ['exact', ...methods.map((m) => m.id)]) records.set(id, []);

  for (const [s, seed] of seeds.entries()) {
    const referenceDraws = target.sample(size.referenceDraws, subSeed(seed, 900));
    const reference: Reference = {
      target,
      draws: referenceDraws,
      logDensity: target.logDensity(referenceDraws, size.referenceDraws).logDensity,
      bandwidth: medianBandwidth([referenceDraws], { dimension: d, seed }),
      seed,
      projections: size.projections,
    };

    // The noise floor: a second exact set of the same size as every method's.
    const started = performance.now();
    const exact = target.sample(size.draws, subSeed(seed, 901));
    records.get('exact')!.push({
      seed,
      ...scoreSafely(exact, reference, null),
      draws: size.draws,
      distinctDraws: size.draws,
      flowRows: 0,
      forwardRows: 0,
      gradientRows: 0,
      budget: null,
      wallTimeMs: performance.now() - started,
    });
    if (s === 0) firstSeedDraws.push({ label: 'exact draws', x: exact });
    unitDone(seed, 'exact', performance.now() - started);

    for (const [m, method] of methods.entries()) {
      signal?.throwIfAborted();
      const run = await runMethod(method, {
        flow,
        logDensity: target.logDensity,
        draws: size.draws,
        budget: size.budget,
        chains: size.chains,
        seed: subSeed(seed, m),
      });
      records.get(method.id)!.push({
        seed,
        ...scoreSafely(run.x, reference, run.groups),
        draws: run.count,
        distinctDraws: run.distinctCount,
        flowRows: run.forwardRows + run.gradientRows,
        forwardRows: run.forwardRows,
        gradientRows: run.gradientRows,
        budget: run.budget,
        ...(run.notComparable === undefined ? {} : { notComparable: run.notComparable }),
        wallTimeMs: run.wallTimeMs,
        ...(run.mcmc === undefined ? {} : { mcmc: run.mcmc }),
        ...(run.weightEss === undefined ? {} : { weightEss: run.weightEss }),
      });
      if (s === 0) {
        // Say on the picture when a method returned fewer draws than the others.
        const fewer = run.count < size.draws ? ` (${run.count} draws)` : '';
        firstSeedDraws.push({ label: `${method.label}${fewer}`, x: run.x });
      }
      unitDone(seed, method.id, run.wallTimeMs);
    }
  }

  const floor = records.get('exact')!;
  const summarise = (id: string, label: string, reference: boolean): MethodResults => {
    const runs = records.get(id)!;
    const values = (key: MetricName, of: readonly RunRecord[]) =>
      of.map((r) => r.scores?.[key] ?? null);
    const metric = (key: MetricName) => spread(values(key, runs));
    const versus = (key: MetricName) =>
      reference
        ? null
        : pairedDifference(values(key, runs), values(key, floor), FLOOR_STANDARD_ERRORS);
    return {
      id,
      label,
      reference,
      runs,
      summary: {
        mmd: metric('mmd'),
        sw2: metric('sw2'),
        energy: metric('energy'),
        modeTv: metric('modeTv'),
        ood: metric('ood'),
        versusFloor: {
          mmd: versus('mmd'),
          sw2: versus('sw2'),
          energy: versus('energy'),
          modeTv: versus('modeTv'),
          ood: versus('ood'),
        },
        draws: spread(runs.map((r) => r.draws)),
        distinctDraws: spread(runs.map((r) => r.distinctDraws)),
        flowRows: spread(runs.map((r) => r.flowRows)),
        wallTimeMs: spread(runs.map((r) => r.wallTimeMs)),
        acceptance: spread(runs.map((r) => r.mcmc?.acceptance ?? null)),
        stuckChains: spread(runs.map((r) => r.mcmc?.stuckChains ?? null)),
      },
    };
  };
  return {
    results: {
      fixture,
      target: target.name,
      dimension: d,
      methods: [
        summarise('exact', 'exact draws (noise floor)', true),
        ...methods.map((m) => summarise(m.id, m.label, false)),
      ],
    },
    firstSeedDraws,
  };
}

function scoreSafely(
  x: Float32Array | Float64Array,
  reference: Reference,
  groups: Int32Array | null,
): { scores: Scores | null; error?: string } {
  try {
    return { scores: score(x, reference, groups) };
  } catch (error) {
    return { scores: null, error: (error as Error).message };
  }
}
