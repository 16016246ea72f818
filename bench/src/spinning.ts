/**
 * ONNX Runtime's thread spinning: after a run, its intra-op threads spin for a while waiting for
 * more work (`session.intra_op.allow_spinning`, on by default). The ONNX adapter keeps one
 * session for the forward graph and one for the VJP graph, each with its own thread pool, so a
 * step that calls both (a pullback target) has one pool spinning while the other works; on a
 * machine with few cores, or shared with other jobs, the spinning takes the cores the working
 * pool needs. This figure times the same steps with spinning on (the adapter's default) and off.
 */
import { type LatentTarget, init } from '@latent-langevin/core';
import { type FixtureName, type LoadFixtureOptions, loadFixture } from './fixtures.js';
import { type Spread, spreadOf } from './spread.js';
import { callsForBudget, pause, warmUp } from './timing.js';

/** ONNX Runtime session options that turn intra-op spinning off. */
export const NO_SPINNING = { extra: { session: { intra_op: { allow_spinning: '0' } } } } as const;

/** Settings of {@link measureSpinning}. */
export interface SpinningOptions {
  readonly chains: number;
  readonly threads: number;
  readonly seed: number;
  readonly stepSize: number;
  readonly warmup: number;
  readonly repeats: number;
  readonly budgetMs: number;
  /** Idle time before every block of steps, so that the other flow's threads stop spinning. */
  readonly pauseMs: number;
}

/** Step times of one target with ONNX Runtime's spinning on and off. */
export interface SpinningFigure {
  readonly fixture: FixtureName;
  readonly target: string;
  readonly chains: number;
  /** Model calls per step: 1 (tempered: the VJP session) or 2 (pullback: forward, then VJP). */
  readonly callsPerStep: number;
  /** Milliseconds per step with the adapter's default (spinning on). */
  readonly spinningMs: Spread;
  /** Milliseconds per step with `session.intra_op.allow_spinning = '0'`. */
  readonly noSpinningMs: Spread;
  /** `spinningMs / noSpinningMs`, paired repeat by repeat: above 1, spinning costs time. */
  readonly ratio: Spread;
}

/**
 * Times `sampler.step()` on two copies of a fixture, one with the adapter's default session
 * options and one with spinning off: in every repeat, one block of steps on each, each block
 * after an idle pause and `budgetMs` of untimed steps.
 *
 * @param target a factory of the latent target
 * @throws whatever loading the fixture or sampling throws
 * @example
 * ```ts
 * const figure = await measureSpinning('two-moons-realnvp', () => pullback(density), 2, opts);
 * ```
 */
export async function measureSpinning(
  fixture: FixtureName,
  target: () => LatentTarget,
  callsPerStep: number,
  options: SpinningOptions,
): Promise<SpinningFigure> {
  const base: LoadFixtureOptions = {
    backend: 'onnxruntime-node/cpu',
    gradient: 'autodiff',
    threads: options.threads,
  };
  const spinning = await loadFixture(fixture, base);
  const quiet = await loadFixture(fixture, { ...base, sessionOptions: NO_SPINNING });
  try {
    const samplers = [];
    for (const flow of [spinning, quiet]) {
      samplers.push(
        await init(flow, {
          target: target(),
          chains: options.chains,
          seed: options.seed,
          warmup: 0,
          stepSize: options.stepSize,
          adaptStepSize: false,
        }),
      );
    }
    const steps = samplers.map((s) => () => s.step());
    await warmUp(steps[0], options.warmup, options.budgetMs / 2);
    const calls = callsForBudget(
      await warmUp(steps[1], options.warmup, options.budgetMs / 2),
      options.budgetMs,
    );
    // Blocks of steps, not single steps, alternate: a pool that spins after the last call of
    // one block would otherwise take the cores from the other flow's next call, so each block
    // starts after an idle pause. Spinning costs most in continuous sampling, once the spinning
    // thread has used up its share of the CPU, so each block runs untimed steps for a while
    // before the timed ones.
    const on: number[] = [];
    const off: number[] = [];
    for (let r = 0; r < options.repeats; r++) {
      for (const [k, out] of [on, off].entries()) {
        await pause(options.pauseMs);
        await warmUp(steps[k], 1, options.budgetMs);
        const started = performance.now();
        for (let c = 0; c < calls; c++) await steps[k]();
        out.push((performance.now() - started) / calls);
      }
    }
    return {
      fixture,
      target: samplers[0].target.name,
      chains: options.chains,
      callsPerStep,
      spinningMs: spreadOf(on),
      noSpinningMs: spreadOf(off),
      ratio: spreadOf(on.map((ms, r) => ms / off[r])),
    };
  } finally {
    await spinning.dispose();
    await quiet.dispose();
  }
}
