/**
 * Sample sets: `n` points of dimension `D` stored row-major in one typed array, `[n, D]`. Every
 * metric validates its sets here once, at the boundary, and then trusts them.
 */
import { InvalidArgumentError, describeValue } from '@latent-langevin/core';

/** A batch of points `[n, D]`, row-major, in single or double precision. */
export type SampleArray = Float32Array | Float64Array;

/**
 * Checks that `values` holds at least `minRows` finite points of dimension `dimension` and
 * returns the number of points.
 *
 * @throws InvalidArgumentError naming `where` and `name` when the array is not a typed array,
 *   its length is not a multiple of `dimension`, it holds fewer than `minRows` points, or a
 *   value is NaN or infinite
 */
export function checkSampleSet(
  where: string,
  name: string,
  values: unknown,
  dimension: number,
  minRows: number,
): number {
  if (!(values instanceof Float32Array) && !(values instanceof Float64Array)) {
    throw new InvalidArgumentError(where, [
      `${name} must be a Float32Array or Float64Array of shape [n, ${dimension}] (row-major); ` +
        `received ${describeValue(values)}. Wrap plain arrays with Float64Array.from(...).`,
    ]);
  }
  if (values.length % dimension !== 0) {
    throw new InvalidArgumentError(where, [
      `${name} has ${values.length} values, not a multiple of dimension ${dimension}; ` +
        `expected [n, ${dimension}] row-major. Check options.dimension.`,
    ]);
  }
  const n = values.length / dimension;
  if (n < minRows) {
    throw new InvalidArgumentError(where, [
      `${name} holds ${n} points of dimension ${dimension}; at least ${minRows} are needed. ` +
        'Pass a larger sample.',
    ]);
  }
  for (let k = 0; k < values.length; k++) {
    if (!Number.isFinite(values[k])) {
      const row = Math.floor(k / dimension);
      throw new InvalidArgumentError(where, [
        `${name}[${row}, ${k % dimension}] is ${describeValue(values[k])}; every value must ` +
          'be finite. Drop or fix the rows with NaN or infinite values first.',
      ]);
    }
  }
  return n;
}

/**
 * Checks that `dimension` is an integer >= 1.
 *
 * @throws InvalidArgumentError naming `where` otherwise
 */
export function checkDimension(where: string, dimension: unknown): number {
  if (typeof dimension !== 'number' || !Number.isInteger(dimension) || dimension < 1) {
    throw new InvalidArgumentError(where, [
      `options.dimension must be an integer >= 1, the size D of one point; received ` +
        `${describeValue(dimension)}. Pass e.g. { dimension: 2 } for points in the plane.`,
    ]);
  }
  return dimension;
}

/**
 * Checks an optional seed: an integer in [0, 2^53).
 *
 * @throws InvalidArgumentError naming `where` otherwise
 */
export function checkSeed(where: string, seed: unknown): number {
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed >= 2 ** 53) {
    throw new InvalidArgumentError(where, [
      `options.seed must be an integer in [0, 2^53); received ${describeValue(seed)}. ` +
        'Pass e.g. seed: 1.',
    ]);
  }
  return seed;
}

/**
 * Checks that an option is an integer in `[min, max]`.
 *
 * @throws InvalidArgumentError naming `where` and `options.<name>` otherwise
 */
export function checkInteger(
  where: string,
  name: string,
  value: unknown,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new InvalidArgumentError(where, [
      `options.${name} must be an integer ${range}; received ${describeValue(value)}.`,
    ]);
  }
  return value;
}

/**
 * Checks that an option is a finite number > 0.
 *
 * @throws InvalidArgumentError naming `where` and `options.<name>` otherwise
 */
export function checkPositive(where: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !(value > 0)) {
    throw new InvalidArgumentError(where, [
      `options.${name} must be a finite number > 0; received ${describeValue(value)}.`,
    ]);
  }
  return value;
}

/**
 * Checks optional group labels of the `n` rows of set `name`: an array of `n` integers with at
 * least two distinct values, so that some pair of rows lies in different groups.
 *
 * @returns the labels, or null when `groups` is undefined
 * @throws InvalidArgumentError naming `where` and `options.<option>` otherwise
 */
export function checkGroups(
  where: string,
  option: string,
  name: string,
  groups: unknown,
  n: number,
): ArrayLike<number> | null {
  if (groups === undefined) return null;
  const labels = groups as ArrayLike<unknown>;
  if (
    groups === null ||
    typeof groups !== 'object' ||
    typeof labels.length !== 'number' ||
    labels.length !== n
  ) {
    throw new InvalidArgumentError(where, [
      `options.${option} must hold one integer label per row of ${name} (${n} rows); received ` +
        `${describeValue(groups)}. Pass e.g. the chain index of every draw.`,
    ]);
  }
  let first: number | undefined;
  let distinct = false;
  for (let i = 0; i < n; i++) {
    const label = labels[i];
    if (typeof label !== 'number' || !Number.isInteger(label)) {
      throw new InvalidArgumentError(where, [
        `options.${option}[${i}] is ${describeValue(label)}; every label must be an integer.`,
      ]);
    }
    if (first === undefined) first = label;
    else if (label !== first) distinct = true;
  }
  if (!distinct) {
    throw new InvalidArgumentError(where, [
      `options.${option} gives every row of ${name} the same label, which leaves no pair of ` +
        'rows from different groups. Pass draws of at least two chains, or leave it out.',
    ]);
  }
  return labels as ArrayLike<number>;
}
