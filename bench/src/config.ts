/**
 * The two sizes of the benchmark: `default`, the figures of RESULTS.md (a few minutes on a
 * 2-core machine), and `tiny`, a smoke run of every code path for the test suite.
 */
import { DEFAULT_PYTHON } from './python-reference.js';
import type { ThroughputSource } from './throughput.js';

/** Size of a run. */
export type BenchSize = 'tiny' | 'default';

/** Everything a run measures and how hard it tries. */
export interface BenchmarkConfig {
  readonly size: BenchSize;
  /** ONNX Runtime's `intraOpNumThreads` and PyTorch's `set_num_threads`. */
  readonly threads: number;
  /**
   * onnxruntime-web's wasm thread count (`env.wasm.numThreads`). Its own default in Node is
   * `min(4, ceil(cores / 2))`, 1 on a 2-core machine.
   */
  readonly wasmThreads: number;
  readonly seed: number;
  /** Untimed calls before the first repeat. */
  readonly warmup: number;
  /** Timed repeats of every figure (at least 5 for the default size). */
  readonly repeats: number;
  /** Wall time one repeat should take; the calls per repeat follow from it. */
  readonly budgetMs: number;
  readonly overhead: {
    readonly chains: number;
    /** Dimension of the identity `affineFlow` on which the core dominates. */
    readonly affineDim: number;
    /** The fixture of the real-model figure. */
    readonly fixture: string;
    readonly aim: number;
    /** Wall time of steps run under the V8 CPU profiler; 0 for none. */
    readonly profileMs: number;
  };
  readonly gradientCost: {
    readonly fixtures: readonly string[];
    readonly chains: number;
    readonly aim: number;
    /** Calls of each graph profiled by ONNX Runtime when the aim is missed; 0 for none. */
    readonly profileCalls: number;
  };
  /** ONNX Runtime thread spinning on and off, on a pullback and a tempered target. */
  readonly spinning: {
    readonly enabled: boolean;
    /** Fixture and chains of the pullback (forward + VJP sessions) figure. */
    readonly pullback: { readonly fixture: string; readonly chains: number };
    /** Fixture and chains of the tempered (VJP session only) figure. */
    readonly tempered: { readonly fixture: string; readonly chains: number };
  };
  readonly throughput: {
    readonly fixtures: readonly string[];
    readonly chains: readonly number[];
    /** Round-robin model calls over the batch sizes after loading a flow (wasm tier-up). */
    readonly flowWarmupMs: number;
  };
  readonly efficiency: {
    readonly fixture: string;
    readonly chains: number;
    readonly warmup: number;
    readonly draws: number;
    readonly seeds: readonly number[];
  };
  readonly memory: {
    readonly fixture: string;
    readonly chains: number;
    readonly firstStep: number;
    readonly lastStep: number;
    readonly every: number;
  };
  readonly race: {
    readonly enabled: boolean;
    readonly fixtures: readonly string[];
    readonly chains: readonly number[];
    readonly python: string;
    readonly checkRows: number;
    readonly pauseMs: number;
    readonly profileSteps: number;
    /** Thread counts of further races after the main one (`threads`), e.g. `[1]`. */
    readonly extraThreadCounts: readonly number[];
  };
}

const DEFAULT_CONFIG: BenchmarkConfig = {
  size: 'default',
  threads: 2,
  wasmThreads: 1,
  seed: 1,
  warmup: 2,
  repeats: 7,
  budgetMs: 150,
  overhead: { chains: 256, affineDim: 64, fixture: 'digits-glow', aim: 1.1, profileMs: 1500 },
  gradientCost: {
    fixtures: ['two-moons-realnvp', 'ring-realnvp', 'two-moons-nice', 'digits-glow'],
    chains: 256,
    aim: 3.5,
    profileCalls: 3,
  },
  spinning: {
    enabled: true,
    pullback: { fixture: 'two-moons-realnvp', chains: 16 },
    tempered: { fixture: 'digits-glow', chains: 256 },
  },
  throughput: {
    fixtures: ['two-moons-realnvp', 'digits-glow'],
    chains: [1, 16, 256, 4096],
    flowWarmupMs: 3000,
  },
  efficiency: {
    fixture: 'two-moons-realnvp',
    chains: 16,
    warmup: 500,
    draws: 1000,
    seeds: [1, 2, 3, 4, 5],
  },
  memory: {
    fixture: 'two-moons-realnvp',
    chains: 16,
    firstStep: 1000,
    lastStep: 20000,
    every: 1000,
  },
  race: {
    enabled: true,
    fixtures: ['two-moons-realnvp', 'digits-glow'],
    chains: [1, 16, 256, 4096],
    python: DEFAULT_PYTHON,
    checkRows: 64,
    pauseMs: 20,
    profileSteps: 3,
    extraThreadCounts: [1],
  },
};

const TINY_CONFIG: BenchmarkConfig = {
  ...DEFAULT_CONFIG,
  size: 'tiny',
  warmup: 1,
  repeats: 5,
  budgetMs: 5,
  overhead: { ...DEFAULT_CONFIG.overhead, chains: 16, profileMs: 50 },
  gradientCost: {
    ...DEFAULT_CONFIG.gradientCost,
    fixtures: ['two-moons-realnvp'],
    chains: 16,
    profileCalls: 1,
  },
  spinning: {
    enabled: true,
    pullback: { fixture: 'two-moons-realnvp', chains: 4 },
    tempered: { fixture: 'two-moons-realnvp', chains: 16 },
  },
  throughput: { fixtures: ['two-moons-realnvp'], chains: [1, 16], flowWarmupMs: 50 },
  efficiency: { ...DEFAULT_CONFIG.efficiency, chains: 4, warmup: 50, draws: 100 },
  memory: { ...DEFAULT_CONFIG.memory, chains: 4, firstStep: 50, lastStep: 200, every: 50 },
  race: {
    ...DEFAULT_CONFIG.race,
    fixtures: ['two-moons-realnvp'],
    chains: [1, 16],
    checkRows: 8,
    pauseMs: 1,
    profileSteps: 1,
    extraThreadCounts: [],
  },
};

/**
 * The configuration of a run of the given size, with optional overrides.
 *
 * @param size `default` (RESULTS.md) or `tiny` (a smoke run, seconds)
 * @param overrides fields to replace, e.g. `{ race: { ...config.race, enabled: false } }`
 * @example
 * ```ts
 * const config = benchmarkConfig('tiny', { threads: 1 });
 * ```
 */
export function benchmarkConfig(
  size: BenchSize,
  overrides: Partial<BenchmarkConfig> = {},
): BenchmarkConfig {
  return { ...(size === 'tiny' ? TINY_CONFIG : DEFAULT_CONFIG), ...overrides };
}

/** Options of a run that are not part of its configuration. */
export interface RunOptions {
  /** Receives one line per finished figure; the library itself never prints. */
  readonly onProgress?: (line: string) => void;
  /** Extra throughput sources, after the ONNX and tfjs ones. */
  readonly throughputSources?: readonly ThroughputSource[];
}
