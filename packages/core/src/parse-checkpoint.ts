/**
 * Validation of checkpoints. A checkpoint is read back only after three checks, in this order:
 * its format and the form of its configuration; that configuration against the resumed run's;
 * then every field's form and every array's length against that configuration, so that a
 * truncated or edited checkpoint is refused with the field at fault instead of silently
 * restarting chains from fresh streams. Internal: the package does not export it.
 */
import { z } from 'zod';
import { CHECKPOINT_FORMAT, type CheckpointConfig, type SamplerCheckpoint } from './checkpoint.js';
import { IncompatibleCheckpointError, describeValue } from './errors.js';

const count = z.number().int().min(0);
const finite = z.number();
// x and logDet are what the flow returned; JSON would turn a non-finite value into null.
const anyNumber = z.custom<number>((v) => typeof v === 'number', 'expected a number');
const uint32 = z
  .number()
  .int()
  .min(0)
  .max(2 ** 32 - 1);

const configSchema = z.strictObject({
  chains: count,
  latentDim: count,
  dataSize: count,
  target: z.string(),
  kernel: z.enum(['mala', 'rwm']),
  preconditioner: z.strictObject({
    type: z.enum(['identity', 'diagonal', 'jacobian']),
    damping: finite,
  }),
  warmup: count,
  seed: count,
  chainOffset: count,
  adaptStepSize: z.boolean(),
  targetAcceptance: finite,
  globalMoveProbability: finite,
  relocateStuckAfter: count,
});

/** The first check: the format, and a configuration to compare. */
const headerSchema = z.looseObject({
  format: z.literal(CHECKPOINT_FORMAT, {
    error: `expected "${CHECKPOINT_FORMAT}", the format of this version`,
  }),
  config: configSchema,
});

/** The whole checkpoint, every array of the length that `config` implies. */
function checkpointSchema(config: CheckpointConfig) {
  const { chains: n, latentDim: d, dataSize: size } = config;
  const jacobian = config.preconditioner.type === 'jacobian';
  const diagonal = config.preconditioner.type === 'diagonal';
  const numbers = (length: number, item: z.ZodType<number> = finite) =>
    z.array(item).length(length);
  const onlyIf = <T extends z.ZodType>(present: boolean, schema: T) =>
    present ? schema : z.null({ error: 'expected null for this preconditioner' });
  const counters = z.strictObject({
    localProposals: numbers(n, count),
    localAccepted: numbers(n, count),
    globalProposals: numbers(n, count),
    globalAccepted: numbers(n, count),
    divergences: numbers(n, count),
    relocations: numbers(n, count),
    gradientRows: count,
    forwardRows: count,
    flowRows: count,
    wallTimeMs: finite.min(0),
  });
  return z.strictObject({
    format: z.literal(CHECKPOINT_FORMAT),
    config: configSchema,
    iteration: count,
    stepSize: finite.positive(),
    dualAveraging: z.strictObject({ mu: finite, hBar: finite, logStepBar: finite, t: count }),
    variance: onlyIf(diagonal, z.strictObject({ count, mean: numbers(d), m2: numbers(d) })),
    metric: onlyIf(diagonal, numbers(d)),
    state: z.strictObject({
      z: numbers(n * d),
      logPi: numbers(n),
      grad: numbers(n * d),
      x: numbers(n * size, anyNumber),
      logDet: numbers(n, anyNumber),
      cholesky: onlyIf(jacobian, numbers(n * d * d)),
      logDetA: onlyIf(jacobian, numbers(n)),
      rejectionStreak: numbers(n, count),
    }),
    random: z
      .array(
        z.strictObject({
          words: z
            .tuple([uint32, uint32, uint32, uint32])
            .refine((w) => w.some((word) => word !== 0), 'expected a state that is not all zero'),
        }),
      )
      .length(n),
    counters: z.strictObject({ warmup: counters, sampling: counters }),
  });
}

/** What the length of an array of the checkpoint counts, by field. */
const SHAPES: Record<string, string> = {
  random: 'one stream state per chain',
  'state.z': '[chains, d]',
  'state.grad': '[chains, d]',
  'state.x': '[chains, D]',
  'state.logPi': 'one per chain',
  'state.logDet': 'one per chain',
  'state.cholesky': '[chains, d, d]',
  'state.logDetA': 'one per chain',
  'state.rejectionStreak': 'one per chain',
  'variance.mean': 'one per latent coordinate',
  'variance.m2': 'one per latent coordinate',
  metric: 'one per latent coordinate',
  'counters.localProposals': 'one per chain',
  'counters.localAccepted': 'one per chain',
  'counters.globalProposals': 'one per chain',
  'counters.globalAccepted': 'one per chain',
  'counters.divergences': 'one per chain',
  'counters.relocations': 'one per chain',
};

/** One line per zod issue, at most one per field: an array of wrong entries reports the first. */
function describeIssues(issues: z.ZodError['issues'], label: string, value: unknown): string[] {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const issue of issues) {
    const field = issue.path.filter((step) => typeof step !== 'number').join('.');
    if (seen.has(field)) continue;
    seen.add(field);
    const path = [label, ...issue.path.map(String)].join('.');
    const received = issue.path.reduce<unknown>(
      (at, step) => (at as Record<PropertyKey, unknown> | undefined)?.[step],
      value,
    );
    if (issue.code === 'unrecognized_keys') {
      lines.push(`${path} has unexpected keys [${issue.keys.join(', ')}].`);
    } else if (received === undefined) {
      lines.push(`${path} is missing.`);
    } else if (
      (issue.code === 'too_small' || issue.code === 'too_big') &&
      Array.isArray(received)
    ) {
      const expected = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const shape = SHAPES[field.replace(/^counters\.\w+\./, 'counters.')];
      lines.push(
        `${path} has ${received.length} entries; expected ${String(expected)}` +
          `${shape === undefined ? '' : `, ${shape}`}.`,
      );
    } else {
      const message = issue.message.replace(/^(Invalid input|Too small|Too big): /, '');
      lines.push(`${path} is ${describeValue(received)}; ${message}.`);
    }
  }
  return lines;
}

const FIX =
  'Pass a checkpoint exactly as result.checkpoint or error.checkpoint gave it (a JSON round ' +
  'trip keeps it whole), with the options of the saved run.';

/**
 * Validates `value` as a checkpoint of a run configured as `expected` and returns it.
 *
 * @param where the function to name in messages, e.g. `sample()`
 * @param label the argument's name in messages, e.g. `options.resume`
 * @throws IncompatibleCheckpointError listing every problem: a malformed checkpoint, another
 *   format, a configuration other than `expected`, or an array of the wrong length
 */
export function parseCheckpoint(
  where: string,
  label: string,
  value: unknown,
  expected: CheckpointConfig,
): SamplerCheckpoint {
  const header = headerSchema.safeParse(value);
  if (!header.success) {
    throw new IncompatibleCheckpointError(
      `${where}: ${label} is not a checkpoint of this version`,
      describeIssues(header.error.issues, label, value),
      FIX,
    );
  }

  const mismatches: string[] = [];
  const saved = header.data.config;
  for (const key of Object.keys(expected) as (keyof CheckpointConfig)[]) {
    const then = JSON.stringify(saved[key]);
    const now = JSON.stringify(expected[key]);
    if (then !== now) mismatches.push(`${key} was ${then} in the saved run and is now ${now}.`);
  }
  if (mismatches.length > 0) {
    throw new IncompatibleCheckpointError(
      `${where}: ${label} does not match these options`,
      mismatches,
      'Pass the options of the saved run (a checkpoint continues one run).',
    );
  }

  const whole = checkpointSchema(expected).safeParse(value);
  if (!whole.success) {
    throw new IncompatibleCheckpointError(
      `${where}: ${label} is malformed for a run of ${expected.chains} chains in dimension ` +
        `${expected.latentDim}`,
      describeIssues(whole.error.issues, label, value),
      FIX,
    );
  }
  return whole.data as SamplerCheckpoint;
}
