/**
 * The experiment on one flow trained on a target with an explicit density: every method of
 * {@link SYNTHETIC_METHODS} at a matched budget, scored over seeds against fresh exact draws,
 * beside the noise floor of two exact sets.
 */
import type { DifferentiableFlow } from '@latent-langevin/core';

import { medianBandwidth } from '../mmd.js';
import type { SyntheticTarget } from '../targets/synthetic-target.js';
import { type MethodRun, type MethodSpec, SYNTHETIC_METHODS, runMethod } from './methods.js';
import { type Reference, type Scores, type Spread, score, spread } from './score.js';
import type { ExperimentSize } from './sizes.js';

/** One method on one seed. */
export interface RunRecord {
  readonly seed: number;
  /** Null when scoring failed; `error` then says why. */
  readonly scores: Scores | null;
  readonly error?: string;
  readonly flowRows: number;
  readonly forwardRows: number;
  readonly gradientRows: number;
  readonly wallTimeMs: number;
  readonly mcmc?: MethodRun['mcmc'];
  readonly weightEss?: number;
}

/** Mean and spread over seeds of one method's numbers. */
export interface MethodSummary {
  readonly mmd: Spread | null;
  readonly sw2: Spread | null;
  readonly energy: Spread | null;
  readonly modeTv: Spread | null;
  readonly ood: Spread | null;
  readonly flowRows: Spread | null;
  readonly wallTimeMs: Spread | null;
  readonly acceptance: Spread | null;
}

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
      ...scoreSafely(exact, reference),
      flowRows: 0,
      forwardRows: 0,
      gradientRows: 0,
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
        ...scoreSafely(run.x, reference),
        flowRows: run.forwardRows + run.gradientRows,
        forwardRows: run.forwardRows,
        gradientRows: run.gradientRows,
        wallTimeMs: run.wallTimeMs,
        ...(run.mcmc === undefined ? {} : { mcmc: run.mcmc }),
        ...(run.weightEss === undefined ? {} : { weightEss: run.weightEss }),
      });
      if (s === 0) firstSeedDraws.push({ label: method.label, x: run.x });
      unitDone(seed, method.id, run.wallTimeMs);
    }
  }

  const summarise = (id: string, label: string, reference: boolean): MethodResults => {
    const runs = records.get(id)!;
    const metric = (key: keyof Scores) => spread(runs.map((r) => r.scores?.[key] ?? null));
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
        flowRows: spread(runs.map((r) => r.flowRows)),
        wallTimeMs: spread(runs.map((r) => r.wallTimeMs)),
        acceptance: spread(runs.map((r) => r.mcmc?.acceptance ?? null)),
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
): { scores: Scores | null; error?: string } {
  try {
    return { scores: score(x, reference) };
  } catch (error) {
    return { scores: null, error: (error as Error).message };
  }
}
