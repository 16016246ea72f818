/**
 * Options of the sampler, validated once at the boundary with zod; the hot loop trusts them.
 */
import { z } from 'zod';
import { InvalidArgumentError, describeValue } from './errors.js';
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
  /** Index of the first chain's random stream; lets a run be split across workers. */
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
}

const positiveInt = z.number().int().min(1);

const preconditionerSchema = z.union([
  z.enum(['identity', 'diagonal', 'jacobian']),
  z.object({ type: z.enum(['identity', 'diagonal']) }).strict(),
  z
    .object({
      type: z.literal('jacobian'),
      damping: z.number().positive().finite().optional(),
      maxDim: positiveInt.optional(),
    })
    .strict(),
]);

const samplerSchema = z.object({
  target: z.custom<LatentTarget>(
    (value) =>
      typeof value === 'object' &&
      value !== null &&
      typeof (value as { evaluate?: unknown }).evaluate === 'function',
    { message: 'expected a target from base(), tempered(), pullback() or custom()' },
  ),
  chains: positiveInt,
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 53 - 1),
  warmup: z.number().int().min(0).optional(),
  kernel: z.enum(['mala', 'rwm']).optional(),
  preconditioner: preconditionerSchema.optional(),
  stepSize: z.number().positive().finite().optional(),
  adaptStepSize: z.boolean().optional(),
  targetAcceptance: z.number().gt(0).lt(1).optional(),
  globalMoveProbability: z.number().min(0).lt(1).optional(),
  initialZ: z
    .custom<ArrayLike<number>>((value) => ArrayBuffer.isView(value) || Array.isArray(value), {
      message: 'expected a Float32Array or number[] of shape [chains, d]',
    })
    .optional(),
  chainOffset: z.number().int().min(0).optional(),
  relocateStuckAfter: z.number().int().min(0).optional(),
});

const sampleSchema = samplerSchema.extend({
  draws: positiveInt.optional(),
  keepX: z.boolean().optional(),
  onProgress: z.custom<(p: SampleProgress) => void>((v) => typeof v === 'function').optional(),
  signal: z
    .custom<AbortSignal>((v) => typeof v === 'object' && v !== null && 'aborted' in v, {
      message: 'expected an AbortSignal',
    })
    .optional(),
  resume: z.unknown().optional(),
});

const HINTS: Record<string, string> = {
  target: 'Pass e.g. target: tempered({ beta: 1 }).',
  chains: 'Pass a whole number of chains such as 4.',
  seed: 'Pass an integer seed such as 42.',
  warmup: 'Pass a whole number of warm-up iterations such as 500, or 0 for none.',
  draws: 'Pass a whole number of draws per chain such as 1000.',
  stepSize: 'Pass a positive step size, or leave it out to have one found.',
  targetAcceptance: 'Pass a probability strictly between 0 and 1, such as 0.574.',
  globalMoveProbability: 'Pass a probability in [0, 1), such as 0.1, or 0 for none.',
  preconditioner: "Pass 'identity', 'diagonal' or 'jacobian'.",
  kernel: "Pass 'mala' or 'rwm'.",
  relocateStuckAfter:
    'Pass a whole number of iterations such as 50, or 0 (the default) to never move chains.',
};

/** Parses options with the schema, turning every zod issue into one readable line. */
function parse<T>(schema: z.ZodType<T>, where: string, options: unknown): T {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(where, [
      `options must be an object; received ${describeValue(options)}. ` +
        'Pass e.g. { target: tempered({ beta: 1 }), chains: 4, seed: 1 }.',
    ]);
  }
  const result = schema.safeParse(options);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => {
    const path = issue.path.join('.');
    const key = String(issue.path[0] ?? '');
    const received = describeValue(
      issue.path.reduce<unknown>(
        (value, step) => (value as Record<PropertyKey, unknown> | undefined)?.[step],
        options,
      ),
    );
    const hint = HINTS[key] ?? '';
    const message = issue.message.replace(/^Invalid input: /, '');
    return `options.${path}: ${message}; received ${received}. ${hint}`.trim();
  });
  throw new InvalidArgumentError(where, issues);
}

/** Validates {@link SamplerOptions}. */
export function parseSamplerOptions(where: string, options: unknown): SamplerOptions {
  return parse(samplerSchema, where, options) as SamplerOptions;
}

/** Validates {@link SampleOptions} (and an opaque `resume` checkpoint). */
export function parseSampleOptions(
  where: string,
  options: unknown,
): SampleOptions & { resume?: unknown } {
  return parse(sampleSchema, where, options) as SampleOptions & { resume?: unknown };
}
