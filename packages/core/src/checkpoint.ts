/**
 * Checkpoints: a sampler's complete state as plain JSON-compatible data. `parse-checkpoint.ts`
 * validates them before a run continues from one.
 */
import type { DualAveragingState } from './adaptation.js';
import type { RandomStreamState } from './random.js';

/** Format tag of checkpoints, bumped when their layout changes. */
export const CHECKPOINT_FORMAT = 'latent-langevin/checkpoint@3';

/** The preconditioner after defaults are filled in. */
export interface PreconditionerConfig {
  readonly type: 'identity' | 'diagonal' | 'jacobian';
  /** `lambda` of the jacobian preconditioner (unused otherwise). */
  readonly damping: number;
}

/** What a checkpoint records of the run's configuration; a resumed run must match it. */
export interface CheckpointConfig {
  readonly chains: number;
  readonly latentDim: number;
  readonly dataSize: number;
  /** The target's `name`: the only record of the target, see `SampleOptions.resume`. */
  readonly target: string;
  readonly kernel: 'mala' | 'rwm';
  readonly preconditioner: PreconditionerConfig;
  readonly warmup: number;
  readonly seed: number;
  readonly chainOffset: number;
  readonly adaptStepSize: boolean;
  readonly targetAcceptance: number;
  readonly globalMoveProbability: number;
  readonly relocateStuckAfter: number;
}

/** Counters of one phase as plain data; see `PhaseCounters`. */
export interface SerialisedCounters {
  localProposals: number[];
  localAccepted: number[];
  globalProposals: number[];
  globalAccepted: number[];
  divergences: number[];
  relocations: number[];
  gradientRows: number;
  forwardRows: number;
  flowRows: number;
  wallTimeMs: number;
}

/**
 * A sampler's complete state as plain JSON-compatible data: restoring it continues the run
 * bit for bit. Float arrays are stored as number arrays, which round-trip exactly through JSON.
 * Shapes, for `n` chains, dimension `d` and data size `D`, are given beside each array.
 */
export interface SamplerCheckpoint {
  readonly format: typeof CHECKPOINT_FORMAT;
  readonly config: CheckpointConfig;
  readonly iteration: number;
  readonly stepSize: number;
  readonly dualAveraging: DualAveragingState;
  /** Running variance of the `diagonal` preconditioner's window, `[d]` each; else null. */
  readonly variance: { count: number; mean: number[]; m2: number[] } | null;
  /** `[d]`: the `diagonal` preconditioner; else null. */
  readonly metric: number[] | null;
  readonly state: {
    /** `[n, d]`. */
    readonly z: number[];
    /** `[n]`. */
    readonly logPi: number[];
    /** `[n, d]`. */
    readonly grad: number[];
    /** `[n, D]`. */
    readonly x: number[];
    /** `[n]`. */
    readonly logDet: number[];
    /** `[n, d, d]` with the `jacobian` preconditioner, else null. */
    readonly cholesky: number[] | null;
    /** `[n]` with the `jacobian` preconditioner, else null. */
    readonly logDetA: number[] | null;
    /** `[n]`: consecutive iterations, per chain, in which the chain did not move. */
    readonly rejectionStreak: number[];
  };
  /** `[n]`: one stream state per chain. */
  readonly random: RandomStreamState[];
  readonly counters: { warmup: SerialisedCounters; sampling: SerialisedCounters };
}
