/**
 * The Markdown report of an experiment run: settings, one table per target, the digits table,
 * and what was skipped.
 */
import type { DigitsResults } from './digits-experiment.js';
import type { ExperimentResults } from './run-experiments.js';
import type { Spread } from './score.js';
import {
  FLOOR_STANDARD_ERRORS,
  METRICS,
  type MethodResults,
  type MetricName,
  type RunRecord,
  type TargetResults,
} from './synthetic-experiment.js';
import { MIN_CHAINS, MIN_CHAIN_ITERATIONS, RELOCATE_STUCK_AFTER } from './methods.js';

/** A number with three significant digits, in exponent form when small or large. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude < 0.01 || magnitude >= 1e5) return value.toExponential(1);
  return Number(value.toPrecision(3)).toString();
}

function cell(value: Spread | null, scale = 1, digits?: (v: number) => string): string {
  if (value === null) return '–';
  const format = digits ?? formatNumber;
  const mean = format(value.mean * scale);
  // A spread below rounding noise (the same value on every seed) is written as 0.
  const se = value.se <= 1e-12 * Math.abs(value.mean) ? 0 : value.se;
  return value.n > 1 ? `${mean} ± ${format(se * scale)}` : mean;
}

/** A metric cell, in bold when it is above the noise floor beyond the seeds' noise. */
function metricCell(method: MethodResults, metric: MetricName): string {
  const text = cell(method.summary[metric]);
  const versus = method.summary.versusFloor[metric];
  return versus !== null && versus.differs && versus.mean > 0 ? `**${text}**` : text;
}

function rows(value: Spread | null): string {
  if (value === null) return '–';
  return value.mean >= 1000 ? `${Number((value.mean / 1000).toPrecision(3))}k` : `${value.mean}`;
}

function seconds(value: Spread | null): string {
  return value === null ? '–' : (value.mean / 1000).toFixed(2);
}

/** `a` when every value is `a`, else `a–b`, over the seeds. */
function range(values: readonly number[]): string {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return lo === hi ? `${lo}` : `${lo}–${hi}`;
}

/** What the cells below read of one method's runs, synthetic or digits. */
type RunCounts = Pick<RunRecord, 'draws' | 'distinctDraws' | 'flowRows' | 'budget' | 'mcmc'>;

/** Draws returned, and distinct ones when copies are among them, over the seeds. */
function drawsCell(runs: readonly RunCounts[]): string {
  const draws = range(runs.map((r) => r.draws));
  const distinct = range(runs.map((r) => r.distinctDraws));
  return distinct === draws ? draws : `${draws} (${distinct})`;
}

/** `chains × (warm-up + sampling)` iterations, over the seeds. */
function chainsCell(runs: readonly RunCounts[]): string {
  const mcmc = runs.flatMap((r) => (r.mcmc === undefined ? [] : [r.mcmc]));
  if (mcmc.length === 0) return '–';
  const stat = (pick: (m: (typeof mcmc)[number]) => number) => range(mcmc.map(pick));
  return `${stat((m) => m.chains)} × (${stat((m) => m.warmup)} + ${stat(
    (m) => m.samplingIterations,
  )})`;
}

/** Stuck chains: the mean over seeds and, when they differ, the range. */
function stuckCell(runs: readonly RunCounts[]): string {
  const stuck = runs.flatMap((r) => (r.mcmc === undefined ? [] : [r.mcmc.stuckChains]));
  if (stuck.length === 0) return '–';
  const mean = stuck.reduce((a, b) => a + b, 0) / stuck.length;
  const text = Number.isInteger(mean) ? `${mean}` : mean.toFixed(1);
  return Math.min(...stuck) === Math.max(...stuck) ? text : `${text} (${range(stuck)})`;
}

/** Rows spent, with the overshoot where a run went over its budget. */
function rowsCell(runs: readonly RunCounts[], spent: Spread | null): string {
  const over = runs
    .filter((r) => r.budget !== null && r.flowRows > r.budget)
    .map((r) => r.flowRows - (r.budget ?? 0));
  const text = rows(spent);
  return over.length === 0 ? text : `${text} (over by up to ${Math.max(...over)})`;
}

function targetTable(target: TargetResults): string[] {
  const lines = [
    `### ${target.fixture} (${target.target}, D = ${target.dimension})`,
    '',
    '| method | MMD² | SW2 | energy | mode TV | OOD rate | draws | chains × iterations | ' +
      'stuck chains | flow rows | wall s | acceptance |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  const notComparable: string[] = [];
  for (const method of target.methods) {
    const reasons = [
      ...new Set(method.runs.flatMap((r) => (r.notComparable ? [r.notComparable] : []))),
    ];
    const marked = reasons.length > 0 ? `${method.label} (not comparable)` : method.label;
    const name = method.reference ? `*${method.label}*` : marked;
    if (reasons.length > 0) notComparable.push(`${method.id}: ${reasons.join('; ')}`);
    lines.push(
      `| ${name} | ${METRICS.map((m) => metricCell(method, m)).join(' | ')} | ` +
        `${drawsCell(method.runs)} | ${chainsCell(method.runs)} | ${stuckCell(method.runs)} | ` +
        `${rowsCell(method.runs, method.summary.flowRows)} | ` +
        `${seconds(method.summary.wallTimeMs)} | ` +
        `${cell(method.summary.acceptance)} |`,
    );
  }
  if (notComparable.length > 0) {
    lines.push('', 'Not comparable at this budget:', ...notComparable.map((f) => `- ${f}`));
  }
  const failures = target.methods.flatMap((m) =>
    m.runs.filter((r) => r.error !== undefined).map((r) => `${m.id} seed ${r.seed}: ${r.error}`),
  );
  if (failures.length > 0) lines.push('', 'Scoring failed for:', ...failures.map((f) => `- ${f}`));
  if (target.picture !== null) lines.push('', `![${target.fixture}](${target.picture})`);
  lines.push('');
  return lines;
}

function digitsTable(digits: DigitsResults, seeds: number): string[] {
  const lines = [
    `### ${digits.fixture}`,
    '',
    `Precision and recall of the k-NN manifold (k = ${digits.k}) of up to ${digits.draws} ` +
      `draws against the ${digits.heldOut} held-out images, in pixel space; "in range" is the ` +
      `share of draws whose pixels all lie in [-0.1, 1.1]. Mean ± standard error over ${seeds} ` +
      'seeds; budgets and draws as above.',
    '',
    '| method | precision | recall | in range | draws | chains × iterations | stuck chains | ' +
      'flow rows | wall s | acceptance |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const method of digits.methods) {
    const s = method.summary;
    const runs = method.runs;
    lines.push(
      `| ${method.label} | ${cell(s.precision)} | ${cell(s.recall)} | ${cell(s.inRange)} | ` +
        `${drawsCell(runs)} | ${chainsCell(runs)} | ${stuckCell(runs)} | ` +
        `${rowsCell(runs, s.flowRows)} | ${seconds(s.wallTimeMs)} | ${cell(s.acceptance)} |`,
    );
  }
  if (digits.picture !== null) lines.push('', `![${digits.fixture}](${digits.picture})`);
  lines.push('');
  return lines;
}

/**
 * Writes the Markdown report of a run.
 *
 * @param results what `runExperiments()` measured
 * @returns the Markdown text
 */
export function markdownReport(results: ExperimentResults): string {
  const { settings } = results;
  const lines = [
    '# latent-langevin experiments',
    '',
    `Size \`${results.size}\`, seeds ${results.seeds.join(', ')}; ` +
      `${(results.wallTimeMs / 1000).toFixed(1)} s in all on ${results.environment.cpus} CPUs ` +
      `(Node ${results.environment.node}), started ${results.startedAt}.`,
    '',
    `Every cell is the mean ± standard error over the ${results.seeds.length} seeds (the ` +
      'standard deviation over seeds divided by the square root of their number; ' +
      "`results.json` also holds the standard deviation and every seed's value). A cell in " +
      `**bold** lies above the noise floor by more than ${FLOOR_STANDARD_ERRORS} standard errors ` +
      'of its per-seed difference from the floor (both are scored against the same reference ' +
      'draws of each seed); a cell not in bold cannot be told apart from exact sampling with ' +
      'these seeds. Lower is better everywhere.',
    '',
    `Each method returns up to ${settings.draws} draws, scored against ` +
      `${settings.referenceDraws} fresh exact draws: unbiased MMD² (Gaussian kernel, ` +
      'median-heuristic bandwidth of the exact draws), sliced Wasserstein-2 ' +
      `(${settings.projections} directions), energy distance, total variation of the mode ` +
      'weights, and the share of draws below the 1% log-density level of exact draws (OOD ' +
      'rate). The first row of each table, two exact sets, is the noise floor.',
    '',
    'Budgets are matched in flow rows (a forward row or a vector-Jacobian-product row counts ' +
      `as one): every MCMC or SIR method may spend ${settings.budget} rows, the initial ` +
      'evaluation and the step-size search included, and "flow rows" is what it spent. An ' +
      `MCMC method runs ${settings.chains} chains, or fewer where that many would get under ` +
      `${MIN_CHAIN_ITERATIONS} iterations each (a step costs r rows a chain: 1 for tempered ` +
      'MALA and random-walk Metropolis, 2 for MALA on the pull-back, 2 + d with the Jacobian ' +
      `preconditioner). It plans floor(${settings.budget} / (chains r)) iterations, half of ` +
      'them warm-up, and samples for as many iterations as the rows left pay for; "chains × ' +
      'iterations" is chains × (warm-up + sampling), over the seeds. A run where fewer than ' +
      `${MIN_CHAINS} chains of ${MIN_CHAIN_ITERATIONS} iterations fit the budget, or that ` +
      `spent more than it, is marked not comparable. SIR draws ${settings.budget} proposals; ` +
      `naive sampling needs ${settings.draws} rows. "wall s" is a method's time without scoring.`,
    '',
    'Every chain gives the same number of draws, evenly spaced over its sampling phase; ' +
      '"draws" counts them and, in brackets, the distinct ones where a rejected proposal (or a ' +
      'proposal resampled twice by SIR) repeats a point. MMD² and the energy distance leave ' +
      'pairs of draws of one chain (for SIR, copies of one proposal) out of their within-set ' +
      'terms: such pairs are not independent, and counting copies as independent pairs would ' +
      'inflate both. Draws of different chains are independent, so the estimates stay unbiased ' +
      'for the law of one draw. The other metrics are means (mode TV, OOD rate) or plug-in ' +
      'distances (SW2) that copies do not bias, but with fewer independent draws SW2 grows ' +
      'larger and both grow noisier than the floor, which is measured at ' +
      `${settings.draws} independent draws.`,
    '',
    '"stuck chains" counts the chains that accepted no proposal in the whole sampling phase ' +
      '(`summarize(run).stuckChains` of the core): the mean over seeds, and the range. ' +
      `"relocateStuckAfter ${RELOCATE_STUCK_AFTER}" moves, during warm-up only, a chain ` +
      `rejected ${RELOCATE_STUCK_AFTER} consecutive times to the current point of a chain ` +
      'that moves.',
    '',
    '## Targets with an explicit density',
    '',
  ];
  for (const target of results.targets) lines.push(...targetTable(target));
  if (results.digits !== null) {
    lines.push(
      '## Data-driven flow',
      '',
      ...digitsTable(results.digits, results.digits.methods[0]?.runs.length ?? 0),
    );
  }
  if (results.skipped.length > 0) {
    lines.push('## Skipped', '');
    for (const skip of results.skipped) lines.push(`- \`${skip.fixture}\`: ${skip.reason}`);
    lines.push('');
  }
  return lines.join('\n');
}
