/**
 * One run of the demo: naive draws `f(z)`, `z ~ N(0, I)`, then latent MALA on the tempered
 * density `q_Z(z) |det J_f(z)|^-beta`, iteration by iteration so that the page can draw the
 * chains as they move. It touches no DOM: the page passes callbacks.
 */
import {
  type DifferentiableFlow,
  type PhaseCounters,
  dataSize,
  init,
  naive,
  tempered,
} from '@latent-langevin/core';

/** What the controls set. */
export interface DemoSettings {
  /** Chains, advanced together in one batched model call; integer in [1, 1024]. */
  readonly chains: number;
  /** Tempering exponent beta >= 0; 1 is the flow's own density, 0 its base density. */
  readonly beta: number;
  /** Draws kept per chain after warm-up; integer >= 1. */
  readonly steps: number;
  /** Warm-up iterations (step size adaptation); integer >= 0. */
  readonly warmup: number;
  /** Seed of the run; integer >= 0. */
  readonly seed: number;
}

/** Where a run stands, reported a few times a second. */
export interface DemoProgress {
  readonly phase: 'warmup' | 'sampling';
  /** Iterations done in this phase. */
  readonly iteration: number;
  /** Iterations of this phase. */
  readonly total: number;
  /** Acceptance rate of this phase so far. */
  readonly acceptance: number;
  readonly stepSize: number;
  /** Draws (chains x iterations) per second over the run so far. */
  readonly drawsPerSecond: number;
}

/** What a finished run reports. */
export interface DemoResult {
  /** Acceptance rate of the sampling phase, in [0, 1]. */
  readonly acceptance: number;
  /** Step size after warm-up. */
  readonly stepSize: number;
  /** Draws kept, chains x steps. */
  readonly draws: number;
  readonly seconds: number;
}

/** How the page follows a run. */
export interface DemoCallbacks {
  /** The naive draws `[count, 2]`, once, before sampling. */
  onNaive(x: Float32Array, count: number): void;
  /** During warm-up: the chains' current points `[chains, 2]`. */
  onWarmup(x: Float32Array, chains: number): void;
  /** During sampling: rows `from` to `to` of the kept draws `[chains x steps, 2]` are new. */
  onDraws(x: Float32Array, from: number, to: number): void;
  onProgress(progress: DemoProgress): void;
}

/** Least time between two paints, in milliseconds. */
const FRAME_MS = 40;

function rate(counters: PhaseCounters): number {
  let accepted = 0;
  let proposed = 0;
  for (let i = 0; i < counters.localProposals.length; i++) {
    accepted += counters.localAccepted[i];
    proposed += counters.localProposals[i];
  }
  return proposed > 0 ? accepted / proposed : Number.NaN;
}

/** Lets the browser paint and handle input between iterations. */
const yieldToBrowser = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * Runs naive sampling and latent MALA on a 2-D flow, reporting draws as they come.
 *
 * @param flow a flow with `dataShape` `[2]`
 * @param settings chains, beta, steps, warm-up and seed
 * @param callbacks receive the draws and the progress
 * @param signal stops the run between two iterations; the promise then rejects with its reason
 * @returns the sampling phase's acceptance rate and the final step size
 * @throws Error when the flow's data are not 2-D; the library's errors otherwise
 */
export async function runDemo(
  flow: DifferentiableFlow,
  settings: DemoSettings,
  callbacks: DemoCallbacks,
  signal?: AbortSignal,
): Promise<DemoResult> {
  if (dataSize(flow.dataShape) !== 2) {
    throw new Error(`runDemo(): the demo draws 2-D data; this flow's x is [${flow.dataShape}].`);
  }
  const { chains, steps, warmup, seed } = settings;
  const started = performance.now();

  const naiveDraws = await naive(flow, { count: chains * steps, seed: seed + 1 });
  callbacks.onNaive(naiveDraws.x, naiveDraws.count);
  await yieldToBrowser();

  const sampler = await init(flow, {
    target: tempered({ beta: settings.beta }),
    chains,
    warmup,
    seed,
  });
  // Kept draws in iteration-major order, so that the rows drawn so far cover every chain.
  const draws = new Float32Array(chains * steps * 2);
  let drawn = 0;
  let kept = 0;
  let lastFrame = performance.now();

  const report = () => {
    const phase = sampler.phase;
    const done = sampler.iteration;
    callbacks.onProgress({
      phase,
      iteration: phase === 'warmup' ? done : done - warmup,
      total: phase === 'warmup' ? warmup : steps,
      acceptance: rate(phase === 'warmup' ? sampler.counters.warmup : sampler.counters.sampling),
      stepSize: sampler.stepSize,
      drawsPerSecond: (chains * done) / ((performance.now() - started) / 1000),
    });
  };

  while (sampler.iteration < warmup + steps) {
    if (signal?.aborted === true) throw signal.reason;
    const info = await sampler.step();
    if (info.phase === 'sampling') {
      draws.set(sampler.x, kept * 2);
      kept += chains;
    }
    const last = sampler.iteration === warmup + steps;
    if (last || performance.now() - lastFrame >= FRAME_MS) {
      if (info.phase === 'warmup') {
        callbacks.onWarmup(sampler.x, chains);
      } else {
        callbacks.onDraws(draws, drawn, kept);
        drawn = kept;
      }
      report();
      await yieldToBrowser();
      lastFrame = performance.now();
    }
  }
  report();

  return {
    acceptance: rate(sampler.counters.sampling),
    stepSize: sampler.stepSize,
    draws: kept,
    seconds: (performance.now() - started) / 1000,
  };
}
