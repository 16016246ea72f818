/**
 * Gradient cost of a fixture on ONNX Runtime: the time of the VJP graph over the time of the
 * forward graph on the same batch, and the time of a finite-difference VJP over the autodiff
 * one for the same gradient (a finite-difference VJP costs `2d + 1`
 * forward rows a point).
 */
import { RandomStream, streamState } from '@latent-langevin/core';
import { type FixtureName, type OnnxBackend, loadFixture } from './fixtures.js';
import { type OnnxProfile, profileOnnx } from './onnx-profile.js';
import { type Spread, spreadOf } from './spread.js';
import { callsForBudget, timeInterleaved, warmUp } from './timing.js';

/** Settings of {@link measureGradientCost}. */
export interface GradientCostOptions {
  readonly backend: OnnxBackend;
  /** Rows of the batch. */
  readonly chains: number;
  readonly threads: number;
  readonly seed: number;
  readonly warmup: number;
  readonly repeats: number;
  /** Wall time one repeat of the forward graph should take, which sets the calls per repeat. */
  readonly budgetMs: number;
  /** The VJP-over-forward ratio the issue aims at (at most), or null. */
  readonly aim: number | null;
  /** Calls of each graph to profile when the aim is missed; 0 for no profile. */
  readonly profileCalls: number;
}

/** The gradient cost of one fixture at one batch size. */
export interface GradientCostFigure {
  readonly fixture: FixtureName;
  readonly backend: OnnxBackend;
  readonly chains: number;
  readonly latentDim: number;
  /** Milliseconds per forward call (`x`, `logDet`). */
  readonly forwardMs: Spread;
  /** Milliseconds per VJP-graph call (forward outputs and the gradient). */
  readonly vjpMs: Spread;
  /** Milliseconds per finite-difference VJP of the same cotangent. */
  readonly finiteDifferenceMs: Spread;
  /** `vjpMs / forwardMs`, paired repeat by repeat. */
  readonly vjpOverForward: Spread;
  /** `finiteDifferenceMs / vjpMs`, paired repeat by repeat. */
  readonly finiteDifferenceOverAutodiff: Spread;
  /**
   * Relative error of the finite-difference gradient per row, `|g_fd - g_ad| / |g_ad|`
   * (Euclidean norms), over the rows where both are finite: its median and its largest value.
   */
  readonly finiteDifferenceError: { readonly medianRow: number; readonly maxRow: number };
  /** Rows of the batch where the model itself returns a non-finite value (left out above). */
  readonly nonFiniteRows: number;
  readonly aim: number | null;
  readonly meetsAim: boolean | null;
  /** Operator times of both graphs when the aim is missed (and profiling is on), else null. */
  readonly profile: OnnxProfile | null;
}

/**
 * Measures the forward, VJP-graph and finite-difference VJP times of a fixture on a batch of
 * standard normal latents with a standard normal cotangent on `x` and `logDet`, interleaved
 * within every repeat.
 *
 * @throws whatever loading or running the model throws
 * @example
 * ```ts
 * const figure = await measureGradientCost('digits-glow', { backend: 'onnxruntime-node/cpu',
 *   chains: 256, threads: 2, seed: 1, warmup: 2, repeats: 7, budgetMs: 200, aim: 3.5 });
 * ```
 */
export async function measureGradientCost(
  fixture: FixtureName,
  options: GradientCostOptions,
): Promise<GradientCostFigure> {
  const load = { backend: options.backend, threads: options.threads };
  const autodiff = await loadFixture(fixture, { ...load, gradient: 'autodiff' });
  const finite = await loadFixture(fixture, { ...load, gradient: 'finite-difference' });
  try {
    const n = options.chains;
    const d = autodiff.latentDim;
    const random = new RandomStream(streamState(options.seed, 0));
    const z = new Float32Array(n * d).map(() => random.normal());
    const cotangent = {
      x: new Float32Array(n * d).map(() => random.normal()),
      logDet: new Float32Array(n).map(() => random.normal()),
    };
    const forward = () => autodiff.forward(z, n);
    const vjp = () => autodiff.vjp(z, n, cotangent);
    const fd = () => finite.vjp(z, n, cotangent);

    const exact = (await vjp()).z;
    const approximate = (await fd()).z;
    const rowErrors: number[] = [];
    let nonFiniteRows = 0;
    for (let i = 0; i < n; i++) {
      let difference = 0;
      let norm = 0;
      for (let j = i * d; j < (i + 1) * d; j++) {
        difference += (exact[j] - approximate[j]) ** 2;
        norm += exact[j] ** 2;
      }
      if (Number.isFinite(difference) && Number.isFinite(norm)) {
        rowErrors.push(Math.sqrt(difference / Math.max(norm, Number.MIN_VALUE)));
      } else {
        nonFiniteRows += 1;
      }
    }
    const errors = spreadOf(rowErrors);

    await warmUp(forward, options.warmup, options.budgetMs / 2);
    const calls = callsForBudget(
      await warmUp(vjp, options.warmup, options.budgetMs / 2),
      options.budgetMs,
    );
    const [forwardMs, vjpMs] = await timeInterleaved([forward, vjp], {
      warmup: 0,
      repeats: options.repeats,
      callsPerRepeat: calls,
    });
    const fdCalls = callsForBudget(await warmUp(fd, 1, 0), options.budgetMs);
    const [fdMs, vjpAgainMs] = await timeInterleaved([fd, vjp], {
      warmup: 0,
      repeats: options.repeats,
      callsPerRepeat: fdCalls,
    });
    const ratio = spreadOf(vjpMs.map((v, r) => v / forwardMs[r]));
    const missed = options.aim !== null && ratio.median > options.aim;
    const profile =
      missed && options.profileCalls > 0 && options.backend === 'onnxruntime-node/cpu'
        ? await profileOnnx(fixture, n, options.threads, options.profileCalls)
        : null;
    return {
      fixture,
      backend: options.backend,
      chains: n,
      latentDim: d,
      forwardMs: spreadOf(forwardMs),
      vjpMs: spreadOf(vjpMs),
      finiteDifferenceMs: spreadOf(fdMs),
      vjpOverForward: ratio,
      finiteDifferenceOverAutodiff: spreadOf(fdMs.map((v, r) => v / vjpAgainMs[r])),
      finiteDifferenceError: { medianRow: errors.median, maxRow: errors.max },
      nonFiniteRows,
      aim: options.aim,
      meetsAim: options.aim === null ? null : !missed,
      profile,
    };
  } finally {
    await autodiff.dispose();
    await finite.dispose();
  }
}
