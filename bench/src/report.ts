/**
 * RESULTS.md: the figures of a run as Markdown tables, with the machine, the method, and where
 * the time goes wherever an aim is missed or PyTorch is faster.
 */
import type { FunctionShare } from './cpu-profile.js';
import type { OperatorShare } from './onnx-profile.js';
import { OPENBLAS_INSTALL_HINT, type RaceFixture } from './pytorch-race.js';
import type { BenchmarkResults } from './run-benchmarks.js';
import type { Spread } from './spread.js';

/** The second-level headings RESULTS.md always has, in order. */
export const REPORT_SECTIONS = [
  'Summary',
  'Machine',
  'Core overhead',
  'Gradient cost',
  'Throughput',
  'Sampling efficiency',
  'Memory',
  'Thread spinning',
  'Race against PyTorch',
  'Where the time goes',
  'Method',
] as const;

/** A number with about three significant digits, thousands separated; `n/a` when not finite. */
export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'n/a';
  const magnitude = Math.abs(value);
  if (magnitude >= 1000) return Math.round(value).toLocaleString('en-US');
  if (magnitude >= 100) return value.toFixed(0);
  if (magnitude >= 10) return value.toFixed(1);
  if (magnitude >= 1) return value.toFixed(2);
  if (magnitude === 0) return '0';
  if (magnitude >= 1e-3) return value.toPrecision(3);
  return value.toExponential(2);
}

/** `median [q1, q3]`, the median and interquartile range. */
export function formatSpread(spread: Spread | null | undefined): string {
  if (spread === null || spread === undefined || spread.repeats === 0) return 'n/a';
  return `${formatNumber(spread.median)} [${formatNumber(spread.q1)}, ${formatNumber(spread.q3)}]`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function percent(share: number): string {
  return `${(100 * share).toFixed(1)}%`;
}

function aimCell(meets: boolean | null, aim: number | null): string {
  if (meets === null || aim === null) return '';
  return meets ? `met (<= ${aim})` : `**missed** (<= ${aim})`;
}

/** A one-minute load average above this many per core marks a run as made on a busy machine. */
const BUSY_LOAD_PER_CORE = 0.5;

function summarySection(r: BenchmarkResults): string {
  const lines: string[] = [];
  const startLoad = r.machine.loadAverage[0];
  if (startLoad > BUSY_LOAD_PER_CORE * r.machine.cores) {
    lines.push(
      `- **Busy machine**: the one-minute load average was ${startLoad.toFixed(2)} on ` +
        `${r.machine.cores} cores when the run started, so other jobs shared the cores and every ` +
        'time below is inflated and noisy; ratios measured side by side suffer less. Run again ' +
        'on an idle machine before quoting absolute figures.',
    );
  }
  for (const f of r.overhead.filter((o) => o.aim !== null)) {
    lines.push(
      `- Core overhead, \`sampler.step()\` over its model calls, ${f.flow} at ${f.chains} ` +
        `chains: **${formatNumber(f.ratio.median)}** (aim ${aimCell(f.meetsAim, f.aim)}); the ` +
        'core itself takes ' +
        `${formatNumber(f.breakdown.targetMs.median + f.breakdown.samplerMs.median)} ms of a ` +
        `${formatNumber(f.stepMs.median)} ms step.`,
    );
  }
  if (r.gradientCost.length > 0) {
    const rows = r.gradientCost[0].chains;
    lines.push(
      `- VJP-graph time over forward time at ${rows} rows on CPU: ` +
        r.gradientCost
          .map(
            (g) =>
              `${g.fixture} **${formatNumber(g.vjpOverForward.median)}**` +
              (g.meetsAim === false ? ' (above the aim)' : ''),
          )
          .join(', ') +
        ` (aim <= ${r.gradientCost[0].aim}).`,
      '- Finite differences over autodiff for the same gradient: ' +
        r.gradientCost
          .map((g) => `${g.fixture} **${formatNumber(g.finiteDifferenceOverAutodiff.median)}**`)
          .join(', ') +
        '.',
    );
  }
  const mala = r.efficiency.find((e) => e.kernel === 'mala' && e.relocateStuckAfter === 0);
  const relocated = r.efficiency.find((e) => e.kernel === 'mala' && e.relocateStuckAfter > 0);
  const rwm = r.efficiency.find((e) => e.kernel === 'rwm');
  if (mala && rwm) {
    const stuck = (e: typeof mala) => {
      const seeds = e.stuckChains.filter((count) => count > 0).length;
      return seeds === 0
        ? 'no stuck chain'
        : `stuck chains in ${seeds} of ${e.stuckChains.length} seeds, R-hat up to ` +
            formatNumber(e.rhatMax.q3);
    };
    lines.push(
      `- Bulk ESS per second on ${mala.target}: MALA ${formatNumber(mala.essPerSecond.median)} ` +
        `(${stuck(mala)})` +
        (relocated
          ? `, MALA with relocateStuckAfter ${relocated.relocateStuckAfter} ` +
            `${formatNumber(relocated.essPerSecond.median)} (${stuck(relocated)})`
          : '') +
        `, random walk ${formatNumber(rwm.essPerSecond.median)}; per gradient row MALA ` +
        `${formatNumber(mala.essPerGradient.median)}` +
        (relocated ? `, relocated ${formatNumber(relocated.essPerGradient.median)}` : '') +
        '.',
    );
  }
  lines.push(
    `- Memory: RSS ${r.memory.firstRssMiB.toFixed(1)} MiB after ` +
      `${r.memory.firstStep.toLocaleString('en-US')} steps, ` +
      `${r.memory.lastRssMiB.toFixed(1)} MiB after ${r.memory.lastStep.toLocaleString('en-US')}: ` +
      `${r.memory.growsBeyondNoise ? '**grows beyond noise**' : 'no growth beyond noise'}.`,
  );
  const race = r.race;
  if (race.status === 'ran') {
    for (const run of race.runs) {
      for (const f of run.fixtures) {
        const ratios =
          f.refused !== null
            ? 'no ratio (log-densities differ)'
            : f.rows
                .map((row) => `${row.chains}: **${formatNumber(row.ratio.median)}**`)
                .join(', ');
        lines.push(
          `- Ours over PyTorch in chain-steps per second, ${f.fixture}, ${run.onnxThreads} ` +
            `thread${run.onnxThreads === 1 ? '' : 's'} each, by chains: ${ratios}.`,
        );
      }
    }
  } else {
    lines.push(`- Race against PyTorch: ${race.status} (${race.reason}).`);
  }
  return lines.join('\n');
}

function machineSection(r: BenchmarkResults): string {
  const m = r.machine;
  const race = r.race;
  const torch =
    race.status === 'ran'
      ? `${race.torch} (Python ${race.python}), torch.set_num_threads(` +
        `${race.runs.map((run) => run.torchThreads).join(', then ')})`
      : `not used: ${race.status === 'skipped' ? race.reason : race.reason}`;
  const rows: string[][] = [
    ['CPU', m.cpuModel],
    ['cores', String(m.cores)],
    ['memory', `${m.memoryGiB.toFixed(1)} GiB (${m.freeMemoryGiB.toFixed(1)} GiB free at start)`],
    [
      'load average at start, at end (1, 5, 15 min)',
      `${m.loadAverage.map((l) => l.toFixed(2)).join(', ')}; ` +
        r.loadAverageAtEnd.map((l) => l.toFixed(2)).join(', '),
    ],
    ['platform', `${m.platform} ${m.arch}`],
    ['Node', m.node],
    ...Object.entries(m.versions).map(([name, version]) => [name, version ?? 'not installed']),
    ['PyTorch', torch],
    ...(race.status === 'ran'
      ? [
          ['PyTorch BLAS', blasCell(race.blas, race.referenceBlas)],
          ['PyTorch BLAS threads', `OPENBLAS_NUM_THREADS = ${race.blasThreads ?? 'unset'}`],
        ]
      : []),
    [
      'threads',
      `onnxruntime-node intraOpNumThreads = ${r.config.threads} (interOpNumThreads = 1); ` +
        `onnxruntime-web wasm numThreads = ${r.wasmThreads ?? 'n/a'}`,
    ],
    ['date', m.date],
    ['size', `${r.config.size}, ${r.wallTimeSeconds.toFixed(0)} s in all`],
  ];
  return table(['', ''], rows);
}

function blasCell(paths: readonly string[], reference: boolean): string {
  if (paths.length === 0) return 'not found in /proc/self/maps';
  const names = paths.map((p) => `\`${p}\``).join(', ');
  return reference ? `${names} (**the reference BLAS**, see the race)` : names;
}

function overheadSection(r: BenchmarkResults): string {
  const rows = r.overhead.map((f) => [
    f.flow,
    f.backend,
    String(f.chains),
    formatSpread(f.stepMs),
    formatSpread(f.modelMs),
    `**${formatSpread(f.ratio)}**`,
    aimCell(f.meetsAim, f.aim),
    [f.breakdown.modelMs, f.breakdown.targetMs, f.breakdown.samplerMs]
      .map((part) => formatNumber(part.median))
      .join(' / '),
  ]);
  return [
    'Time of one `sampler.step()` (latent MALA, `tempered({ beta: 1 })`, identity ' +
      'preconditioner, all chains in one batch) over the time of the model calls it makes: the ' +
      'same `flow.vjp` call on the same batch, timed alone, right after each repeat of steps.',
    '',
    table(
      [
        'flow',
        'backend',
        'chains',
        'step (ms)',
        'flow.vjp alone (ms)',
        'step / model',
        'aim',
        'in the step: model / target / sampler (ms)',
      ],
      rows,
    ),
  ].join('\n');
}

function gradientSection(r: BenchmarkResults): string {
  const rows = r.gradientCost.map((f) => [
    f.fixture,
    String(f.latentDim),
    String(f.chains),
    formatSpread(f.forwardMs),
    formatSpread(f.vjpMs),
    `**${formatSpread(f.vjpOverForward)}**`,
    aimCell(f.meetsAim, f.aim),
    formatSpread(f.finiteDifferenceMs),
    `**${formatSpread(f.finiteDifferenceOverAutodiff)}**`,
    `${formatNumber(f.finiteDifferenceError.medianRow)} (${formatNumber(
      f.finiteDifferenceError.maxRow,
    )})`,
    String(f.nonFiniteRows),
  ]);
  const backend = r.gradientCost[0]?.backend ?? 'onnxruntime-node/cpu';
  return [
    `ONNX figures on ${backend} with ${r.config.threads} threads, per fixture: **VJP-graph ` +
      'time over forward time** at the batch size shown, and **finite differences over ' +
      'autodiff** for the same gradient (a standard normal cotangent on `x` and `logDet`). ' +
      'The VJP graph returns the forward outputs too; a finite-difference VJP runs `2d + 1` ' +
      'forward rows a point (default relative step `2^(-23/3)`). FD error: ' +
      '`|g_fd - g_ad| / |g_ad|` per row, median and largest over the batch; it grows where the ' +
      'flow is strongly curved at the scale of the step (the thin bridges of a two-moons flow). ' +
      'Non-finite rows: latent rows of the standard normal batch where the model itself returns ' +
      'NaN or an infinity (left out of the error; the sampler counts such proposals as ' +
      'divergences).',
    '',
    table(
      [
        'fixture',
        'd',
        'rows',
        'forward (ms)',
        'VJP graph (ms)',
        'VJP graph / forward',
        'aim',
        'finite differences (ms)',
        'finite differences / autodiff',
        'FD error: median (max) row',
        'non-finite rows',
      ],
      rows,
    ),
  ].join('\n');
}

function throughputSection(r: BenchmarkResults): string {
  const chains = [...new Set(r.throughput.map((t) => t.chains))].sort((a, b) => a - b);
  const groups = new Map<string, (typeof r.throughput)[number][]>();
  for (const row of r.throughput) {
    const key = `${row.adapter}|${row.backend}|${row.fixture}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  const notes = new Set<string>();
  const rows = [...groups.values()].map((group) => {
    const first = group[0];
    if (first.note !== undefined) notes.add(`${first.adapter} (${first.backend}): ${first.note}`);
    return [
      first.adapter,
      first.backend,
      first.threads === null ? 'n/a' : String(first.threads),
      first.fixture,
      ...chains.map((c) => {
        const row = group.find((g) => g.chains === c);
        if (row?.chainStepsPerSecond) return formatSpread(row.chainStepsPerSecond);
        return row?.missing ?? 'not measured';
      }),
    ];
  });
  return [
    'Chain-steps per second of `sampler.step()` (`tempered({ beta: 1 })`, fixed step size, ' +
      "gradients from the ONNX adapter's VJP graph or, for tfjs, `tf.grad` through the fixture's " +
      'graph model), by number of chains advanced together.',
    '',
    table(['adapter', 'backend', 'threads', 'fixture', ...chains.map((c) => `${c} chains`)], rows),
    ...(notes.size > 0 ? ['', ...[...notes].map((n) => `- ${n}`)] : []),
  ].join('\n');
}

function efficiencySection(r: BenchmarkResults): string {
  const first = r.efficiency[0];
  const rows = r.efficiency.map((f) => [
    (f.kernel === 'mala' ? 'latent MALA' : 'latent random-walk Metropolis') +
      (f.relocateStuckAfter > 0 ? `, relocateStuckAfter ${f.relocateStuckAfter}` : ''),
    formatSpread(f.essBulkMin),
    `**${formatSpread(f.essPerSecond)}**`,
    `**${formatSpread(f.essPerGradient)}**`,
    formatSpread(f.essPerFlowRow),
    formatSpread(f.acceptance),
    formatSpread(f.stepSize),
    formatSpread(f.rhatMax),
    f.stuckChains.join(', '),
    f.relocations.join(', '),
  ]);
  const rwm = r.efficiency.find((f) => f.kernel === 'rwm');
  const versus = rwm
    ? r.efficiency
        .filter((f) => f.kernel === 'mala')
        .map((f) => {
          const name =
            f.relocateStuckAfter > 0
              ? `MALA with relocateStuckAfter ${f.relocateStuckAfter}`
              : 'MALA';
          const perSecond = f.essPerSecond.median / rwm.essPerSecond.median;
          const perRow = f.essPerFlowRow.median / rwm.essPerFlowRow.median;
          return (
            `${name} over random walk: ${formatNumber(perSecond)}x the ESS per second, ` +
            `${formatNumber(perRow)}x the ESS per flow row.`
          );
        })
        .join(' ')
    : '';
  return [
    first
      ? `Target \`${first.target}\` on \`${first.fixture}\` (onnxruntime-node, CPU): ` +
        `${first.chains} chains, ${first.warmup} warm-up and ${first.draws} kept iterations, ` +
        `one run per seed over ${first.seeds} seeds. ESS is the smallest bulk ESS over the ` +
        'latent coordinates and log pi; per second counts the sampling phase only. A pullback ' +
        'MALA step costs one forward and one VJP row a chain, a random-walk step one forward ' +
        'row; the random walk takes no gradient, so its ESS per gradient is n/a. Stuck chains: ' +
        'per seed, chains that accepted no proposal in the whole sampling phase (MALA started ' +
        "on a steep ridge of the pull-back density, in the flow's bridge between the moons, " +
        'overshoots on every proposal); relocations: per seed, such chains moved to another ' +
        "chain's point during warm-up (`relocateStuckAfter`, off by default)."
      : 'No efficiency figures.',
    '',
    table(
      [
        'kernel',
        'bulk ESS (min)',
        'ESS / s',
        'ESS / gradient row',
        'ESS / flow row',
        'acceptance',
        'step size',
        'R-hat (max)',
        'stuck chains',
        'relocations',
      ],
      rows,
    ),
    '',
    versus,
  ].join('\n');
}

function memorySection(r: BenchmarkResults): string {
  const m = r.memory;
  const verdict = m.growsBeyondNoise
    ? '**RSS grows beyond noise**: look for a per-step allocation that is kept.'
    : 'No growth beyond noise.';
  return [
    `Resident set size while one sampler steps on \`${m.flow}\` (${m.backend}, ${m.chains} ` +
      `chains, \`tempered({ beta: 1 })\`), after a full garbage collection (gc from ${m.gc}).`,
    '',
    table(
      ['after steps', 'RSS (MiB)', 'heap used (MiB)', 'external (MiB)'],
      [m.samples[0], m.samples[m.samples.length - 1]].map((s) => [
        s.step.toLocaleString('en-US'),
        s.rssMiB.toFixed(1),
        s.heapUsedMiB.toFixed(1),
        s.externalMiB.toFixed(1),
      ]),
    ),
    '',
    `Growth ${m.growthMiB.toFixed(2)} MiB from ${m.firstStep.toLocaleString('en-US')} to ` +
      `${m.lastStep.toLocaleString('en-US')} steps; over ${m.samples.length} samples, the ` +
      `median of the last quarter minus that of the first ${m.quarterGrowthMiB.toFixed(2)} MiB ` +
      `against a noise (median absolute deviation within those quarters) of ` +
      `${m.noiseMiB.toFixed(2)} MiB, and a least-squares slope of ` +
      `${m.slopeMiBPerThousandSteps.toFixed(3)} MiB per 1,000 steps. ${verdict}`,
  ].join('\n');
}

function spinningSection(r: BenchmarkResults): string {
  if (r.spinning.length === 0) return 'Not measured (disabled by the configuration).';
  const rows = r.spinning.map((f) => [
    f.fixture,
    `\`${f.target}\``,
    String(f.chains),
    f.callsPerStep === 2 ? 'forward, then VJP' : 'VJP',
    formatSpread(f.spinningMs),
    formatSpread(f.noSpinningMs),
    `**${formatSpread(f.ratio)}**`,
  ]);
  return [
    "ONNX Runtime's intra-op threads spin after each run waiting for more work " +
      '(`session.intra_op.allow_spinning`, on by default). The ONNX adapter has one session, ' +
      'hence one thread pool, for the forward graph and one for the VJP graph. Time of ' +
      "`sampler.step()` on onnxruntime-node with the adapter's defaults and with " +
      "`sessionOptions: { extra: { session: { intra_op: { allow_spinning: '0' } } } }`, " +
      `${r.config.threads} threads, timed in alternation:`,
    '',
    table(
      [
        'fixture',
        'target',
        'chains',
        'model calls a step',
        'spinning (ms per step)',
        'no spinning (ms per step)',
        'spinning / no spinning',
      ],
      rows,
    ),
  ].join('\n');
}

function raceFixtureSection(f: RaceFixture, threads: number): string {
  const heading = `#### ${f.fixture} (${threads} thread${threads === 1 ? '' : 's'})`;
  const check =
    `Check on ${f.check.rows} latent rows: largest relative log pi difference ` +
    `${formatNumber(f.check.logPiError)} (tolerance ${f.check.logPiTolerance}), largest ` +
    `gradient difference ${formatNumber(f.check.gradientError)} of the largest component ` +
    `(tolerance ${f.check.gradientTolerance}): ${f.check.passed ? 'passed' : '**failed**'}.`;
  if (f.refused !== null) {
    return ['', heading, '', check, '', `**No ratio reported**: ${f.refused}.`].join('\n');
  }
  const rows = f.rows.map((row) => [
    String(row.chains),
    String(row.stepsPerRepeat),
    formatSpread(row.ours),
    formatSpread(row.pytorch),
    `**${formatSpread(row.ratio)}**`,
    row.chains >= 256 ? (row.ratio.median >= 1 ? 'met' : '**missed**') : '',
    `${formatNumber(row.oursModelMs.median)} / ${formatNumber(row.oursCoreMs.median)}`,
    `${row.oursAcceptance.toFixed(3)} / ${row.pytorchAcceptance.toFixed(3)}`,
    row.loadAverage.toFixed(1),
  ]);
  return [
    '',
    heading,
    '',
    `\`${f.target}\`, step size ${f.stepSize}, identity preconditioner, both sides from the ` +
      `same starting points, ${threads} thread${threads === 1 ? '' : 's'} each. ${check}`,
    '',
    table(
      [
        'chains',
        'steps / repeat',
        'ours (chain-steps/s)',
        'PyTorch (chain-steps/s)',
        'ours / PyTorch',
        'aim (>= 1 from 256)',
        'ours: model / rest (ms per step)',
        'acceptance ours / PyTorch',
        'load',
      ],
      rows,
    ),
  ].join('\n');
}

function raceSection(r: BenchmarkResults): string {
  const race = r.race;
  if (race.status === 'skipped') {
    const install = race.install === '' ? '' : ` To run it, install PyTorch: \`${race.install}\`.`;
    return `**Skipped**: ${race.reason}${install}`;
  }
  if (race.status === 'failed') return `**Failed**: ${race.reason}`;
  const [main, ...extra] = race.runs;
  const runSection = (run: (typeof race.runs)[number], title: string) => [
    '',
    `### ${title}: ${run.onnxThreads} thread${run.onnxThreads === 1 ? '' : 's'} each`,
    '',
    `ONNX Runtime intraOpNumThreads = ${run.onnxThreads}, ` +
      `torch.set_num_threads(${run.torchThreads}).`,
    ...run.fixtures.map((f) => raceFixtureSection(f, run.onnxThreads)),
  ];
  return [
    'The same latent MALA on the core (onnxruntime-node, CPU, gradients from the ONNX VJP ' +
      `graph) and on PyTorch ${race.torch} (autograd, CPU) with the fixture's \`weights.json\` ` +
      'in the modules of `fixtures/scripts/common.py`. One Python process serves the whole run ' +
      "over JSON lines; every repeat times our steps and PyTorch's back to back, alternating " +
      'which goes first, and the ratio is taken repeat by repeat (above 1: we are faster). The ' +
      "`load` column is the machine's one-minute load average after the row: a 2-thread pool " +
      'waits at every parallel section for a thread that other jobs may have taken off the ' +
      "cores, which PyTorch's OpenMP pool suffers far more than ONNX Runtime's; the " +
      'single-thread race is immune to that and is the fairer comparison of the compute on a ' +
      'loaded machine.',
    ...(race.referenceBlas
      ? [
          '',
          "**Unfair to PyTorch**: Debian's PyTorch runs its dense products on the system's " +
            'libblas.so.3, and on this machine that is the unoptimised reference BLAS, about ten ' +
            "times slower than OpenBLAS on a coupling network's small products; the ratios " +
            'below overstate our lead wherever matrix products dominate (the MLP flows more ' +
            `than Glow, whose convolutions run on oneDNN). Install OpenBLAS ` +
            `(\`${OPENBLAS_INSTALL_HINT}\`) and run again.`,
        ]
      : []),
    ...runSection(main, 'Main race'),
    ...extra.flatMap((run) => runSection(run, 'Check')),
  ].join('\n');
}

/** Known remedies for operators of the VJP graph that dominate its time. */
const REMEDIES: Readonly<Record<string, string>> = {
  ConvTranspose:
    'the input gradient of `Conv` is emitted as `ConvTranspose` ' +
    "(adapters/onnx/src/autodiff/rules/conv.ts), which ONNX Runtime's CPU provider runs as a " +
    'GEMM plus col2im, without the blocked (NCHWc) kernels its `Conv` gets. For stride 1 and ' +
    'dilation 1 it equals a `Conv` of dy with the kernel flipped in space and its two channel ' +
    'axes swapped (a constant, computed once), pads `k - 1 - p`. That is faster where the ' +
    'gradient has many output channels (the input gradient of a convolution that reduces ' +
    'channels, such as the last convolution of each Glow coupling, 32 to 4), and slower where ' +
    'it has very few (2), so the rule should choose by the channel counts.',
  ScatterElements:
    'the `Slice` rule (rules/shape.ts) scatters dy into zeros with `ScatterElements` and a ' +
    'full-size index tensor. When the slice has step 1 (the Glow coupling splits channels), ' +
    '`Pad` with zeros gives the same gradient as one copy.',
  Where:
    '`Relu` (rules/elementwise.ts) is differentiated as `Where(Greater(x, 0), dy, 0)`; ' +
    "ONNX Runtime's `Where` is a generic broadcasting kernel. `Mul(dy, Cast(Greater(x, 0)))` " +
    'stays on vectorised element-wise kernels.',
  Greater: 'see `Where`: the mask of the `Relu` gradient.',
  ReorderOutput:
    'layout conversions between NCHW and the blocked NCHWc layout around each `Conv`, needed ' +
    'because the gradient operators beside them (`ConvTranspose`, `Where`, `ScatterElements`) ' +
    'have no NCHWc kernels; they shrink when those are replaced as above.',
  ReorderInput: 'see `ReorderOutput`.',
};

function remediesFor(shares: readonly OperatorShare[]): string[] {
  const remedies = shares
    .filter((o) => o.share >= 0.03 && REMEDIES[o.operator] !== undefined)
    .map((o) => `- \`${o.operator}\` (${percent(o.share)}): ${REMEDIES[o.operator]}`);
  return [
    "What would close the gap (in the ONNX adapter's autodiff rules, not in the core):",
    '',
    ...(remedies.length > 0 ? remedies : ['- no known remedy for the top operators.']),
  ];
}

function operatorTable(shares: readonly OperatorShare[], unit: string): string {
  return table(
    ['operator', unit, 'share', 'count'],
    shares
      .slice(0, 10)
      .map((s) => [
        `\`${s.operator}\``,
        formatNumber(s.ms),
        percent(s.share),
        formatNumber(s.count),
      ]),
  );
}

/** A frame of the core's sampler and targets; the analytic flows are models, not core. */
function isCoreFrame(share: FunctionShare): boolean {
  return share.location.includes('packages/core/') && !share.location.includes('analytic-flows');
}

/** Self time of a profile's functions summed by where they live, ms per step. */
function groupFunctions(shares: readonly FunctionShare[]): {
  core: number;
  adapter: number;
  native: number;
  other: number;
} {
  const groups = { core: 0, adapter: 0, native: 0, other: 0 };
  for (const s of shares) {
    if (isCoreFrame(s)) groups.core += s.ms;
    else if (/adapters\/|onnxruntime-|analytic-flows/.test(s.location)) groups.adapter += s.ms;
    else if (s.location.endsWith('[native]')) groups.native += s.ms;
    else groups.other += s.ms;
  }
  return groups;
}

/** The profile's functions in packages/core, as `name (file) ms (share)`, by self time. */
function coreHotSpots(shares: readonly FunctionShare[]): string {
  const core = shares.filter(isCoreFrame);
  if (core.length === 0) return 'none sampled';
  return core
    .slice(0, 8)
    .map(
      (s) =>
        `\`${s.location.replace(/:\d+\)$/, ')')}\` ${formatNumber(s.ms)} (${percent(s.share)})`,
    )
    .join(', ');
}

function functionTable(shares: readonly FunctionShare[]): string {
  return table(
    ['function (self time)', 'ms per step', 'share of the step'],
    shares.slice(0, 15).map((s) => [`\`${s.location}\``, formatNumber(s.ms), percent(s.share)]),
  );
}

function whereSection(r: BenchmarkResults): string {
  const parts: string[] = [];

  const model = r.overhead.find((f) => f.aim !== null);
  for (const figure of r.overhead) {
    if (figure.profile === null) continue;
    const b = figure.breakdown;
    const status =
      figure.meetsAim === null
        ? ''
        : figure.meetsAim
          ? ` The aim (<= ${figure.aim}) is met.`
          : ` **The aim (<= ${figure.aim}) is missed**; the core's hot spots are listed ` +
            'below the profile.';
    const groups = groupFunctions(figure.profile);
    const core = b.targetMs.median + b.samplerMs.median;
    parts.push(
      '',
      `### Core step on ${figure.flow}, ${figure.chains} chains`,
      '',
      `Per step: ${formatNumber(b.modelMs.median)} ms in model calls, ` +
        `${formatNumber(b.targetMs.median)} ms in the target around them (log q_Z, gradient ` +
        `assembly), ${formatNumber(b.samplerMs.median)} ms in the sampler (proposal draws, ` +
        `proposal densities, accept/reject, row copies): the core is ` +
        `${percent(core / figure.stepMs.median)} of the step.${status}`,
      '',
      `Self time by function (V8's sampling profiler, as \`node --cpu-prof\`, over ` +
        `${formatNumber(figure.profileSteps)} steps): ${formatNumber(groups.core)} ms per step ` +
        "in the core's JavaScript (packages/core, analytic flows excepted), " +
        `${formatNumber(groups.adapter)} ms in the model's JavaScript (the analytic flow, or ` +
        "the ONNX adapter and ONNX Runtime's bindings), " +
        `${formatNumber(groups.native)} ms in native frames (\`[native]\`; on an ONNX flow ` +
        "these are ONNX Runtime's kernels, which onnxruntime-node runs on the main thread), " +
        `${formatNumber(groups.other)} ms elsewhere (V8, garbage collection, idle, this ` +
        "benchmark's own wrappers).",
      '',
      functionTable(figure.profile),
      '',
      `The core's own hot spots, ms per step (share of the step): ${coreHotSpots(figure.profile)}.`,
    );
  }
  if (model === undefined) parts.push('No real-model overhead figure.');

  for (const g of r.gradientCost) {
    if (g.meetsAim !== false) continue;
    parts.push(
      '',
      `### VJP graph of ${g.fixture}: ${formatNumber(g.vjpOverForward.median)} forward passes ` +
        `(aim <= ${g.aim})`,
    );
    if (g.profile === null) {
      parts.push('', 'Not profiled (profiling is off in this configuration).');
      continue;
    }
    const forwardMs = g.profile.forward.reduce((sum, o) => sum + o.ms, 0);
    const vjpMs = g.profile.vjp.reduce((sum, o) => sum + o.ms, 0);
    parts.push(
      '',
      `ONNX Runtime's own profile at ${g.profile.chains} rows (kernel times, inflated by ` +
        `profiling): ${formatNumber(forwardMs)} ms in the listed operators of the forward ` +
        `graph, ${formatNumber(vjpMs)} ms in those of the VJP graph.`,
      '',
      'Forward graph, one call:',
      '',
      operatorTable(g.profile.forward, 'ms per call'),
      '',
      'VJP graph, one call:',
      '',
      operatorTable(g.profile.vjp, 'ms per call'),
      '',
      ...remediesFor(g.profile.vjp),
    );
  }

  const spinning = r.spinning.filter((f) => f.ratio.median > 1.2);
  if (spinning.length > 0) {
    parts.push(
      '',
      '### Thread spinning',
      '',
      spinning
        .map(
          (f) =>
            `On \`${f.fixture}\` with \`${f.target}\` (${f.chains} chains) a step takes ` +
            `${formatNumber(f.ratio.median)} times as long with ONNX Runtime's spinning on.`,
        )
        .join(' ') +
        ' What would close it (in the ONNX adapter): turn intra-op spinning off by default ' +
        "(`session.intra_op.allow_spinning: '0'`, honoured by onnxruntime-node 1.30), or run the " +
        'forward and VJP graphs in one session (one thread pool) so that no idle pool spins ' +
        'while the other works. The race uses the defaults, as a user would.',
    );
  }

  if (r.race.status === 'ran') {
    for (const f of r.race.runs[0]?.fixtures ?? []) {
      if (f.profile === null) continue;
      const row = f.rows.find((x) => x.chains === f.profile?.chains);
      const onnxTotal = f.profile.onnx.reduce((s, o) => s + o.ms, 0);
      parts.push(
        '',
        `### PyTorch is faster on ${f.fixture} at ${f.profile.chains} chains`,
        '',
        row
          ? `Our step: ${formatNumber(row.oursModelMs.median)} ms in \`flow.vjp\` (the ONNX ` +
              `VJP graph) and ${formatNumber(row.oursCoreMs.median)} ms elsewhere; PyTorch's ` +
              `whole step: ${formatNumber((1000 * row.chains) / row.pytorch.median)} ms. The ` +
              'gap is in the model call, not in the core.'
          : '',
        '',
        `ONNX Runtime, one VJP-graph call (${formatNumber(onnxTotal)} ms of kernel time in the ` +
          'listed operators):',
        '',
        operatorTable(f.profile.onnx, 'ms per call'),
        '',
        'PyTorch, one MALA step (torch.profiler, self CPU time):',
        '',
        operatorTable(f.profile.pytorch, 'ms per step'),
        '',
        ...remediesFor(f.profile.onnx),
      );
    }
  }
  return parts.join('\n');
}

function methodSection(r: BenchmarkResults): string {
  const c = r.config;
  return [
    `- Every timed figure is the median of ${c.repeats} repeats after ${c.warmup} untimed ` +
      'calls, shown as `median [first quartile, third quartile]`; the min and max are in ' +
      'RESULTS.json. A repeat runs as many calls as fill about ' +
      `${c.budgetMs} ms (at least one) and divides by their number.`,
    '- Ratios are taken repeat by repeat between timings made back to back, then summarised, ' +
      'so a change of machine load moves both sides of a ratio together.',
    `- Step sizes are fixed per fixture (no adaptation): ${Object.entries(r.stepSizes)
      .map(([f, h]) => `${f} ${h}`)
      .join(', ')}, found by the core's doubling search on 64 chains.`,
    '- The machine may be shared: its load average at the start is in the Machine table, ' +
      'and the interquartile ranges show how much the load moved the figures.',
  ].join('\n');
}

/**
 * Renders a run as the Markdown of RESULTS.md, with one second-level section per entry of
 * {@link REPORT_SECTIONS}.
 *
 * @example
 * ```ts
 * await writeFile('bench/RESULTS.md', renderMarkdown(results));
 * ```
 */
export function renderMarkdown(results: BenchmarkResults): string {
  const bodies: Record<(typeof REPORT_SECTIONS)[number], string> = {
    Summary: summarySection(results),
    Machine: machineSection(results),
    'Core overhead': overheadSection(results),
    'Gradient cost': gradientSection(results),
    Throughput: throughputSection(results),
    'Sampling efficiency': efficiencySection(results),
    Memory: memorySection(results),
    'Thread spinning': spinningSection(results),
    'Race against PyTorch': raceSection(results),
    'Where the time goes': whereSection(results),
    Method: methodSection(results),
  };
  const sections = REPORT_SECTIONS.map((name) => `## ${name}\n\n${bodies[name]}`);
  return [
    '# Benchmark results',
    '',
    `Written by \`npm run bench\` (size \`${results.config.size}\`) on ` +
      `${results.machine.date.slice(0, 10)}. Regenerate with \`npm run bench\`; figures come ` +
      "from one run and move with the machine's load.",
    '',
    sections.join('\n\n'),
    '',
  ].join('\n');
}
