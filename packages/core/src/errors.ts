/**
 * Error classes of the library. Every error has a stable `code` for programs and a message for
 * people that names the function and argument, what was received, what was expected and the fix.
 */

/** Codes of {@link LatentLangevinError}. */
export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'INVALID_FLOW'
  | 'NON_FINITE_INITIAL_STATE'
  | 'FLOW_CALL_FAILED'
  | 'ABORTED'
  | 'INCOMPATIBLE_CHECKPOINT';

/**
 * Base class of every error the library throws on purpose; adapters extend it with codes of
 * their own.
 */
export class LatentLangevinError<Code extends string = ErrorCode> extends Error {
  readonly code: Code;

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LatentLangevinError';
    this.code = code;
  }
}

/** An argument or option is invalid; `issues` lists every problem found, one line each. */
export class InvalidArgumentError extends LatentLangevinError {
  readonly issues: readonly string[];

  constructor(where: string, issues: readonly string[], options?: { cause?: unknown }) {
    const body = issues.length === 1 ? issues[0] : issues.map((issue) => `\n  - ${issue}`).join('');
    super('INVALID_ARGUMENT', `${where}: ${body}`, options);
    this.name = 'InvalidArgumentError';
    this.issues = issues;
  }
}

/** A flow breaks the `DifferentiableFlow` contract; `problems` lists every broken promise. */
export class InvalidFlowError extends LatentLangevinError {
  readonly problems: readonly string[];

  constructor(where: string, problems: readonly string[], options?: { cause?: unknown }) {
    const body = problems.map((problem) => `\n  - ${problem}`).join('');
    super('INVALID_FLOW', `${where}: the flow breaks its contract:${body}`, options);
    this.name = 'InvalidFlowError';
    this.problems = problems;
  }
}

/**
 * A checkpoint cannot continue this run: it was saved with other options, for another flow, or
 * it is malformed (truncated, edited, of another format). `problems` lists every reason found.
 */
export class IncompatibleCheckpointError extends LatentLangevinError {
  readonly problems: readonly string[];

  constructor(where: string, problems: readonly string[], fix: string) {
    const body = problems.map((problem) => `\n  - ${problem}`).join('');
    super('INCOMPATIBLE_CHECKPOINT', `${where}:${body}\n${fix}`);
    this.name = 'IncompatibleCheckpointError';
    this.problems = problems;
  }
}

/**
 * Formats a received value for an error message, short and unambiguous: numbers as written
 * (`NaN`, `-0`), strings quoted and cut at 60 characters, arrays and typed arrays by length,
 * objects by their first keys.
 *
 * @param value anything
 * @returns a one-line description
 * @example
 * ```ts
 * describeValue(Number.NaN); // 'NaN'
 * describeValue(new Float32Array(3)); // 'Float32Array(3)'
 * describeValue({ chains: 4, seed: 1 }); // 'an object with keys [chains, seed]'
 * ```
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    return Object.is(value, -0) ? '-0' : String(value);
  }
  if (typeof value === 'string')
    return JSON.stringify(value.length > 60 ? value.slice(0, 57) + '...' : value);
  if (value === null || value === undefined || typeof value === 'boolean') return String(value);
  if (typeof value === 'function') return 'a function';
  if (ArrayBuffer.isView(value)) {
    const name = value.constructor.name;
    return `${name}(${(value as unknown as ArrayLike<number>).length})`;
  }
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  return `an object with keys [${Object.keys(value).slice(0, 8).join(', ')}]`;
}
