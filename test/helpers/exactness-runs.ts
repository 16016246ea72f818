/**
 * The sampling runs of the exactness tests (`test/exactness.test.ts`), apart from their
 * assertions so that the tests and a calibration of their failure rate over many seeds draw with
 * exactly the same settings. Every run keeps one draw per chain, the state after its last
 * iteration; the chains are independent (one random stream each), so the draws are independent
 * up to the step size and diagonal preconditioner that warm-up adapts from all chains together.
 */
import {
  type DifferentiableFlow,
  RandomStream,
  couplingFlow2d,
  init,
  naive,
  pullback,
  sample,
  streamState,
  tempered,
} from '@latent-langevin/core';
import { finiteDifferenceFlow } from '@latent-langevin/finite-difference';
import { exactDraws, mixtureLogDensity } from './mixture.js';

export const exactFlow = couplingFlow2d();
export const finiteDifferenceCouplingFlow = finiteDifferenceFlow(
  (z, n) => exactFlow.forward(z, n),
  { latentDim: 2 },
);
export const mixtureTarget = pullback(mixtureLogDensity);

/** Chains of every run, hence draws of every check. */
export const CHAINS = 4000;
/**
 * Offset between a run's seed and the seed of its exact or naive reference draws, so that these
 * never come from the stream of one of the run's own chains.
 */
const REFERENCE_SEED_OFFSET = 1000;
/** Warm-up iterations of the runs that adapt. */
export const WARMUP = 300;

/** A configuration of the whole pipeline: default start, warm-up, then frozen iterations. */
export interface PipelineCase {
  /** For test titles: "latent MALA, identity preconditioner, no global moves, exact gradients". */
  readonly name: string;
  readonly kernel: 'mala' | 'rwm';
  readonly preconditioner: 'identity' | 'diagonal' | 'jacobian';
  readonly globalMoveProbability: number;
  /** Gradients of the flow: its own VJP, or central differences of its forward map. */
  readonly gradient: 'exact' | 'finite-difference';
  /** Frozen iterations after warm-up; the draw kept is the state after the last one. */
  readonly iterations: number;
}

/**
 * Frozen iterations each configuration needs to forget its start, by kernel, preconditioner and
 * global-move probability (see the header of `exactness.test.ts` for the measured relaxation).
 * Without global moves, identity and jacobian chains cross between the two lower modes rarely.
 */
const ITERATIONS: Record<string, number> = {
  'mala identity 0': 1800,
  'mala jacobian 0': 1000,
  'mala diagonal 0': 400,
  'mala identity 0.2': 600,
  'mala diagonal 0.2': 400,
  'mala jacobian 0.2': 400,
  'rwm identity 0': 400,
  'rwm identity 0.2': 400,
};

function pipelineCase(
  kernel: 'mala' | 'rwm',
  preconditioner: 'identity' | 'diagonal' | 'jacobian',
  globalMoveProbability: number,
  gradient: 'exact' | 'finite-difference',
): PipelineCase {
  const name = [
    kernel === 'mala' ? 'latent MALA' : 'random-walk Metropolis',
    `${preconditioner} preconditioner`,
    globalMoveProbability > 0 ? `global moves ${globalMoveProbability}` : 'no global moves',
    ...(kernel === 'mala' ? [`${gradient} gradients`] : []),
  ].join(', ');
  const iterations = ITERATIONS[`${kernel} ${preconditioner} ${globalMoveProbability}`];
  return { name, kernel, preconditioner, globalMoveProbability, gradient, iterations };
}

/** Every MALA preconditioner with and without global moves and both gradients, then RWM. */
export const PIPELINE_CASES: readonly PipelineCase[] = [
  ...(['identity', 'diagonal', 'jacobian'] as const).flatMap((preconditioner) =>
    [0, 0.2].flatMap((global) =>
      (['exact', 'finite-difference'] as const).map((gradient) =>
        pipelineCase('mala', preconditioner, global, gradient),
      ),
    ),
  ),
  pipelineCase('rwm', 'identity', 0, 'exact'),
  pipelineCase('rwm', 'identity', 0.2, 'exact'),
];

/**
 * Runs one pipeline configuration on the mixture target and returns `x` after the last
 * iteration of every chain, `[CHAINS, 2]`. `observe`, if given, sees `x` after every frozen
 * iteration `t` (1-based); it must not keep the view.
 */
export async function pipelineDraws(
  config: PipelineCase,
  seed: number,
  observe?: (t: number, x: Float32Array) => void,
): Promise<Float32Array> {
  const flow: DifferentiableFlow =
    config.gradient === 'exact' ? exactFlow : finiteDifferenceCouplingFlow;
  const sampler = await init(flow, {
    target: mixtureTarget,
    chains: CHAINS,
    warmup: WARMUP,
    seed,
    kernel: config.kernel,
    preconditioner: config.preconditioner,
    globalMoveProbability: config.globalMoveProbability,
  });
  for (let t = 0; t < WARMUP; t++) await sampler.step();
  for (let t = 1; t <= config.iterations; t++) {
    await sampler.step();
    observe?.(t, sampler.x);
  }
  return Float32Array.from(sampler.x);
}

/** A kernel with a fixed step size, for the runs started from exact draws. */
export interface FixedKernel {
  readonly kernel: 'mala' | 'rwm';
  readonly preconditioner: 'identity' | 'jacobian';
  readonly stepSize: number;
  readonly globalMoveProbability: number;
}

/** Iterations of the runs started from exact draws. */
export const GEWEKE_ITERATIONS = 100;

/**
 * Geweke-style run: `CHAINS` chains started at `z = f^-1(x)` for exact draws `x` of the mixture,
 * no warm-up, a fixed kernel; returns `x` after the last iteration, `[CHAINS, 2]`. An exact
 * kernel leaves the law of the states unchanged at every iteration.
 */
export async function gewekeDraws(kernel: FixedKernel, seed: number): Promise<Float32Array> {
  const start = exactDraws(CHAINS, seed + REFERENCE_SEED_OFFSET);
  const run = await sample(exactFlow, {
    target: mixtureTarget,
    chains: CHAINS,
    warmup: 0,
    draws: GEWEKE_ITERATIONS,
    seed,
    ...kernel,
    initialZ: exactFlow.inverse(start, CHAINS),
    keepX: true,
  });
  return lastDraws(run.x as Float32Array, CHAINS, GEWEKE_ITERATIONS);
}

/** Count of the naive draws that `tempered({ beta: 0 })` is compared with. */
export const NAIVE_COUNT = 20_000;

/**
 * Latent MALA on `tempered({ beta: 0 })`, whose latent target is `q_Z` itself: `x` after warm-up
 * and `GEWEKE_ITERATIONS` frozen iterations, `[CHAINS, 2]`, and `NAIVE_COUNT` naive draws of
 * `x = f(z)`, `z ~ q_Z`.
 */
export async function temperedAndNaiveDraws(
  seed: number,
): Promise<{ mcmc: Float32Array; naive: Float32Array }> {
  const run = await sample(exactFlow, {
    target: tempered({ beta: 0 }),
    chains: CHAINS,
    warmup: WARMUP,
    draws: GEWEKE_ITERATIONS,
    seed,
    keepX: true,
  });
  const reference = await naive(exactFlow, {
    count: NAIVE_COUNT,
    seed: seed + REFERENCE_SEED_OFFSET,
  });
  return {
    mcmc: lastDraws(run.x as Float32Array, CHAINS, GEWEKE_ITERATIONS),
    naive: reference.x,
  };
}

/** Row `draws - 1` of each chain of a `[chains, draws, width]` array, `[chains, width]`. */
function lastDraws(array: Float32Array, chains: number, draws: number, width = 2): Float32Array {
  const out = new Float32Array(chains * width);
  for (let i = 0; i < chains; i++) {
    const row = (i * draws + draws - 1) * width;
    out.set(array.subarray(row, row + width), i * width);
  }
  return out;
}

/**
 * Faults that can be switched on in {@link referenceMala}: the proposal correction left out, and
 * a drift whose gradient has the wrong sign while the correction is computed as the equations say.
 * (A sign flipped consistently, in the drift and in both proposal densities, keeps the kernel
 * exact, only slow: exactness holds for any deterministic drift, which is also why
 * finite-difference gradients are safe.)
 */
export type MalaFault = 'none' | 'no-proposal-correction' | 'wrong-sign-drift';

/** Step size and iterations of {@link referenceMala} runs. */
export const REFERENCE_STEP_SIZE = 0.6;
export const REFERENCE_ITERATIONS = 25;

/**
 * A plain MALA on the mixture pullback target, written from the equations in float64, started
 * from `CHAINS` exact draws with step size `REFERENCE_STEP_SIZE`; returns `x` after
 * `REFERENCE_ITERATIONS` iterations, `[CHAINS, 2]`.
 */
export function referenceMala(fault: MalaFault, seed: number): Float64Array {
  const chains = CHAINS;
  const h = REFERENCE_STEP_SIZE;
  const maps = exactFlow.float64;
  const start = exactDraws(chains, seed + REFERENCE_SEED_OFFSET);
  const z = Float64Array.from(exactFlow.inverse(start, chains));
  const evaluate = (point: Float64Array, count: number) => {
    const forward = maps.forward(point, count);
    const density = mixtureLogDensity(forward.x, count);
    const logPi = new Float64Array(count);
    for (let i = 0; i < count; i++) logPi[i] = density.logDensity[i] + forward.logDet[i];
    const grad = maps.vjp(point, count, {
      x: density.gradient,
      logDet: new Float64Array(count).fill(1),
    }).z;
    return { logPi, grad, x: forward.x };
  };

  const random = new RandomStream(streamState(seed, 0));
  let state = evaluate(z, chains);
  const proposal = new Float64Array(2 * chains);
  const logForward = new Float64Array(chains);
  const sign = fault === 'wrong-sign-drift' ? -1 : 1;
  for (let t = 0; t < REFERENCE_ITERATIONS; t++) {
    for (let i = 0; i < chains; i++) {
      logForward[i] = 0;
      for (let j = 0; j < 2; j++) {
        const k = 2 * i + j;
        proposal[k] = z[k] + sign * 0.5 * h * state.grad[k] + Math.sqrt(h) * random.normal();
        // The correction as written in the equations, with the true gradient.
        const mean = z[k] + 0.5 * h * state.grad[k];
        logForward[i] -= (proposal[k] - mean) ** 2 / (2 * h);
      }
    }
    const next = evaluate(proposal, chains);
    for (let i = 0; i < chains; i++) {
      let logReverse = 0;
      for (let j = 0; j < 2; j++) {
        const k = 2 * i + j;
        logReverse -= (z[k] - proposal[k] - 0.5 * h * next.grad[k]) ** 2 / (2 * h);
      }
      const correction = fault === 'no-proposal-correction' ? 0 : logReverse - logForward[i];
      const logAccept = next.logPi[i] - state.logPi[i] + correction;
      if (Math.log(random.uniform()) < logAccept) {
        for (let j = 0; j < 2; j++) z[2 * i + j] = proposal[2 * i + j];
      }
    }
    state = evaluate(z, chains);
  }
  return state.x;
}
