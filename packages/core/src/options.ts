/**
 * Options of the sampler. They are validated once at the boundary (see `parse-options.ts`);
 * the hot loop trusts them.
 */
import type { SamplerCheckpoint } from './checkpoint.js';
import type { LatentTarget } from './targets.js';

/** Largest latent dimension the `jacobian` preconditioner accepts unless `maxDim` is raised. */
export const DEFAULT_JACOBIAN_MAX_DIM = 64;

/** Preconditioner `M` of the proposal `N(z + h/2 M grad, h M)`. */
export type PreconditionerOption =
  | 'identity'
  | 'diagonal'
  | 'jacobian'
  | { readonly type: 'identity' }
  | { readonly type: 'diagonal' }
  | {
      readonly type: 'jacobian';
      /** `lambda` in `M = (J^T J + lambda I)^-1`; default 1e-3. */
      readonly damping?: number;
      /** Largest `d` accepted; default {@link DEFAULT_JACOBIAN_MAX_DIM}. */
      readonly maxDim?: number;
    };

/** Progress of a run, reported after every iteration. */
export interface SampleProgress {
  readonly phase: 'warmup' | 'sampling';
  /** Iterations done in this phase. */
  readonly iteration: number;
  /** Iterations this phase has in all. */
  readonly total: number;
  /** Mean acceptance probability of the last iteration, over chains. */
  readonly acceptance: number;
  readonly stepSize: number;
  /** Milliseconds since the run (or the resumed run) started. */
  readonly elapsedMs: number;
}

/** Options shared by {@link init} and {@link sample}. */
export interface SamplerOptions {
  /** Latent target, from `base()`, `tempered()`, `pullback()` or `custom()`. */
  readonly target: LatentTarget;
  /** Number of chains, advanced together in one batched model call; integer >= 1. */
  readonly chains: number;
  /** Seed of the generator, an integer in [0, 2^53). */
  readonly seed: number;
  /** Warm-up iterations (adaptation on), integer >= 0; default 500. */
  readonly warmup?: number;
  /** `mala` (default) or `rwm`, random-walk Metropolis (a baseline, no gradient). */
  readonly kernel?: 'mala' | 'rwm';
  /** Default `identity`; `jacobian` is for MALA and small `d` only. */
  readonly preconditioner?: PreconditionerOption;
  /** Initial step size `h > 0`; by default found by a doubling search. */
  readonly stepSize?: number;
  /** Whether warm-up tunes the step size; default true. */
  readonly adaptStepSize?: boolean;
  /** Mean acceptance warm-up aims at; default 0.574 for MALA, 0.234 for random walk. */
  readonly targetAcceptance?: number;
  /** Probability in [0, 1) of an independence move from `q_Z` at each iteration; default 0. */
  readonly globalMoveProbability?: number;
  /** Initial latent points `[chains, d]`; by default drawn from `q_Z`. */
  readonly initialZ?: ArrayLike<number>;
  /**
   * Index of the first chain's random stream, an integer >= 0; default 0. Chain `k` draws from
   * stream `chainOffset + k` of the seed, so chains `[a, b)` of a run can be run by another
   * sampler with `chains: b - a, chainOffset: a` (and rows `[a, b)` of `initialZ`, if any).
   * Its draws are then those of the same chains in the whole run, bit for bit, when tuning is
   * frozen: `stepSize` is given, and either `warmup` is 0 or `adaptStepSize` is false, the
   * preconditioner is not `diagonal` and `relocateStuckAfter` is 0; the flow must also compute
   * each row the same whatever the batch size. Otherwise they differ in general: the initial
   * step-size search, dual averaging, the diagonal estimate and relocation average over, or
   * draw from, the chains of one sampler, so a split run tunes on fewer chains (each part is
   * still a valid run of its own).
   */
  readonly chainOffset?: number;
  /**
   * During warm-up, a chain whose proposals have all been rejected for this many consecutive
   * iterations is moved to the current point of a chain that moved within as many (drawn with
   * its own stream), so that a chain started on a ridge where every proposal overshoots does not
   * stay there. Integer >= 1, or 0 for never; default 0. Moving chains changes where the
   * sampling phase starts: a chain moved out of a region that the kernel enters and leaves only
   * rarely leaves that region underweighted until the chains mix again, so use it where stuck
   * chains sit at negligible log pi (the summary's `stuckChains` and R-hat say when they exist).
   * The sampling phase never moves chains.
   */
  readonly relocateStuckAfter?: number;
}

/** Options of {@link sample}. */
export interface SampleOptions extends SamplerOptions {
  /** Draws kept per chain after warm-up, integer >= 1; default 1000. */
  readonly draws?: number;
  /** Keep `x = f(z)` for every draw; default false. */
  readonly keepX?: boolean;
  /** Called after every iteration. */
  readonly onProgress?: (progress: SampleProgress) => void;
  /** Cancels the run; `sample()` then rejects with a `SamplingAbortedError` and a checkpoint. */
  readonly signal?: AbortSignal;
  /**
   * Continues a run from its checkpoint (`result.checkpoint` or `error.checkpoint`, after
   * `JSON.parse` if stored), bit for bit, up to `draws` draws in all; pass the options of the
   * saved run. The checkpoint is checked against these options and the flow's shape, but the
   * target only by its `name`: two `pullback()` targets of different densities both named
   * `pullback` are not told apart, so name each density (`pullback(f, { name })`).
   */
  readonly resume?: SamplerCheckpoint;
}
