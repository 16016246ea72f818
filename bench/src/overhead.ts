/**
 * Core overhead: the time of one latent MALA step (`sampler.step()`) over the time of the model
 * calls it makes, those same `flow.vjp` calls on the same batch timed alone. On a cheap analytic
 * flow the core dominates and the ratio is large; on a real model it should be close to 1.
 */
import { type DifferentiableFlow, init, tempered } from '@latent-langevin/core';
import { type FunctionShare, profileCalls } from './cpu-profile.js';
import { instrumentFlow, instrumentTarget, newCallTimes, resetCallTimes } from './instrument.js';
import { type Spread, spreadOf } from './spread.js';
import { callsForBudget, warmUp } from './timing.js';

/** Settings of {@link measureCoreOverhead}. */
export interface OverheadOptions {
  /** Chains, the batch of every model call. */
  readonly chains: number;
  readonly seed: number;
  /** Untimed steps (and VJPs) before the first repeat. */
  readonly warmup: number;
  /** Timed repeats, each `callsPerRepeat` steps then as many VJPs alone. */
  readonly repeats: number;
  /** Wall time one repeat of steps should take, which sets `callsPerRepeat`. */
  readonly budgetMs: number;
  /** The ratio the issue aims at (at most), or null for none. */
  readonly aim: number | null;
  /** Wall time to run steps under the V8 CPU profiler after the timings; 0 for no profile. */
  readonly profileMs: number;
}

/** Where one step's time goes, per step: model calls, target arithmetic, sampler arithmetic. */
export interface StepBreakdown {
  /** `flow.vjp` and `flow.forward` inside the step. */
  readonly modelMs: Spread;
  /** The target's own work around the model calls (log q_Z, gradient assembly). */
  readonly targetMs: Spread;
  /** The sampler's work: proposal draws, proposal densities, accept/reject, row copies. */
  readonly samplerMs: Spread;
}

/** The overhead figure of one flow at one batch size. */
export interface OverheadFigure {
  /** Which flow, e.g. `affineFlow (identity, d = 64)`. */
  readonly flow: string;
  /** Where it runs, e.g. `analytic (TypeScript)` or `onnxruntime-node/cpu`. */
  readonly backend: string;
  readonly target: string;
  readonly chains: number;
  readonly latentDim: number;
  readonly callsPerRepeat: number;
  /** Milliseconds per `sampler.step()`. */
  readonly stepMs: Spread;
  /** Milliseconds per `flow.vjp` on the same batch and cotangent, timed alone. */
  readonly modelMs: Spread;
  /** `stepMs / modelMs`, paired repeat by repeat. */
  readonly ratio: Spread;
  readonly breakdown: StepBreakdown;
  readonly aim: number | null;
  /** Whether the median ratio is at most the aim; null without an aim. */
  readonly meetsAim: boolean | null;
  /** Functions with the most self time per step (V8 CPU profile); null when not profiled. */
  readonly profile: readonly FunctionShare[] | null;
  /** Steps the profile covers. */
  readonly profileSteps: number;
}

/**
 * Measures the core's overhead on `flow` with the target `tempered({ beta: 1 })`: repeats of
 * `k` steps, each followed by `k` calls of `flow.vjp` on the chains' current points with the
 * cotangent the target passes (`logDet = -1`), so each ratio pairs timings taken under the
 * same load.
 *
 * @param flow the flow; it is not disposed
 * @param label how to name the flow and its backend in the results
 * @param options chains, seed, warm-up, repeats, time budget, aim
 * @throws whatever `init()` or the flow throws
 * @example
 * ```ts
 * const figure = await measureCoreOverhead(affineFlow({ scale: ones }), label, options);
 * console.log(figure.ratio.median);
 * ```
 */
export async function measureCoreOverhead(
  flow: DifferentiableFlow,
  label: { readonly flow: string; readonly backend: string },
  options: OverheadOptions,
): Promise<OverheadFigure> {
  const n = options.chains;
  const times = newCallTimes();
  const target = tempered({ beta: 1 });
  const sampler = await init(instrumentFlow(flow, times), {
    target: instrumentTarget(target, times),
    chains: n,
    seed: options.seed,
    warmup: 0,
  });
  // The model call alone runs on the chains' current points, copied after every step, so that
  // it sees the same region of latent space as the step's proposals. Steps and model calls
  // alternate one by one, so that both sample the same stretch of machine load.
  const z = Float32Array.from(sampler.z);
  const cotangent = { logDet: new Float32Array(n).fill(-1) };
  const vjp = () => flow.vjp(z, n, cotangent);

  await warmUp(vjp, options.warmup, options.budgetMs / 2);
  const calls = callsForBudget(
    await warmUp(() => sampler.step(), options.warmup, options.budgetMs / 2),
    options.budgetMs,
  );

  const step: number[] = [];
  const model: number[] = [];
  const ratio: number[] = [];
  const parts = { model: [] as number[], target: [] as number[], sampler: [] as number[] };
  for (let r = 0; r < options.repeats; r++) {
    resetCallTimes(times);
    let stepSum = 0;
    let modelSum = 0;
    for (let k = 0; k < calls; k++) {
      let started = performance.now();
      await sampler.step();
      stepSum += performance.now() - started;
      z.set(sampler.z);
      started = performance.now();
      await vjp();
      modelSum += performance.now() - started;
    }
    const stepMs = stepSum / calls;
    const modelMs = modelSum / calls;
    const modelInStep = (times.vjpMs + times.forwardMs) / calls;
    parts.model.push(modelInStep);
    parts.target.push(times.targetMs / calls - modelInStep);
    parts.sampler.push(stepMs - times.targetMs / calls);
    step.push(stepMs);
    model.push(modelMs);
    ratio.push(stepMs / modelMs);
  }

  const profileSteps = callsForBudget(spreadOf(step).median, options.profileMs, 100_000);
  const profile =
    options.profileMs > 0 ? await profileCalls(() => sampler.step(), profileSteps, 40) : null;
  const ratioSpread = spreadOf(ratio);
  return {
    flow: label.flow,
    backend: label.backend,
    target: target.name,
    chains: n,
    latentDim: flow.latentDim,
    callsPerRepeat: calls,
    stepMs: spreadOf(step),
    modelMs: spreadOf(model),
    ratio: ratioSpread,
    breakdown: {
      modelMs: spreadOf(parts.model),
      targetMs: spreadOf(parts.target),
      samplerMs: spreadOf(parts.sampler),
    },
    aim: options.aim,
    meetsAim: options.aim === null ? null : ratioSpread.median <= options.aim,
    profile,
    profileSteps: profile === null ? 0 : profileSteps,
  };
}
