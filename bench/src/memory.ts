/**
 * Memory: resident set size of the process while one sampler steps on, sampled after a garbage
 * collection every so many steps, to show whether a long run grows (a leak of tensors, buffers
 * or closures per step) or stays flat within noise.
 */
import { type DifferentiableFlow, type LatentTarget, init } from '@latent-langevin/core';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** A way to force a full garbage collection, and how it was obtained. */
export interface GarbageCollector {
  /** Runs a full collection; a no-op when none could be obtained. */
  readonly collect: () => void;
  /** `--expose-gc` (the flag), `v8.setFlagsFromString` (enabled at run time), or `none`. */
  readonly source: '--expose-gc' | 'v8.setFlagsFromString' | 'none';
}

/**
 * The process's `gc()`: the global one when Node was started with `--expose-gc`, otherwise one
 * enabled at run time through `v8.setFlagsFromString('--expose-gc')`.
 *
 * @example
 * ```ts
 * garbageCollector().collect();
 * ```
 */
export function garbageCollector(): GarbageCollector {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') return { collect: () => exposed(), source: '--expose-gc' };
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    if (typeof gc === 'function') {
      return { collect: () => (gc as () => void)(), source: 'v8.setFlagsFromString' };
    }
  } catch {
    // Fall through: RSS is then sampled without a collection, and the results say so.
  }
  return { collect: () => undefined, source: 'none' };
}

/** Settings of {@link measureMemory}. */
export interface MemoryOptions {
  readonly chains: number;
  readonly seed: number;
  readonly stepSize: number;
  /** Steps after which the first sample is the baseline, e.g. 1000. */
  readonly firstStep: number;
  /** Steps after which the last sample is taken, e.g. 20000. */
  readonly lastStep: number;
  /** Steps between samples, e.g. 1000. */
  readonly every: number;
}

/** Memory of the process after a number of steps, in MiB. */
export interface MemorySample {
  readonly step: number;
  readonly rssMiB: number;
  readonly heapUsedMiB: number;
  readonly externalMiB: number;
}

/** The memory figure of one long run. */
export interface MemoryFigure {
  readonly flow: string;
  readonly backend: string;
  readonly chains: number;
  readonly gc: GarbageCollector['source'];
  readonly samples: readonly MemorySample[];
  /** RSS after `firstStep` steps. */
  readonly firstRssMiB: number;
  /** RSS after `lastStep` steps. */
  readonly lastRssMiB: number;
  readonly firstStep: number;
  readonly lastStep: number;
  /** `lastRssMiB - firstRssMiB`. */
  readonly growthMiB: number;
  /** Least-squares slope of RSS over the samples, MiB per 1,000 steps. */
  readonly slopeMiBPerThousandSteps: number;
  /** Standard deviation of the samples about that line, MiB. */
  readonly residualMiB: number;
  /** Median RSS of the last quarter of the samples minus that of the first quarter, MiB. */
  readonly quarterGrowthMiB: number;
  /**
   * Noise of one sample: the median absolute deviation of each quarter's samples from their
   * quarter's median, pooled over the first and last quarters, MiB.
   */
  readonly noiseMiB: number;
  /**
   * True when the growth from the first quarter to the last exceeds both 2 MiB and three times
   * the noise. Medians of quarters, unlike a fitted line, are not moved by one step of the
   * allocator (an arena that grows once, or gives memory back once).
   */
  readonly growsBeyondNoise: boolean;
}

const MIB = 2 ** 20;

function snapshot(step: number): MemorySample {
  const usage = process.memoryUsage();
  return {
    step,
    rssMiB: usage.rss / MIB,
    heapUsedMiB: usage.heapUsed / MIB,
    externalMiB: usage.external / MIB,
  };
}

/**
 * Steps one sampler `lastStep` times, sampling the process's memory after a full garbage
 * collection at `firstStep` and every `every` steps after it.
 *
 * @param flow the flow; it is not disposed
 * @param target the latent target
 * @param label names of the flow and backend for the results
 * @throws whatever `init()` or the flow throws
 * @example
 * ```ts
 * const figure = await measureMemory(flow, tempered({ beta: 1 }), label, {
 *   chains: 16, seed: 1, stepSize: 0.1, firstStep: 1000, lastStep: 20000, every: 1000 });
 * ```
 */
export async function measureMemory(
  flow: DifferentiableFlow,
  target: LatentTarget,
  label: { readonly flow: string; readonly backend: string },
  options: MemoryOptions,
): Promise<MemoryFigure> {
  const gc = garbageCollector();
  const sampler = await init(flow, {
    target,
    chains: options.chains,
    seed: options.seed,
    warmup: 0,
    stepSize: options.stepSize,
    adaptStepSize: false,
  });
  const samples: MemorySample[] = [];
  for (let step = 1; step <= options.lastStep; step++) {
    await sampler.step();
    const due =
      step === options.firstStep || (step > options.firstStep && step % options.every === 0);
    if (due || step === options.lastStep) {
      gc.collect();
      samples.push(snapshot(step));
    }
  }

  const first = samples[0];
  const last = samples[samples.length - 1];
  const { slope, residual } = linearFit(
    samples.map((s) => s.step),
    samples.map((s) => s.rssMiB),
  );
  const judged = judgeGrowth(samples.map((s) => s.rssMiB));
  return {
    flow: label.flow,
    backend: label.backend,
    chains: options.chains,
    gc: gc.source,
    samples,
    firstRssMiB: first.rssMiB,
    lastRssMiB: last.rssMiB,
    firstStep: first.step,
    lastStep: last.step,
    growthMiB: last.rssMiB - first.rssMiB,
    slopeMiBPerThousandSteps: slope * 1000,
    residualMiB: residual,
    ...judged,
  };
}

/**
 * Judges a series of RSS samples, in MiB, for growth: the median of the last quarter minus that
 * of the first, against the median absolute deviation within those two quarters.
 *
 * @param rss samples in step order, at least one
 * @example
 * ```ts
 * judgeGrowth([200, 201, 200, 260, 260, 261, 260, 260]).growsBeyondNoise; // true
 * judgeGrowth([260, 200, 201, 200, 200, 201, 200, 201]).growsBeyondNoise; // false
 * ```
 */
export function judgeGrowth(
  rss: readonly number[],
): Pick<MemoryFigure, 'quarterGrowthMiB' | 'noiseMiB' | 'growsBeyondNoise'> {
  const quarter = Math.max(1, Math.floor(rss.length / 4));
  const early = rss.slice(0, quarter);
  const late = rss.slice(rss.length - quarter);
  const growth = median(late) - median(early);
  const noise = median([
    ...early.map((v) => Math.abs(v - median(early))),
    ...late.map((v) => Math.abs(v - median(late))),
  ]);
  return {
    quarterGrowthMiB: growth,
    noiseMiB: noise,
    growsBeyondNoise: growth > 2 && growth > 3 * noise,
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Least-squares line through `(x, y)`: its slope and the standard deviation of the residuals. */
function linearFit(
  x: readonly number[],
  y: readonly number[],
): { slope: number; residual: number } {
  const n = x.length;
  if (n < 2) return { slope: 0, residual: 0 };
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let k = 0; k < n; k++) {
    sxy += (x[k] - mx) * (y[k] - my);
    sxx += (x[k] - mx) ** 2;
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  let squares = 0;
  for (let k = 0; k < n; k++) squares += (y[k] - my - slope * (x[k] - mx)) ** 2;
  return { slope, residual: Math.sqrt(squares / Math.max(1, n - 2)) };
}
