/**
 * The Markdown report of an experiment run: settings, one table per target, the digits table,
 * and what was skipped.
 */
import type { DigitsResults } from './digits-experiment.js';
import type { ExperimentResults } from './run-experiments.js';
import type { Spread } from './score.js';
import type { TargetResults } from './synthetic-experiment.js';

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
  const sd = value.sd <= 1e-12 * Math.abs(value.mean) ? 0 : value.sd;
  return value.n > 1 ? `${mean} ± ${format(sd * scale)}` : mean;
}

function rows(value: Spread | null): string {
  if (value === null) return '–';
  return value.mean >= 1000 ? `${Number((value.mean / 1000).toPrecision(3))}k` : `${value.mean}`;
}

function seconds(value: Spread | null): string {
  return value === null ? '–' : (value.mean / 1000).toFixed(2);
}

function targetTable(target: TargetResults): string[] {
  const lines = [
    `### ${target.fixture} (${target.target}, D = ${target.dimension})`,
    '',
    '| method | MMD² | SW2 | energy | mode TV | OOD rate | flow rows | wall s | acceptance |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const method of target.methods) {
    const s = method.summary;
    const name = method.reference ? `*${method.label}*` : method.label;
    lines.push(
      `| ${name} | ${cell(s.mmd)} | ${cell(s.sw2)} | ${cell(s.energy)} | ${cell(s.modeTv)} | ` +
        `${cell(s.ood)} | ${rows(s.flowRows)} | ${seconds(s.wallTimeMs)} | ` +
        `${cell(s.acceptance)} |`,
    );
  }
  const failures = target.methods.flatMap((m) =>
    m.runs.filter((r) => r.error !== undefined).map((r) => `${m.id} seed ${r.seed}: ${r.error}`),
  );
  if (failures.length > 0) lines.push('', 'Scoring failed for:', ...failures.map((f) => `- ${f}`));
  if (target.picture !== null) lines.push('', `![${target.fixture}](${target.picture})`);
  lines.push('');
  return lines;
}

function digitsTable(digits: DigitsResults): string[] {
  const lines = [
    `### ${digits.fixture}`,
    '',
    `Precision and recall of the k-NN manifold (k = ${digits.k}) of ${digits.draws} draws ` +
      `against the ${digits.heldOut} held-out images, in pixel space; "in range" is the share ` +
      'of draws whose pixels all lie in [-0.1, 1.1].',
    '',
    '| method | precision | recall | in range | flow rows | wall s | acceptance |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const method of digits.methods) {
    const s = method.summary;
    lines.push(
      `| ${method.label} | ${cell(s.precision)} | ${cell(s.recall)} | ${cell(s.inRange)} | ` +
        `${rows(s.flowRows)} | ${seconds(s.wallTimeMs)} | ${cell(s.acceptance)} |`,
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
    'Every cell is the mean ± standard deviation over seeds. Each method returns ' +
      `${settings.draws} draws, scored against ${settings.referenceDraws} fresh exact draws: ` +
      'unbiased MMD² (Gaussian kernel, median-heuristic bandwidth of the exact draws), sliced ' +
      `Wasserstein-2 (${settings.projections} directions), energy distance, total variation of ` +
      'the mode weights, and the share of draws below the 1% log-density level of exact draws ' +
      '(OOD rate). The first row of each table, two exact sets, is the noise floor: a method ' +
      'within it is as good as exact sampling at this sample size.',
    '',
    `Budgets are matched in flow rows (a forward row or a vector-Jacobian-product row counts ` +
      `as one): every MCMC method runs ${settings.chains} chains for ` +
      `floor(${settings.budget} / (${settings.chains} r)) iterations, r being its rows per chain ` +
      'and iteration (1 for tempered MALA and random-walk Metropolis, 2 for MALA on the ' +
      'pull-back, 2 + d with the Jacobian preconditioner), half of them warm-up, and the draws ' +
      `are thinned evenly to ${settings.draws}; SIR draws ${settings.budget} proposals; naive ` +
      `sampling needs ${settings.draws} rows. "flow rows" is what each method actually spent ` +
      '(step-size search included); "wall s" its time without scoring.',
    '',
    '## Targets with an explicit density',
    '',
  ];
  for (const target of results.targets) lines.push(...targetTable(target));
  if (results.digits !== null) {
    lines.push('## Data-driven flow', '', ...digitsTable(results.digits));
  }
  if (results.skipped.length > 0) {
    lines.push('## Skipped', '');
    for (const skip of results.skipped) lines.push(`- \`${skip.fixture}\`: ${skip.reason}`);
    lines.push('');
  }
  return lines.join('\n');
}
