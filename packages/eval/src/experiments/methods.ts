/**
 * The sampling methods the experiments compare, run at a matched budget of flow rows.
 *
 * How budgets are matched: every MCMC or SIR method may spend `budget` flow rows, counting a
 * forward row and a vector-Jacobian-product row (which also returns the forward outputs) as one
 * each. SIR draws `budget` proposals. Naive sampling spends one row per draw and needs no more.
 *
 * An MCMC method costs `r` rows per chain and iteration (1 for tempered MALA and for random-walk
 * Metropolis on the pull-back, 2 for MALA on the pull-back, `2 + d` with the jacobian
 * preconditioner, which assembles the Jacobian from `d` more rows). It runs `chains` chains, or
 * fewer where that many would get under {@link MIN_CHAIN_ITERATIONS} iterations each within the
 * budget (a chain of a dozen iterations is still in its warm-up transient: the budget buys
 * fewer, longer chains instead). It plans `floor(budget / (chains * r))` iterations, half of
 * them warm-up; the initial evaluation and the step-size search come out of the same budget, so
 * the sampling phase runs for as many iterations as the rows left pay for (at most the planned
 * number). The rows spent never exceed the budget unless not even one sampling iteration fits,
 * which the result reports.
 * Where fewer than {@link MIN_CHAINS} chains of that length fit, the run is marked as not
 * comparable.
 *
 * Draws kept: the same number from every chain, evenly spaced over its sampling phase and
 * labelled with their chain, so that the metrics can leave pairs of draws of one chain (which
 * are not independent: a rejected proposal repeats the point) out of their within-set terms.
 */
import {
  type DifferentiableFlow,
  InvalidArgumentError,
  type LatentTarget,
  essBulk,
  naive,
  pullback,
  sample,
  sir,
  splitRhat,
  stuckChains,
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
      /** Warm-up relocation of chains rejected this many consecutive times; 0 or absent: never. */
      readonly relocateStuckAfter?: number;
    };

/** Iterations after which the relocating method moves a chain that has not moved. */
export const RELOCATE_STUCK_AFTER = 50;

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
  {
    id: 'mala-pullback-identity',
    label: 'MALA pullback identity',
    kind: 'mcmc',
    target: 'pullback',
    kernel: 'mala',
    preconditioner: 'identity',
    globalMoveProbability: 0,
  },
  {
    id: 'mala-pullback-identity-relocate',
    label: `MALA pullback identity + relocateStuckAfter ${RELOCATE_STUCK_AFTER}`,
    kind: 'mcmc',
    target: 'pullback',
    kernel: 'mala',
    preconditioner: 'identity',
    globalMoveProbability: 0,
    relocateStuckAfter: RELOCATE_STUCK_AFTER,
  },
  {
    id: 'mala-pullback-identity-global',
    label: 'MALA pullback identity + global 0.1',
    kind: 'mcmc',
    target: 'pullback',
    kernel: 'mala',
    preconditioner: 'identity',
    globalMoveProbability: 0.1,
  },
  ...[0, 0.1].map((p): MethodSpec => ({
    id: `mala-pullback-jacobian${p > 0 ? '-global' : ''}`,
    label: `MALA pullback jacobian${p > 0 ? ` + global ${p}` : ''}`,
    kind: 'mcmc',
    target: 'pullback',
    kernel: 'mala',
    preconditioner: 'jacobian',
    globalMoveProbability: p,
  })),
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

/** What an MCMC method did, beyond its draws. */
export interface McmcStatistics {
  /** Chains run: the requested number, or fewer so that each runs long enough. */
  readonly chains: number;
  /** Iterations planned from the budget, warm-up included. */
  readonly plannedIterations: number;
  readonly warmup: number;
  /** Sampling iterations the rows left after warm-up paid for. */
  readonly samplingIterations: number;
  /** Mean acceptance of local proposals in the sampling phase. */
  readonly acceptance: number;
  readonly globalAcceptance: number | null;
  readonly stepSize: number;
  readonly divergences: number;
  /** Chains that accepted no proposal in the whole sampling phase (the core's `stuckChains()`). */
  readonly stuckChains: number;
  /** Relocations of stuck chains to another chain's point in warm-up (`relocateStuckAfter`). */
  readonly relocations: number;
  /** Rank-normalised split R-hat of log pi over the chains. */
  readonly rhatLogPi: number;
  /** Bulk ESS of log pi, all chains together. */
  readonly essBulkLogPi: number;
}

/** What one method produced. */
export interface MethodRun {
  /** `[count, D]` draws in data space, float32 as the flow returns them. */
  readonly x: Float32Array;
  readonly count: number;
  /** Rows of `x` that are not copies of an earlier row. */
  readonly distinctCount: number;
  /**
   * `[count]`: rows with the same label are not independent of each other (the chain of an
   * MCMC draw, the proposal a SIR draw was resampled from); null for independent draws.
   */
  readonly groups: Int32Array | null;
  /** Flow rows spent: forward-only rows and VJP rows. */
  readonly forwardRows: number;
  readonly gradientRows: number;
  /** Rows the method was allowed (null for naive sampling, which needs one a draw). */
  readonly budget: number | null;
  /** Why the run cannot be compared with the others at this budget; absent when it can. */
  readonly notComparable?: string;
  /** Wall time of the method, flow calls included, metrics and diagnostics excluded. */
  readonly wallTimeMs: number;
  /** MCMC only. */
  readonly mcmc?: McmcStatistics;
  /** SIR only: Kish effective sample size of the importance weights. */
  readonly weightEss?: number;
}

/** Inputs of {@link runMethod}. */
export interface MethodContext {
  readonly flow: DifferentiableFlow;
  /** Data-space log-density for pull-back targets; absent for data-driven flows. */
  readonly logDensity?: (x: ArrayLike<number>, n: number) => TargetDensity;
  /** Draws to return at most (MCMC returns fewer when its chains have fewer draws). */
  readonly draws: number;
  readonly budget: number;
  /** Chains of an MCMC method, at most. */
  readonly chains: number;
  readonly seed: number;
}

/** Rows of the flow per chain and iteration of an MCMC method (see the file's header). */
export function rowsPerIteration(method: MethodSpec, latentDim: number): number {
  if (method.kind !== 'mcmc') return 1;
  if (method.target === 'tempered' || method.kernel === 'rwm') return 1;
  return method.preconditioner === 'jacobian' ? 2 + latentDim : 2;
}

/** Fewest planned iterations a chain of a comparable run gets (warm-up and sampling). */
export const MIN_CHAIN_ITERATIONS = 100;

/** Fewest chains of a comparable run. */
export const MIN_CHAINS = 4;

/** How an MCMC method spends its budget: see the file's header. */
export interface ChainPlan {
  readonly chains: number;
  /** `floor(budget / (chains * r))`, warm-up and sampling. */
  readonly iterations: number;
  readonly warmup: number;
  /** False when fewer than `MIN_CHAINS` chains of `MIN_CHAIN_ITERATIONS` fit the budget. */
  readonly comparable: boolean;
}

/**
 * Chains and iterations of an MCMC method: `maxChains`, or fewer so that each chain gets
 * `MIN_CHAIN_ITERATIONS` planned iterations, but never fewer than `MIN_CHAINS` (the run is then
 * not comparable), and at least one iteration of each phase.
 *
 * @param rows flow rows per chain and iteration, `r >= 1`
 */
export function planChains(budget: number, rows: number, maxChains: number): ChainPlan {
  const fit = Math.floor(budget / (rows * MIN_CHAIN_ITERATIONS));
  const chains = Math.max(1, Math.min(maxChains, Math.max(MIN_CHAINS, fit)));
  const iterations = Math.max(2, Math.floor(budget / (chains * rows)));
  return { chains, iterations, warmup: Math.floor(iterations / 2), comparable: fit >= MIN_CHAINS };
}

/**
 * Runs one method at the budget and returns its data-space draws.
 *
 * @throws whatever the core or the flow throws
 */
export async function runMethod(method: MethodSpec, context: MethodContext): Promise<MethodRun> {
  const { flow, draws, budget, seed } = context;
  const started = performance.now();
  if (method.kind === 'naive') {
    const out = await naive(flow, { count: draws, seed });
    return {
      ...drawsOf(out.x, out.x.length / out.count, null),
      forwardRows: out.flowRows,
      gradientRows: 0,
      budget: null,
      wallTimeMs: performance.now() - started,
    };
  }
  if (method.kind === 'sir') {
    const out = await sir(flow, pullbackTarget(context), { proposals: budget, count: draws, seed });
    const wallTimeMs = performance.now() - started;
    // Resampling with replacement repeats proposals: copies are one group.
    const groups = identicalRowGroups(out.x, out.x.length / out.count);
    return {
      ...drawsOf(out.x, out.x.length / out.count, groups),
      forwardRows: out.flowRows,
      gradientRows: 0,
      budget,
      wallTimeMs,
      weightEss: out.weightEss,
    };
  }
  return runChains(method, context, started);
}

async function runChains(
  method: Extract<MethodSpec, { kind: 'mcmc' }>,
  context: MethodContext,
  started: number,
): Promise<MethodRun> {
  const { flow, budget, seed } = context;
  const d = flow.latentDim;
  const size = flow.dataShape.reduce((a, b) => a * b, 1);
  const plan = planChains(budget, rowsPerIteration(method, d), context.chains);
  const n = plan.chains;
  const target =
    method.target === 'tempered' ? tempered({ beta: method.beta ?? 1 }) : pullbackTarget(context);
  const options = {
    target,
    chains: n,
    seed,
    warmup: plan.warmup,
    kernel: method.kernel,
    preconditioner: method.preconditioner,
    globalMoveProbability: method.globalMoveProbability,
    ...(method.relocateStuckAfter === undefined
      ? {}
      : { relocateStuckAfter: method.relocateStuckAfter }),
    keepX: true,
  };

  // Warm-up and one draw show what the set-up cost and what one iteration costs; the run then
  // resumes (bit for bit) for as many more draws as the rows left pay for.
  const first = await sample(flow, { ...options, draws: 1 });
  const spentFirst = rowsOf(first.counters.warmup) + rowsOf(first.counters.sampling);
  const perIteration = rowsOf(first.counters.sampling);
  const more = Math.min(
    plan.iterations - plan.warmup - 1,
    perIteration > 0 ? Math.floor((budget - spentFirst) / perIteration) : 0,
  );
  const run =
    more > 0
      ? await sample(flow, { ...options, draws: 1 + more, resume: first.checkpoint })
      : first;
  const kept = 1 + Math.max(0, more);
  const x = more > 0 ? prependDraw(first.x!, run.x!, n, more, size) : first.x!;
  const picked = thin(x, n, kept, size, context.draws);
  const wallTimeMs = performance.now() - started;

  // Diagnostics of log pi alone: the core's summarize() computes them for every latent
  // coordinate too, which at d = 32 costs as much time as the sampling itself.
  const layout = { chains: n, draws: more > 0 ? more : 1 };
  const { warmup: w, sampling: s } = run.counters;
  const sum = (a: Uint32Array) => a.reduce((t, v) => t + v, 0);
  const rows = rowsOf(w) + rowsOf(s);
  const notComparable = !plan.comparable
    ? `fewer than ${MIN_CHAINS} chains of ${MIN_CHAIN_ITERATIONS} iterations fit ${budget} rows`
    : rows > budget
      ? `spent ${rows} rows, over the budget of ${budget}`
      : undefined;
  return {
    ...drawsOf(picked.x, size, picked.chain),
    forwardRows: w.forwardRows + s.forwardRows,
    gradientRows: w.gradientRows + s.gradientRows,
    budget,
    ...(notComparable === undefined ? {} : { notComparable }),
    wallTimeMs,
    mcmc: {
      chains: n,
      plannedIterations: plan.iterations,
      warmup: plan.warmup,
      samplingIterations: kept,
      acceptance: sum(s.localAccepted) / Math.max(1, sum(s.localProposals)),
      globalAcceptance:
        sum(s.globalProposals) > 0 ? sum(s.globalAccepted) / sum(s.globalProposals) : null,
      stepSize: run.stepSize,
      divergences: sum(w.divergences) + sum(s.divergences),
      stuckChains: stuckChains(s).length,
      relocations: sum(w.relocations),
      rhatLogPi: splitRhat(run.logPi, layout),
      essBulkLogPi: essBulk(run.logPi, layout),
    },
  };
}

/** Flow rows of one phase: forward-only rows and VJP rows, one each. */
function rowsOf(counters: { readonly forwardRows: number; readonly gradientRows: number }): number {
  return counters.forwardRows + counters.gradientRows;
}

/**
 * `[chains, 1 + more, width]`: each chain's first draw (`first`, `[chains, 1, width]`) followed
 * by its `more` draws of the resumed run (`rest`, `[chains, more, width]`).
 */
function prependDraw(
  first: Float32Array,
  rest: Float32Array,
  chains: number,
  more: number,
  width: number,
): Float32Array {
  const out = new Float32Array(chains * (1 + more) * width);
  for (let c = 0; c < chains; c++) {
    const at = c * (1 + more) * width;
    out.set(first.subarray(c * width, (c + 1) * width), at);
    out.set(rest.subarray(c * more * width, (c + 1) * more * width), at + width);
  }
  return out;
}

function pullbackTarget(context: MethodContext): LatentTarget {
  if (context.logDensity === undefined) {
    throw new InvalidArgumentError('runMethod()', [
      'context.logDensity is missing; pullback and SIR methods need the data-space density.',
    ]);
  }
  return pullback(context.logDensity);
}

function drawsOf(
  x: Float32Array,
  width: number,
  groups: Int32Array | null,
): Pick<MethodRun, 'x' | 'count' | 'distinctCount' | 'groups'> {
  const distinct = new Set(identicalRowGroups(x, width)).size;
  return { x, count: x.length / width, distinctCount: distinct, groups };
}

/**
 * Labels the rows of `values` (`[n, width]`) so that identical rows share a label, numbered from
 * 0 in order of first appearance.
 */
export function identicalRowGroups(values: Float32Array, width: number): Int32Array {
  const n = values.length / width;
  const labels = new Int32Array(n);
  const seen = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const key = Array.prototype.join.call(values.subarray(i * width, (i + 1) * width), ',');
    let label = seen.get(key);
    if (label === undefined) {
      label = seen.size;
      seen.set(key, label);
    }
    labels[i] = label;
  }
  return labels;
}

/**
 * Picks the same number of rows from every chain of a `[chains, draws, width]` array:
 * `min(draws, max(1, floor(count / chains)))` a chain, evenly spaced and ending at the chain's
 * last draw. Rows come round-robin over the chains (the last draw of every chain first), so any
 * prefix of the result spreads over as many chains as it can: a picture of the first few draws
 * shows different chains.
 *
 * @returns the rows `[chains * perChain, width]` and the chain of each
 */
export function thin(
  values: Float32Array,
  chains: number,
  draws: number,
  width: number,
  count: number,
): { x: Float32Array; chain: Int32Array } {
  const perChain = Math.min(draws, Math.max(1, Math.floor(count / chains)));
  const x = new Float32Array(chains * perChain * width);
  const chain = new Int32Array(chains * perChain);
  let row = 0;
  for (let q = 0; q < perChain; q++) {
    const t = draws - 1 - Math.floor((q * draws) / perChain);
    for (let c = 0; c < chains; c++) {
      const from = (c * draws + t) * width;
      x.set(values.subarray(from, from + width), row * width);
      chain[row] = c;
      row++;
    }
  }
  return { x, chain };
}
