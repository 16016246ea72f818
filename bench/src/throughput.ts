/**
 * Throughput: chain-steps per second of latent MALA (`sampler.step()`, all chains in one batch)
 * for several batch sizes, per adapter and backend. Each adapter contributes its rows through a
 * {@link ThroughputSource} (the ONNX one here, TensorFlow.js in `tfjs-hook.ts`), so that each
 * plugs in without touching the others.
 */
import {
  type DifferentiableFlow,
  type LatentTarget,
  RandomStream,
  init,
  streamState,
} from '@latent-langevin/core';
import { type FixtureName, type OnnxBackend, loadFixture } from './fixtures.js';
import { type Spread, spreadOf } from './spread.js';
import { callsForBudget, timeRepeats, warmUp } from './timing.js';

/** One line of the throughput table. */
export interface ThroughputRow {
  /** Adapter, e.g. `onnx` or `tfjs`. */
  readonly adapter: string;
  /** Runtime and backend, e.g. `onnxruntime-node/cpu`, `onnxruntime-web/wasm`, `tfjs/wasm`. */
  readonly backend: string;
  readonly fixture: FixtureName;
  /** Threads the runtime was given, or null when not known. */
  readonly threads: number | null;
  readonly chains: number;
  /** Chain-steps per second (`chains / step time`); null when not measured. */
  readonly chainStepsPerSecond: Spread | null;
  /** Milliseconds per step of all chains; null when not measured. */
  readonly stepMs: Spread | null;
  /** Steps timed together in one repeat. */
  readonly stepsPerRepeat: number;
  /** What the table shows in place of a figure when not measured; default `not measured`. */
  readonly missing?: string;
  /** Why a row was not measured, or what to know about it. */
  readonly note?: string;
}

/** What every throughput source is asked to measure. */
export interface ThroughputOptions {
  /** Fixtures to run, by directory name. */
  readonly fixtures: readonly FixtureName[];
  /** Batch sizes, e.g. `[1, 16, 256, 4096]`. */
  readonly chains: readonly number[];
  /** The latent target of every run. */
  readonly target: () => LatentTarget;
  /** Fixed step size per fixture (no adaptation), so every batch does the same work. */
  readonly stepSizes: Readonly<Record<FixtureName, number>>;
  /** Threads for runtimes that take a count. */
  readonly threads: number;
  readonly seed: number;
  readonly warmup: number;
  readonly repeats: number;
  /** Wall time one repeat should take, which sets the steps per repeat. */
  readonly budgetMs: number;
  /**
   * Wall time of model calls on every batch size, round robin, right after a flow is loaded.
   * V8 compiles WebAssembly lazily and tiers hot functions up only after many calls, so the
   * wasm backend needs seconds before it reaches its steady speed.
   */
  readonly flowWarmupMs: number;
}

/**
 * A producer of throughput rows: one adapter on one or more backends. Its `rows` must not write
 * to the console; it reports each finished figure through `onProgress`.
 */
export interface ThroughputSource {
  /** Name shown in progress lines, e.g. `onnx (onnxruntime-node/cpu)`. */
  readonly name: string;
  rows(options: ThroughputOptions, onProgress: (line: string) => void): Promise<ThroughputRow[]>;
}

/**
 * Chain-steps per second of `sampler.step()` on `flow` for one batch size: a sampler with a
 * fixed step size and no warm-up adaptation, timed over `repeats` repeats of as many steps as
 * fill `budgetMs`.
 *
 * @returns the figure and the steps per repeat
 * @example
 * ```ts
 * const { chainStepsPerSecond } = await samplerThroughput(flow, 256, options, 'digits-glow');
 * ```
 */
export async function samplerThroughput(
  flow: DifferentiableFlow,
  chains: number,
  options: ThroughputOptions,
  fixture: FixtureName,
): Promise<{ chainStepsPerSecond: Spread; stepMs: Spread; stepsPerRepeat: number }> {
  const sampler = await init(flow, {
    target: options.target(),
    chains,
    seed: options.seed,
    warmup: 0,
    stepSize: options.stepSizes[fixture],
    adaptStepSize: false,
  });
  const callMs = await warmUp(() => sampler.step(), options.warmup, options.budgetMs);
  const steps = callsForBudget(callMs, options.budgetMs);
  const times = await timeRepeats(() => sampler.step(), {
    warmup: 0,
    repeats: options.repeats,
    callsPerRepeat: steps,
  });
  const stepMs = spreadOf(times);
  return {
    chainStepsPerSecond: spreadOf(times.map((ms) => (1000 * chains) / ms)),
    stepMs,
    stepsPerRepeat: steps,
  };
}

/**
 * The throughput source of the ONNX adapter on one backend (onnxruntime-node on CPU, or
 * onnxruntime-web on wasm), with gradients from the adapter's VJP graph.
 *
 * @param backend where the sessions run
 * @param threads threads the backend really uses, for the table (wasm: set process-wide)
 * @example
 * ```ts
 * const rows = await onnxThroughputSource('onnxruntime-node/cpu', 2).rows(options, log);
 * ```
 */
export function onnxThroughputSource(
  backend: OnnxBackend,
  threads: number | null,
): ThroughputSource {
  return {
    name: `onnx (${backend})`,
    async rows(options, onProgress) {
      const rows: ThroughputRow[] = [];
      for (const fixture of options.fixtures) {
        const flow = await loadFixture(fixture, {
          backend,
          gradient: 'autodiff',
          threads: options.threads,
        });
        try {
          await warmUpFlow(flow, options.chains, options.flowWarmupMs);
          for (const chains of options.chains) {
            const figure = await samplerThroughput(flow, chains, options, fixture);
            rows.push({ adapter: 'onnx', backend, fixture, threads, chains, ...figure });
            onProgress(
              `throughput onnx ${backend} ${fixture} ${chains} chains: ` +
                `${figure.chainStepsPerSecond.median.toFixed(0)} chain-steps/s`,
            );
          }
        } finally {
          await flow.dispose();
        }
      }
      return rows;
    },
  };
}

/**
 * Calls `flow.vjp` (with the tempered cotangent) on a batch of every size in turn until
 * `warmupMs` have passed, each size at least once, so that JIT and wasm tier-up happen before
 * any timing.
 *
 * @param sizes batch sizes, e.g. `[1, 16, 256, 4096]`
 * @param warmupMs wall time of the round robin, milliseconds
 * @example
 * ```ts
 * await warmUpFlow(flow, [1, 16, 256], 3000);
 * ```
 */
export async function warmUpFlow(
  flow: DifferentiableFlow,
  sizes: readonly number[],
  warmupMs: number,
): Promise<void> {
  const random = new RandomStream(streamState(0, 0));
  const batches = sizes.map((n) => ({
    n,
    z: new Float32Array(n * flow.latentDim).map(() => random.normal()),
    cotangent: { logDet: new Float32Array(n).fill(-1) },
  }));
  const started = performance.now();
  for (let round = 0; round === 0 || performance.now() - started < warmupMs; round++) {
    for (const { n, z, cotangent } of batches) await flow.vjp(z, n, cotangent);
  }
}
