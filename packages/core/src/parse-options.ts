/**
 * Validation of the sampler's options with zod, once, at the boundary: every problem becomes one
 * line that names the option, the value received, what was expected and the fix. Internal: the
 * package does not export it.
 */
import { z } from 'zod';
import { InvalidArgumentError, describeValue } from './errors.js';
import type { SampleOptions, SampleProgress, SamplerOptions } from './options.js';
import type { LatentTarget } from './targets.js';
import { unknownKeyIssues } from './unknown-keys.js';

const positiveInt = z.number().int().min(1);

const preconditionerSchema = z.union(
  [
    z.enum(['identity', 'diagonal', 'jacobian']),
    z.strictObject({ type: z.enum(['identity', 'diagonal']) }),
    z.strictObject({
      type: z.literal('jacobian'),
      damping: z.number().positive().optional(),
      maxDim: positiveInt.optional(),
    }),
  ],
  {
    error: "expected 'identity', 'diagonal', 'jacobian' or { type: 'jacobian', damping?, maxDim? }",
  },
);

const samplerShape = {
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
    .refine(
      (value) => Number.isSafeInteger(value) && value >= 0,
      'expected an integer in [0, 2^53)',
    ),
  warmup: z.number().int().min(0).optional(),
  kernel: z.enum(['mala', 'rwm']).optional(),
  preconditioner: preconditionerSchema.optional(),
  stepSize: z.number().positive().optional(),
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
};

const sampleOnlyShape = {
  draws: positiveInt.optional(),
  keepX: z.boolean().optional(),
  onProgress: z
    .custom<(p: SampleProgress) => void>((v) => typeof v === 'function', {
      message: 'expected a function',
    })
    .optional(),
  signal: z
    .custom<AbortSignal>((v) => typeof v === 'object' && v !== null && 'aborted' in v, {
      message: 'expected an AbortSignal',
    })
    .optional(),
  // Only its form here: its contents are checked against the flow in Sampler.create.
  resume: z
    .custom<object>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), {
      message: 'expected a checkpoint object',
    })
    .optional(),
};

const samplerSchema = z.strictObject(samplerShape);
const sampleSchema = z.strictObject({ ...samplerShape, ...sampleOnlyShape });

/** Keys an options object may have at a path: the options, or a preconditioner object. */
const KNOWN_KEYS: Record<string, readonly string[]> = {
  preconditioner: ['type', 'damping', 'maxDim'],
};

/** The fix of a problem, by the option's full path first, then by its top-level key. */
const HINTS: Record<string, string> = {
  target: 'Pass e.g. target: tempered({ beta: 1 }).',
  chains: 'Pass a whole number of chains such as 4.',
  seed: 'Pass an integer seed such as 42.',
  warmup: 'Pass a whole number of warm-up iterations such as 500, or 0 for none.',
  draws: 'Pass a whole number of draws per chain such as 1000.',
  stepSize: 'Pass a finite positive step size such as 0.1, or leave it out to have one found.',
  adaptStepSize: 'Pass true to tune the step size in warm-up, or false to keep stepSize.',
  targetAcceptance: 'Pass a probability strictly between 0 and 1, such as 0.574.',
  globalMoveProbability: 'Pass a probability in [0, 1), such as 0.1, or 0 for none.',
  preconditioner: "Pass 'identity', 'diagonal' or 'jacobian'.",
  'preconditioner.type': "Pass type: 'identity', 'diagonal' or 'jacobian'.",
  'preconditioner.damping':
    'Pass a finite positive damping lambda such as 1e-3, or leave it out for 1e-3.',
  'preconditioner.maxDim': 'Pass a whole number such as 128, the largest d to accept.',
  kernel: "Pass 'mala' or 'rwm'.",
  initialZ:
    'Pass a Float32Array or number[] of chains * d values, or leave it out to start from ' +
    'draws of the base density.',
  chainOffset: "Pass a whole number such as 0, the index of the first chain's random stream.",
  relocateStuckAfter:
    'Pass a whole number of iterations such as 50, or 0 (the default) to never move chains.',
  keepX: 'Pass true to keep x = f(z) for every draw, or false.',
  onProgress: 'Pass a function (progress) => void, or leave it out.',
  signal: 'Pass the signal of an AbortController, or leave it out.',
  resume: 'Pass result.checkpoint or error.checkpoint of an earlier run, or leave it out.',
};

/** The value at `path` within `options`, for the message. */
function valueAt(options: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>(
    (value, step) => (value as Record<PropertyKey, unknown> | undefined)?.[step],
    options,
  );
}

/** Parses options with the schema, turning every zod issue into one readable line. */
function parse<T>(
  schema: z.ZodType<T>,
  where: string,
  options: unknown,
  known: readonly string[],
): T {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(where, [
      `options must be an object; received ${describeValue(options)}. ` +
        'Pass e.g. { target: tempered({ beta: 1 }), chains: 4, seed: 1 }.',
    ]);
  }
  const result = schema.safeParse(options);
  if (result.success) return result.data;
  const seen = new Set<string>();
  const issues = result.error.issues.flatMap((issue) => {
    const path = issue.path.map(String).join('.');
    // One line per option: zod may report several checks of one value (int and range, say).
    if (seen.has(path) && issue.code !== 'unrecognized_keys') return [];
    seen.add(path);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) =>
        path === '' && key in sampleOnlyShape
          ? `options.${key} is an option of sample(), not of ${where}: a sampler runs one ` +
            'iteration per step() call. Remove it.'
          : unknownKeyIssues([key], KNOWN_KEYS[path] ?? known, prefix(path))[0],
      );
    }
    const received = describeValue(valueAt(options, issue.path));
    const hint = HINTS[path] ?? HINTS[String(issue.path[0] ?? '')] ?? '';
    const message = issue.message.replace(/^(Invalid input|Too small|Too big): /, '');
    return [`${prefix(path)}: ${message}; received ${received}. ${hint}`.trim()];
  });
  throw new InvalidArgumentError(where, issues);
}

function prefix(path: string): string {
  return path === '' ? 'options' : `options.${path}`;
}

/** Validates {@link SamplerOptions} for `init()` or `restore()`, named by `where`. */
export function parseSamplerOptions(where: string, options: unknown): SamplerOptions {
  return parse(samplerSchema, where, options, Object.keys(samplerShape)) as SamplerOptions;
}

/** Validates {@link SampleOptions} (and the form of a `resume` checkpoint) for `sample()`. */
export function parseSampleOptions(where: string, options: unknown): SampleOptions {
  const known = [...Object.keys(samplerShape), ...Object.keys(sampleOnlyShape)];
  return parse(sampleSchema, where, options, known) as SampleOptions;
}
