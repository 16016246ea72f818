/**
 * Sampling efficiency: bulk ESS per second and per gradient evaluation of latent MALA against
 * latent random-walk Metropolis on the same target, over several seeds.
 */
import {
  type DifferentiableFlow,
  type LatentTarget,
  sample,
  summarize,
} from '@latent-langevin/core';
import { type Spread, spreadOf } from './spread.js';

/** Settings of {@link measureEfficiency}. */
export interface EfficiencyOptions {
  readonly chains: number;
  readonly warmup: number;
  readonly draws: number;
  /** One run per seed; the figures are medians over them. */
  readonly seeds: readonly number[];
  /** The sampler's `relocateStuckAfter`; 0 (its default) when absent. */
  readonly relocateStuckAfter?: number;
}

/** Efficiency of one kernel on one target, over seeds. */
export interface EfficiencyFigure {
  readonly kernel: 'mala' | 'rwm';
  readonly fixture: string;
  readonly target: string;
  readonly chains: number;
  readonly warmup: number;
  readonly draws: number;
  readonly seeds: number;
  /** The sampler's `relocateStuckAfter` (0: chains are never moved). */
  readonly relocateStuckAfter: number;
  /** Per seed: chains that accepted no proposal in the sampling phase. */
  readonly stuckChains: readonly number[];
  /** Per seed: stuck chains moved to another chain's point during warm-up. */
  readonly relocations: readonly number[];
  /** Smallest bulk ESS over the latent coordinates and log pi. */
  readonly essBulkMin: Spread;
  /** `essBulkMin` per second of sampling-phase wall time. */
  readonly essPerSecond: Spread;
  /** `essBulkMin` per gradient row (NaN for the random walk, which takes none). */
  readonly essPerGradient: Spread;
  /** `essBulkMin` per flow row, gradient and forward-only rows together. */
  readonly essPerFlowRow: Spread;
  readonly acceptance: Spread;
  readonly stepSize: Spread;
  /** Largest split R-hat, median over seeds. */
  readonly rhatMax: Spread;
}

/**
 * Runs `sample()` once per seed with the given kernel and summarises the bulk ESS per second,
 * per gradient row and per flow row.
 *
 * @param flow the flow; it is not disposed
 * @param target a factory of the target (a fresh one per run)
 * @throws whatever `sample()` throws
 * @example
 * ```ts
 * const mala = await measureEfficiency(flow, () => pullback(density), 'mala', meta, options);
 * ```
 */
export async function measureEfficiency(
  flow: DifferentiableFlow,
  target: () => LatentTarget,
  kernel: 'mala' | 'rwm',
  meta: { readonly fixture: string; readonly target: string },
  options: EfficiencyOptions,
): Promise<EfficiencyFigure> {
  const per = {
    ess: [] as number[],
    perSecond: [] as number[],
    perGradient: [] as number[],
    perFlowRow: [] as number[],
    acceptance: [] as number[],
    stepSize: [] as number[],
    rhat: [] as number[],
    stuck: [] as number[],
    relocations: [] as number[],
  };
  for (const seed of options.seeds) {
    const run = await sample(flow, {
      target: target(),
      kernel,
      chains: options.chains,
      warmup: options.warmup,
      draws: options.draws,
      seed,
      relocateStuckAfter: options.relocateStuckAfter ?? 0,
    });
    const summary = summarize(run);
    per.ess.push(summary.essBulkMin);
    per.perSecond.push(summary.essPerSecond);
    per.perGradient.push(summary.essPerGradient);
    per.perFlowRow.push(summary.essPerFlowEvaluation);
    per.acceptance.push(summary.acceptance.mean);
    per.stepSize.push(summary.stepSize);
    per.rhat.push(summary.rhatMax);
    per.stuck.push(summary.stuckChains.length);
    per.relocations.push(summary.relocations);
  }
  return {
    kernel,
    fixture: meta.fixture,
    target: meta.target,
    chains: options.chains,
    warmup: options.warmup,
    draws: options.draws,
    seeds: options.seeds.length,
    relocateStuckAfter: options.relocateStuckAfter ?? 0,
    stuckChains: per.stuck,
    relocations: per.relocations,
    essBulkMin: spreadOf(per.ess),
    essPerSecond: spreadOf(per.perSecond),
    essPerGradient: spreadOf(per.perGradient),
    essPerFlowRow: spreadOf(per.perFlowRow),
    acceptance: spreadOf(per.acceptance),
    stepSize: spreadOf(per.stepSize),
    rhatMax: spreadOf(per.rhat),
  };
}
