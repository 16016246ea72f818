/**
 * A readable summary of a run: acceptance, divergences, and for every latent coordinate (and
 * log pi) the mean, quantiles, rank-normalised split R-hat and bulk and tail ESS.
 */
import { essBulk, essTail, splitRhat } from './diagnostics.js';
import type { SampleResult } from './sample.js';
import type { PhaseCounters } from './sampler.js';

/** Summary statistics of one scalar quantity over all chains and draws. */
export interface QuantitySummary {
  /** `z[j]` for latent coordinates, `logPi` for the log-density. */
  readonly name: string;
  readonly mean: number;
  readonly sd: number;
  readonly q05: number;
  readonly q50: number;
  readonly q95: number;
  readonly rhat: number;
  readonly essBulk: number;
  readonly essTail: number;
}

/** What {@link summarize} reports. */
export interface RunSummary {
  readonly chains: number;
  readonly draws: number;
  readonly stepSize: number;
  /** Acceptance rate of local (MALA or random-walk) proposals in the sampling phase. */
  readonly acceptance: { readonly mean: number; readonly perChain: readonly number[] };
  /** Acceptance rate of global moves in the sampling phase; null when none were proposed. */
  readonly globalAcceptance: number | null;
  readonly divergences: { readonly warmup: number; readonly sampling: number };
  /** Stuck chains moved to another chain's point during warm-up (see `relocateStuckAfter`). */
  readonly relocations: number;
  /** Indices of the chains that accepted no proposal in the whole sampling phase. */
  readonly stuckChains: readonly number[];
  /** Largest R-hat over the latent coordinates and log pi. */
  readonly rhatMax: number;
  /** Smallest bulk ESS over the latent coordinates and log pi. */
  readonly essBulkMin: number;
  /** Smallest tail ESS over the latent coordinates and log pi. */
  readonly essTailMin: number;
  /**
   * `essBulkMin` per second of the sampling-phase wall time that made these draws (the result's
   * `resultCounters`, so a resumed result is not divided by the time of earlier parts).
   */
  readonly essPerSecond: number;
  /**
   * `essBulkMin` per gradient evaluation of the sampling phase that made these draws: per
   * latent row pushed through the flow's vector-Jacobian product, however the flow computes it
   * (`PhaseCounters.gradientRows`). It compares algorithms; NaN for gradient-free kernels.
   */
  readonly essPerGradient: number;
  /**
   * `essBulkMin` per flow row of the sampling phase that made these draws: per row the model
   * itself evaluated (`PhaseCounters.flowRows`), a finite-difference gradient counting its
   * `2d + 1` forward rows. It compares costs, across flows with and without gradients.
   */
  readonly essPerFlowEvaluation: number;
  readonly wallTimeMs: { readonly warmup: number; readonly sampling: number };
  /** One entry per latent coordinate, then one for log pi. */
  readonly quantities: readonly QuantitySummary[];
  /** The same as an aligned plain-text table, for people. */
  readonly text: string;
}

function sum(values: ArrayLike<number>): number {
  let total = 0;
  for (let k = 0; k < values.length; k++) total += values[k];
  return total;
}

function quantity(
  name: string,
  values: ArrayLike<number>,
  chains: number,
  draws: number,
  stride: number,
  offset: number,
): QuantitySummary {
  const layout = { chains, draws, stride, offset };
  const flat = new Float64Array(chains * draws);
  for (let k = 0; k < flat.length; k++) flat[k] = values[offset + k * stride];
  const mean = sum(flat) / flat.length;
  let squares = 0;
  for (const v of flat) squares += (v - mean) ** 2;
  const sorted = Float64Array.from(flat).sort();
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  return {
    name,
    mean,
    sd: Math.sqrt(squares / Math.max(1, flat.length - 1)),
    q05: at(0.05),
    q50: at(0.5),
    q95: at(0.95),
    rhat: splitRhat(values, layout),
    essBulk: essBulk(values, layout),
    essTail: essTail(values, layout),
  };
}

function format(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude >= 1e5 || magnitude < 1e-3)) return value.toExponential(2);
  return value.toFixed(digits);
}

/**
 * Chains that accepted no proposal, local or global, in one phase of a run: in the sampling
 * phase, chains whose draws are all one point (a MALA chain on a steep ridge of its target,
 * overshooting on every proposal).
 *
 * @param counters one phase's counters, e.g. `run.counters.sampling`
 * @returns the chain indices, increasing
 * @example
 * ```ts
 * const stuck = stuckChains(run.counters.sampling); // [] when every chain moved
 * ```
 */
export function stuckChains(counters: PhaseCounters): number[] {
  const stuck: number[] = [];
  for (let i = 0; i < counters.localAccepted.length; i++) {
    if (counters.localAccepted[i] + counters.globalAccepted[i] === 0) stuck.push(i);
  }
  return stuck;
}

/**
 * Diagnostics of a run: acceptance, divergences, rank-normalised split R-hat and bulk and tail
 * ESS per latent coordinate and for log pi (Vehtari et al. 2021), and ESS per second and per
 * gradient evaluation and flow row. Acceptance, divergences and relocations cover the whole run,
 * resumed parts included; draw statistics and the ESS rates cover the draws of this result and
 * the iterations that made them (`run.resultCounters`).
 *
 * @param run a result of `sample()`
 * @param options.maxRows largest number of latent coordinates listed in `text`; default 12
 * @example
 * ```ts
 * const summary = summarize(await sample(flow, options));
 * if (summary.rhatMax > 1.01) throw new Error(summary.text);
 * ```
 */
export function summarize(run: SampleResult, options: { maxRows?: number } = {}): RunSummary {
  const { chains, draws, latentDim: d, counters } = run;
  const own = run.resultCounters.sampling;
  const quantities: QuantitySummary[] = [];
  for (let j = 0; j < d; j++) quantities.push(quantity(`z[${j}]`, run.z, chains, draws, d, j));
  quantities.push(quantity('logPi', run.logPi, chains, draws, 1, 0));

  const s = counters.sampling;
  const perChain = Array.from(s.localProposals, (p, i) =>
    p > 0 ? s.localAccepted[i] / p : Number.NaN,
  );
  const localProposals = sum(s.localProposals);
  const globalProposals = sum(s.globalProposals);
  const rhatMax = Math.max(...quantities.map((q) => q.rhat));
  const essBulkMin = Math.min(...quantities.map((q) => q.essBulk));
  const essTailMin = Math.min(...quantities.map((q) => q.essTail));
  const summary = {
    chains,
    draws,
    stepSize: run.stepSize,
    acceptance: {
      mean: localProposals > 0 ? sum(s.localAccepted) / localProposals : Number.NaN,
      perChain,
    },
    globalAcceptance: globalProposals > 0 ? sum(s.globalAccepted) / globalProposals : null,
    divergences: { warmup: sum(counters.warmup.divergences), sampling: sum(s.divergences) },
    relocations: sum(counters.warmup.relocations),
    stuckChains: stuckChains(s),
    rhatMax,
    essBulkMin,
    essTailMin,
    essPerSecond: essBulkMin / (own.wallTimeMs / 1000),
    essPerGradient: own.gradientRows > 0 ? essBulkMin / own.gradientRows : Number.NaN,
    essPerFlowEvaluation: essBulkMin / own.flowRows,
    wallTimeMs: { warmup: counters.warmup.wallTimeMs, sampling: s.wallTimeMs },
    quantities,
  };
  return { ...summary, text: summaryText(summary, options.maxRows ?? 12) };
}

function summaryText(summary: Omit<RunSummary, 'text'>, maxRows: number): string {
  const lines: string[] = [];
  const global =
    summary.globalAcceptance === null ? '' : `, global moves ${format(summary.globalAcceptance)}`;
  lines.push(
    `${summary.chains} chains x ${summary.draws} draws, step size ${format(summary.stepSize, 4)}`,
    `acceptance ${format(summary.acceptance.mean)} (chains ${format(
      Math.min(...summary.acceptance.perChain),
    )} to ${format(Math.max(...summary.acceptance.perChain))})${global}`,
    `divergences: ${summary.divergences.warmup} in warm-up, ${summary.divergences.sampling} ` +
      'in sampling' +
      (summary.relocations > 0
        ? `; ${summary.relocations} stuck chain(s) moved to other chains' points in warm-up`
        : ''),
    ...(summary.stuckChains.length > 0
      ? [
          `stuck: chain(s) ${summary.stuckChains.slice(0, 10).join(', ')}` +
            `${summary.stuckChains.length > 10 ? ', ...' : ''} accepted no proposal in ` +
            'sampling; their draws are one point each. Global moves or relocateStuckAfter ' +
            'free them.',
        ]
      : []),
    `R-hat max ${format(summary.rhatMax)}, bulk ESS min ${format(summary.essBulkMin, 0)}, ` +
      `tail ESS min ${format(summary.essTailMin, 0)}`,
    `ESS per second ${format(summary.essPerSecond, 1)}, per gradient evaluation ` +
      `${format(summary.essPerGradient, 4)}, ` +
      `per flow row ${format(summary.essPerFlowEvaluation, 4)}`,
    '',
  );
  const header = ['', 'mean', 'sd', '5%', '50%', '95%', 'R-hat', 'ESS bulk', 'ESS tail'];
  const rows = summary.quantities.filter(
    (q, k) => k < maxRows || k === summary.quantities.length - 1,
  );
  const table = [
    header,
    ...rows.map((q) => [
      q.name,
      format(q.mean),
      format(q.sd),
      format(q.q05),
      format(q.q50),
      format(q.q95),
      format(q.rhat),
      format(q.essBulk, 0),
      format(q.essTail, 0),
    ]),
  ];
  const widths = header.map((_, c) => Math.max(...table.map((row) => row[c].length)));
  for (const row of table) {
    lines.push(
      row
        .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
        .join('  '),
    );
  }
  if (rows.length < summary.quantities.length) {
    lines.push(`(${summary.quantities.length - rows.length} more latent coordinates not shown)`);
  }
  return lines.join('\n');
}
