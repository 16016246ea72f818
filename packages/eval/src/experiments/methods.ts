/**
 * The sampling methods the experiments compare, run at a matched budget of flow rows, each
 * returning the same number of draws in data space.
 *
 * How budgets are matched: every MCMC or SIR method may spend `budget` flow rows, counting a
 * forward row and a vector-Jacobian-product row (which also returns the forward outputs) as one
 * each. An MCMC method runs `chains` chains for `floor(budget / (chains * r))` iterations, `r`
 * being its rows per chain and iteration (1 for tempered MALA and for random-walk Metropolis
 * on the pull-back, 2 for MALA on the pull-back, `2 + d` with the jacobian preconditioner, which
 * assembles the Jacobian from `d` more rows); the first half of the iterations is warm-up. SIR
 * draws `budget` proposals. Naive sampling spends one row per draw and needs no more. The rows
 * actually spent (warm-up, step-size search and sampling) are measured and reported; a VJP row
 * costs about 2 to 3 forward rows of wall time, which the reported wall time shows.
 */
import {
  type DifferentiableFlow,
  InvalidArgumentError,
  type LatentTarget,
  type PreconditionerOption,
  naive,
  pullback,
  sample,
  sir,
  tempered,
} from '@latent-langevin/core';

import type { TargetDensity } from '../targets/synthetic-target.js';

/** A method of the comparison. */
export type MethodSpec =
  | { readonly id: string; readonly label: string; readonly kind: 'naive' }
  | { readonly id: string; readonly label: string; readonly kind: 'sir' }
  | {
      readonly id: string;
      readonly label: string;
      readonly kind: 'mcmc';
      readonly target: 'tempered' | 'pullback';
      readonly beta?: number;
      readonly kernel: 'mala' | 'rwm';
      readonly preconditioner: 'identity' | 'jacobian';
      readonly globalMoveProbability: number;
    };

/** The methods run on every target with an explicit density, in table order. */
export const SYNTHETIC_METHODS: readonly MethodSpec[] = [
  { id: 'naive', label: 'naive f(z)', kind: 'naive' },
  ...[0.5, 1].map((beta): MethodSpec => ({
    id: `mala-tempered-${beta}`,
    label: `MALA tempered beta=${beta}`,
    kind: 'mcmc',
    target: 'tempered',
    beta,
    kernel: 'mala',
    preconditioner: 'identity',
    globalMoveProbability: 0,
  })),
  ...(['identity', 'jacobian'] as const).flatMap((preconditioner) =>
    [0, 0.1].map((p): MethodSpec => ({
      id: `mala-pullback-${preconditioner}${p > 0 ? '-global' : ''}`,
      label: `MALA pullback ${preconditioner}${p > 0 ? ` + global ${p}` : ''}`,
      kind: 'mcmc',
      target: 'pullback',
      kernel: 'mala',
      preconditioner,
      globalMoveProbability: p,
    })),
  ),
  {
    id: 'rwm-pullback',
    label: 'RWM pullback',
    kind: 'mcmc',
    target: 'pullback',
    kernel: 'rwm',
    preconditioner: 'identity',
    globalMoveProbability: 0,
  },
  { id: 'sir-pullback', label: 'SIR pullback', kind: 'sir' },
];

/** What one method produced. */
export interface MethodRun {
  /** `[count, D]` draws in data space, float32 as the flow returns them. */
  readonly x: Float32Array;
  readonly count: number;
  /** Flow rows spent: forward-only rows and VJP rows. */
  readonly forwardRows: number;
  readonly gradientRows: number;
  /** Wall time of the method, flow calls included, metrics excluded. */
  readonly wallTimeMs: number;
  /** MCMC only: chains, iterations in all and of warm-up, acceptance, final step size. */
  readonly mcmc?: {
    readonly chains: number;
    readonly iterations: number;
    readonly warmup: number;
    readonly acceptance: number;
    readonly globalAcceptance: number | null;
    readonly stepSize: number;
    readonly divergences: number;
  };
  /** SIR only: Kish effective sample size of the importance weights. */
  readonly weightEss?: number;
}

/** Inputs of {@link runMethod}. */
export interface MethodContext {
  readonly flow: DifferentiableFlow;
  /** Data-space log-density for pull-back targets; absent for data-driven flows. */
  readonly logDensity?: (x: ArrayLike<number>, n: number) => TargetDensity;
  /** Draws to return. */
  readonly draws: number;
  readonly budget: number;
  readonly chains: number;
  readonly seed: number;
}

/** Rows of the flow per chain and iteration of an MCMC method (see the file's header). */
export function rowsPerIteration(method: MethodSpec, latentDim: number): number {
  if (method.kind !== 'mcmc') return 1;
  if (method.target === 'tempered' || method.kernel === 'rwm') return 1;
  return method.preconditioner === 'jacobian' ? 2 + latentDim : 2;
}

/** Fewest iterations an MCMC method runs, whatever its budget (warm-up and sampling). */
export const MIN_ITERATIONS = 8;

/**
 * Runs one method at the budget and returns `draws` data-space points.
 *
 * @throws whatever the core or the flow throws
 */
export async function runMethod(method: MethodSpec, context: MethodContext): Promise<MethodRun> {
  const { flow, draws, budget, chains, seed } = context;
  const started = performance.now();
  if (method.kind === 'naive') {
    const out = await naive(flow, { count: draws, seed });
    return finish(out.x, draws, out.flowRows, 0, started);
  }
  if (method.kind === 'sir') {
    const out = await sir(flow, pullbackTarget(context), { proposals: budget, count: draws, seed });
    return { ...finish(out.x, draws, out.flowRows, 0, started), weightEss: out.weightEss };
  }

  const d = flow.latentDim;
  const iterations = Math.max(
    MIN_ITERATIONS,
    Math.floor(budget / (chains * rowsPerIteration(method, d))),
  );
  const warmup = Math.floor(iterations / 2);
  const target =
    method.target === 'tempered' ? tempered({ beta: method.beta ?? 1 }) : pullbackTarget(context);
  const preconditioner: PreconditionerOption = method.preconditioner;
  const run = await sample(flow, {
    target,
    chains,
    seed,
    warmup,
    draws: iterations - warmup,
    kernel: method.kernel,
    preconditioner,
    globalMoveProbability: method.globalMoveProbability,
    keepX: true,
  });
  const { warmup: w, sampling: s } = run.counters;
  const sum = (a: Uint32Array) => a.reduce((t, v) => t + v, 0);
  const x = thin(run.x as Float32Array, chains, run.draws, d, draws);
  return {
    ...finish(
      x,
      x.length / d,
      w.forwardRows + s.forwardRows,
      w.gradientRows + s.gradientRows,
      started,
    ),
    mcmc: {
      chains,
      iterations,
      warmup,
      acceptance: sum(s.localAccepted) / Math.max(1, sum(s.localProposals)),
      globalAcceptance:
        sum(s.globalProposals) > 0 ? sum(s.globalAccepted) / sum(s.globalProposals) : null,
      stepSize: run.stepSize,
      divergences: sum(w.divergences) + sum(s.divergences),
    },
  };
}

function pullbackTarget(context: MethodContext): LatentTarget {
  if (context.logDensity === undefined) {
    throw new InvalidArgumentError('runMethod()', [
      'context.logDensity is missing; pullback and SIR methods need the data-space density.',
    ]);
  }
  return pullback(context.logDensity);
}

function finish(
  x: Float32Array,
  count: number,
  forwardRows: number,
  gradientRows: number,
  started: number,
): MethodRun {
  return { x, count, forwardRows, gradientRows, wallTimeMs: performance.now() - started };
}

/**
 * Picks `count` rows of a `[chains, draws, width]` array, spread evenly over the chains and,
 * within each chain, evenly over its draws ending at the last one. Rows come round-robin over
 * the chains (the last draw of every chain first), so any prefix of the result spreads over
 * as many chains as it can: a picture of the first few draws shows different chains. Returns
 * all rows, in that order, when there are no more than `count`.
 */
export function thin(
  values: Float32Array,
  chains: number,
  draws: number,
  width: number,
  count: number,
): Float32Array {
  const kept = Math.min(count, chains * draws);
  const out = new Float32Array(kept * width);
  // Chain c gives floor(kept / chains) rows, one more for the first kept % chains chains.
  const picks = (c: number) => Math.floor(kept / chains) + (c < kept % chains ? 1 : 0);
  let row = 0;
  for (let q = 0; row < kept; q++) {
    for (let c = 0; c < chains && row < kept; c++) {
      const p = picks(c);
      if (q >= p) continue;
      const t = draws - 1 - Math.floor((q * draws) / p);
      const from = (c * draws + t) * width;
      out.set(values.subarray(from, from + width), row * width);
      row++;
    }
  }
  return out;
}
