/**
 * Options of `loadOnnxFlow()`, validated once at the boundary with a strict zod schema: a
 * misspelt key is refused with the closest valid name instead of being ignored, and every
 * problem becomes one line that names the option, the value received, what is expected and the
 * fix. Each entry (Node, web) adds its own options to the shared ones.
 */
import { InvalidArgumentError, closestKey, describeValue } from '@latent-langevin/core';
import { z } from 'zod';
import type { OnnxFlowOptions, OnnxLogger } from './onnx-flow.js';

/** How one option is checked and what a message about it says. */
export interface OptionSpec {
  readonly schema: z.ZodType;
  /** What is expected, e.g. `an integer >= 1`. */
  readonly expected: string;
  /** How to fix it, e.g. `Pass e.g. maxBatch: 1024.` */
  readonly fix: string;
  /** What each field of an object option is expected to be, e.g. `a non-empty string`. */
  readonly field?: string;
}

const name = z.string().min(1);

/** Options shared by the Node and web entries, keyed by option. */
export const FLOW_OPTIONS: Readonly<Record<keyof OnnxFlowOptions, OptionSpec>> = {
  input: {
    schema: name,
    expected: 'a non-empty string, the name of the latent input',
    fix: "Pass e.g. input: 'z'.",
  },
  outputs: {
    schema: z.strictObject({ x: name.optional(), logDet: name.optional() }),
    expected: 'an object { x?: string, logDet?: string } of output names',
    field: 'a non-empty string, the name of an output',
    fix: "Pass e.g. outputs: { x: 'x', logDet: 'logdet' }.",
  },
  dataShape: {
    schema: z.array(z.number().int().min(1)),
    expected: 'an array of integers >= 1, the shape of one data row',
    field: 'an integer >= 1',
    fix: 'Pass e.g. dataShape: [1, 8, 8].',
  },
  gradient: {
    schema: z.enum(['autodiff', 'exported', 'finite-difference', 'auto']),
    expected: "'autodiff', 'exported', 'finite-difference' or 'auto'",
    fix: "Leave it out for 'auto'.",
  },
  exported: {
    schema: z.strictObject({ gradient: name, cotangentX: name, cotangentLogDet: name }),
    expected: 'an object { gradient, cotangentX, cotangentLogDet } of non-empty names',
    field: 'a non-empty string, the name of a model input or output',
    fix:
      "Pass e.g. exported: { gradient: 'vjp_z', cotangentX: 'cotangent_x', " +
      "cotangentLogDet: 'cotangent_logdet' }.",
  },
  maxBatch: {
    schema: z.number().int().min(1),
    expected: 'an integer >= 1',
    fix: 'Pass e.g. maxBatch: 1024.',
  },
  finiteDifferenceStep: {
    schema: z.number().min(1e-6).max(0.5),
    expected: 'a number in [1e-6, 0.5], relative to max(1, |z|)',
    fix: 'Leave it out for the default 2^(-23/3), about 4.9e-3.',
  },
  logger: {
    schema: z.custom<OnnxLogger>(
      (value) =>
        typeof value === 'object' &&
        value !== null &&
        typeof (value as { warn?: unknown }).warn === 'function',
    ),
    expected: 'an object with a warn(message) method',
    fix: 'Pass e.g. logger: { warn: (message) => warnings.push(message) }.',
  },
  sessionOptions: {
    schema: z.custom<Record<string, unknown>>(
      (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
    ),
    expected: 'an object of ONNX Runtime session options',
    fix: 'Pass e.g. sessionOptions: { intraOpNumThreads: 4 }.',
  },
};

/** The fix for an unknown key: the closest valid name when one is close, else the valid names. */
function closestName(key: string, valid: readonly string[]): string {
  const closest = closestKey(key, valid);
  return closest === undefined
    ? `Valid names are ${valid.join(', ')}.`
    : `Did you mean ${closest}?`;
}

/** The value at `path` in `root`, for the "received" part of a message. */
function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>(
    (value, step) => (value as Record<PropertyKey, unknown> | undefined)?.[step],
    root,
  );
}

/** Keys of the strict object schema at `path` (top level or one nested object). */
function keysAt(specs: Readonly<Record<string, OptionSpec>>, path: readonly PropertyKey[]) {
  if (path.length === 0) return Object.keys(specs);
  const schema = specs[String(path[0])]?.schema;
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

/** One line per problem of a zod issue on `options`. */
function describe(
  issue: z.core.$ZodIssue,
  options: object,
  specs: Readonly<Record<string, OptionSpec>>,
): string[] {
  const path = issue.path;
  const at = ['options', ...path.map(String)].join('.');
  if (issue.code === 'unrecognized_keys') {
    const valid = keysAt(specs, path);
    const what = path.length === 0 ? 'an option' : `a field of ${at}`;
    return issue.keys.map((key) => {
      const received = describeValue(valueAt(options, [...path, key]));
      return `${at}.${key} is not ${what} (received ${received}). ${closestName(key, valid)}`;
    });
  }
  const spec = specs[String(path[0] ?? '')];
  const value = valueAt(options, path);
  const received = describeValue(value);
  if (spec === undefined) return [`${at}: ${issue.message}; received ${received}.`];
  const expected = path.length > 1 ? (spec.field ?? issue.message) : spec.expected;
  if (value === undefined) return [`${at} is missing; it must be ${expected}. ${spec.fix}`];
  return [`${at} must be ${expected}; received ${received}. ${spec.fix}`];
}

/**
 * Validates the options of a `loadOnnxFlow()` entry against the shared options and the entry's
 * own, refusing unknown keys.
 *
 * @param where - the function, for messages, e.g. `loadOnnxFlow()`.
 * @param options - what the caller passed; `undefined` stands for `{}`.
 * @param specs - every option the entry accepts ({@link FLOW_OPTIONS} and its own).
 * @returns the options, unchanged, typed.
 * @throws {InvalidArgumentError} listing every invalid or unknown option, one line each.
 * @example
 * const parsed = parseOptions<NodeOnnxFlowOptions>('loadOnnxFlow()', options, NODE_OPTIONS);
 */
export function parseOptions<T extends OnnxFlowOptions>(
  where: string,
  options: unknown,
  specs: Readonly<Record<string, OptionSpec>>,
): T {
  if (options === undefined) return {} as T;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError(where, [
      `options must be an object; received ${describeValue(options)}. ` +
        "Pass e.g. { gradient: 'auto' }, or leave it out.",
    ]);
  }
  const shape = Object.fromEntries(
    Object.entries(specs).map(([key, spec]) => [key, spec.schema.optional()]),
  );
  const result = z.strictObject(shape).safeParse(options);
  const issues = result.success
    ? []
    : result.error.issues.flatMap((i) => describe(i, options, specs));
  const given = options as OnnxFlowOptions;
  if (given.gradient === 'exported' && given.exported === undefined) {
    issues.push(
      "options.exported is missing; gradient: 'exported' needs the names of the model's " +
        `gradient output and cotangent inputs. ${FLOW_OPTIONS.exported.fix}`,
    );
  }
  if (issues.length === 0) return options as T;
  throw new InvalidArgumentError(where, issues);
}
