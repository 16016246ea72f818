/**
 * Runs every benchmark of a configuration and gathers the figures into one JSON-compatible
 * object; {@link writeResults} writes it as RESULTS.json and RESULTS.md.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { affineFlow, init, pullback, tempered } from '@latent-langevin/core';
import type { BenchmarkConfig, RunOptions } from './config.js';
import { type EfficiencyFigure, measureEfficiency } from './efficiency.js';
import { type FixtureName, loadFixture, setWasmThreads, twoMoonsLogDensity } from './fixtures.js';
import { type GradientCostFigure, measureGradientCost } from './gradient-cost.js';
import { formatJson } from './json-format.js';
import { type MachineInfo, describeMachine } from './machine.js';
import { type MemoryFigure, measureMemory } from './memory.js';
import { type OverheadFigure, measureCoreOverhead } from './overhead.js';
import { type SpinningFigure, measureSpinning } from './spinning.js';
import { type RaceResult, runPytorchRace } from './pytorch-race.js';
import { renderMarkdown } from './report.js';
import { tfjsThroughputSource } from './tfjs-hook.js';
import {
  type ThroughputOptions,
  type ThroughputRow,
  type ThroughputSource,
  onnxThroughputSource,
} from './throughput.js';

/** Format tag of RESULTS.json, bumped when its layout changes. */
export const RESULTS_FORMAT = 'latent-langevin/bench-results@2';

/** Every figure of a run. */
export interface BenchmarkResults {
  readonly format: typeof RESULTS_FORMAT;
  readonly config: BenchmarkConfig;
  readonly machine: MachineInfo;
  /** The wasm thread count in effect, or null when onnxruntime-web is missing. */
  readonly wasmThreads: number | null;
  /** Fixed MALA step size per fixture, found once by the core's initial search (64 chains). */
  readonly stepSizes: Readonly<Record<FixtureName, number>>;
  readonly overhead: readonly OverheadFigure[];
  readonly gradientCost: readonly GradientCostFigure[];
  readonly throughput: readonly ThroughputRow[];
  readonly efficiency: readonly EfficiencyFigure[];
  readonly memory: MemoryFigure;
  readonly spinning: readonly SpinningFigure[];
  readonly race: RaceResult;
  /** Load averages over 1, 5 and 15 minutes when the run ended. */
  readonly loadAverageAtEnd: readonly number[];
  /** Wall time of the whole run, seconds. */
  readonly wallTimeSeconds: number;
}

/** Step size of tempered(beta = 1) found by the core's doubling search on 64 chains. */
async function findStepSize(fixture: FixtureName, config: BenchmarkConfig): Promise<number> {
  const flow = await loadFixture(fixture, {
    backend: 'onnxruntime-node/cpu',
    gradient: 'autodiff',
    threads: config.threads,
  });
  try {
    const sampler = await init(flow, {
      target: tempered({ beta: 1 }),
      chains: 64,
      seed: config.seed,
      warmup: 0,
    });
    return sampler.stepSize;
  } finally {
    await flow.dispose();
  }
}

/**
 * Runs the benchmarks of `config`: core overhead, gradient cost, throughput, sampling
 * efficiency, memory, and the race against PyTorch (skipped when PyTorch is missing).
 *
 * @param config from {@link benchmarkConfig}
 * @param options progress callback and extra throughput sources
 * @returns every figure, ready for {@link writeResults}
 * @throws whatever loading a fixture or sampling throws; a broken PyTorch reference does not
 *   throw, it is reported in `race`
 * @example
 * ```ts
 * const results = await runBenchmarks(benchmarkConfig('tiny'), { onProgress: console.log });
 * await writeResults(results, 'bench');
 * ```
 */
export async function runBenchmarks(
  config: BenchmarkConfig,
  options: RunOptions = {},
): Promise<BenchmarkResults> {
  const started = performance.now();
  const progress = options.onProgress ?? (() => undefined);
  const machine = describeMachine();
  const wasmThreads = await setWasmThreads(config.wasmThreads);
  const node = 'onnxruntime-node/cpu' as const;
  const timing = {
    seed: config.seed,
    warmup: config.warmup,
    repeats: config.repeats,
    budgetMs: config.budgetMs,
  };

  const fixtures = new Set([
    ...config.throughput.fixtures,
    ...config.race.fixtures,
    config.memory.fixture,
    ...(config.spinning.enabled
      ? [config.spinning.pullback.fixture, config.spinning.tempered.fixture]
      : []),
  ]);
  const stepSizes: Record<FixtureName, number> = {};
  for (const fixture of fixtures) stepSizes[fixture] = await findStepSize(fixture, config);
  progress(
    `step sizes (tempered, beta = 1): ${Object.entries(stepSizes)
      .map(([f, h]) => `${f} ${h}`)
      .join(', ')}`,
  );

  // Memory comes first, before any other benchmark has loaded models, TensorFlow.js or large
  // batches into this process: their allocations, freed or not, would move the baseline.
  const memoryFlow = await loadFixture(config.memory.fixture, {
    backend: node,
    gradient: 'autodiff',
    threads: config.threads,
  });
  let memory: MemoryFigure;
  try {
    memory = await measureMemory(
      memoryFlow,
      tempered({ beta: 1 }),
      { flow: config.memory.fixture, backend: node },
      { ...config.memory, seed: config.seed, stepSize: stepSizes[config.memory.fixture] },
    );
  } finally {
    await memoryFlow.dispose();
  }
  progress(
    `memory: RSS ${memory.firstRssMiB.toFixed(1)} MiB after ${memory.firstStep} steps, ` +
      `${memory.lastRssMiB.toFixed(1)} MiB after ${memory.lastStep}`,
  );

  // Core overhead: an identity affine flow (the core dominates), then the real model.
  const overhead: OverheadFigure[] = [];
  const overheadOptions = {
    ...timing,
    chains: config.overhead.chains,
    aim: null,
    profileMs: config.overhead.profileMs,
  };
  const d = config.overhead.affineDim;
  overhead.push(
    await measureCoreOverhead(
      affineFlow({ scale: new Array<number>(d).fill(1) }),
      { flow: `affineFlow (identity, d = ${d})`, backend: 'analytic (TypeScript)' },
      overheadOptions,
    ),
  );
  const model = await loadFixture(config.overhead.fixture, {
    backend: node,
    gradient: 'autodiff',
    threads: config.threads,
  });
  try {
    overhead.push(
      await measureCoreOverhead(
        model,
        { flow: config.overhead.fixture, backend: node },
        { ...overheadOptions, aim: config.overhead.aim },
      ),
    );
  } finally {
    await model.dispose();
  }
  for (const figure of overhead) {
    progress(
      `overhead ${figure.flow} ${figure.chains} chains: step/model ` +
        `${figure.ratio.median.toFixed(3)} (step ${figure.stepMs.median.toFixed(3)} ms)`,
    );
  }

  const gradientCost: GradientCostFigure[] = [];
  for (const fixture of config.gradientCost.fixtures) {
    const figure = await measureGradientCost(fixture, {
      ...timing,
      backend: node,
      chains: config.gradientCost.chains,
      threads: config.threads,
      aim: config.gradientCost.aim,
      profileCalls: config.gradientCost.profileCalls,
    });
    gradientCost.push(figure);
    progress(
      `gradient cost ${fixture} ${figure.chains} rows: VJP/forward ` +
        `${figure.vjpOverForward.median.toFixed(2)}, finite differences/autodiff ` +
        `${figure.finiteDifferenceOverAutodiff.median.toFixed(1)}`,
    );
  }

  const throughputOptions: ThroughputOptions = {
    ...timing,
    fixtures: config.throughput.fixtures,
    chains: config.throughput.chains,
    target: () => tempered({ beta: 1 }),
    stepSizes,
    threads: config.threads,
    flowWarmupMs: config.throughput.flowWarmupMs,
  };
  const sources: ThroughputSource[] = [
    onnxThroughputSource(node, config.threads),
    onnxThroughputSource('onnxruntime-web/wasm', wasmThreads),
    tfjsThroughputSource,
    ...(options.throughputSources ?? []),
  ];
  const throughput: ThroughputRow[] = [];
  for (const source of sources)
    throughput.push(...(await source.rows(throughputOptions, progress)));

  const efficiencyFlow = await loadFixture(config.efficiency.fixture, {
    backend: node,
    gradient: 'autodiff',
    threads: config.threads,
  });
  const efficiency: EfficiencyFigure[] = [];
  try {
    // MALA as it comes, MALA with stuck chains moved during warm-up, and the random walk.
    const variants = [
      { kernel: 'mala', relocateStuckAfter: 0 },
      { kernel: 'mala', relocateStuckAfter: 50 },
      { kernel: 'rwm', relocateStuckAfter: 0 },
    ] as const;
    for (const { kernel, relocateStuckAfter } of variants) {
      const figure = await measureEfficiency(
        efficiencyFlow,
        () => pullback(twoMoonsLogDensity()),
        kernel,
        { fixture: config.efficiency.fixture, target: 'pullback(two-moons density)' },
        { ...config.efficiency, relocateStuckAfter },
      );
      efficiency.push(figure);
      progress(
        `efficiency ${kernel} (relocateStuckAfter ${relocateStuckAfter}): bulk ESS ` +
          `${figure.essBulkMin.median.toFixed(0)}, ${figure.essPerSecond.median.toFixed(0)} ESS/s`,
      );
    }
  } finally {
    await efficiencyFlow.dispose();
  }

  const spinning: SpinningFigure[] = [];
  if (config.spinning.enabled) {
    const cases = [
      { ...config.spinning.pullback, calls: 2, target: () => pullback(twoMoonsLogDensity()) },
      { ...config.spinning.tempered, calls: 1, target: () => tempered({ beta: 1 }) },
    ];
    for (const c of cases) {
      const figure = await measureSpinning(c.fixture, c.target, c.calls, {
        ...timing,
        chains: c.chains,
        threads: config.threads,
        stepSize: stepSizes[c.fixture],
        pauseMs: 50,
      });
      spinning.push(figure);
      progress(
        `spinning ${c.fixture} ${figure.target} ${c.chains} chains: step ` +
          `${figure.spinningMs.median.toFixed(3)} ms spinning, ` +
          `${figure.noSpinningMs.median.toFixed(3)} ms not`,
      );
    }
  }

  let race: RaceResult;
  if (config.race.enabled) {
    race = await runPytorchRace(
      { ...config.race, ...timing, threads: config.threads, stepSizes },
      progress,
    );
    if (race.status === 'skipped') {
      progress(`race skipped: ${race.reason} Install PyTorch with: ${race.install}`);
    } else if (race.status === 'failed') {
      progress(`race failed: ${race.reason}`);
    }
  } else {
    race = { status: 'skipped', reason: 'disabled by the configuration.', install: '' };
  }

  return {
    format: RESULTS_FORMAT,
    config,
    machine,
    wasmThreads,
    stepSizes,
    overhead,
    gradientCost,
    throughput,
    efficiency,
    memory,
    spinning,
    race,
    loadAverageAtEnd: loadavg(),
    wallTimeSeconds: (performance.now() - started) / 1000,
  };
}

/**
 * Writes `RESULTS.json` and `RESULTS.md` into `outDir` (created if missing).
 *
 * @returns the paths written
 * @example
 * ```ts
 * const { json, markdown } = await writeResults(results, 'bench');
 * ```
 */
export async function writeResults(
  results: BenchmarkResults,
  outDir: string,
): Promise<{ json: string; markdown: string }> {
  await mkdir(outDir, { recursive: true });
  const json = join(outDir, 'RESULTS.json');
  const markdown = join(outDir, 'RESULTS.md');
  await writeFile(json, formatJson(results));
  await writeFile(markdown, renderMarkdown(results));
  return { json, markdown };
}
