/**
 * The contract of a synthetic target: a density known in closed form, with its gradient, and an
 * exact sampler, so that sampler output can be scored against fresh exact draws.
 */
import { InvalidArgumentError, describeValue } from '@latent-langevin/core';

/** A batched log-density and its gradient; the shape `pullback()` of the core accepts. */
export interface TargetDensity {
  /** `[n]`, float64: log p(x) at each row, up to the target's `logNormaliser`. */
  readonly logDensity: Float64Array;
  /** `[n, D]`, float64: grad_x log p(x) at each row. */
  readonly gradient: Float64Array;
}

/** A data-space target with a closed-form density and an exact, seeded sampler. */
export interface SyntheticTarget {
  /** Short name, e.g. `two-moons`. */
  readonly name: string;
  /** Size `D` of one point. */
  readonly dimension: number;
  /**
   * Log-density and gradient at the `n` rows of `x` (`[n, D]`, row-major). A plain function, not
   * a method: `pullback(target.logDensity)` works as it is.
   */
  readonly logDensity: (x: ArrayLike<number>, n: number) => TargetDensity;
  /** `count` exact draws `[count, D]`, row-major; the same seed gives the same draws. */
  readonly sample: (count: number, seed: number) => Float64Array;
  /** `log int exp(logDensity(x)) dx`: 0 when `logDensity` is normalised. */
  readonly logNormaliser: number;
  /** `[D]` intervals `[lo, hi]` that hold nearly all the mass: limits for pictures. */
  readonly extent: readonly (readonly [number, number])[];
  /** True weights of the modes, when the target has a natural split into modes. */
  readonly modeWeights?: readonly number[];
  /** Mode of each row of `x` (`[n, D]`), an integer in `[0, K)`, when modes are defined. */
  readonly modeOf?: (x: ArrayLike<number>, n: number) => Int32Array;
}

/** A target split into weighted modes: `modeWeights` and `modeOf` are always present. */
export interface ModalTarget extends SyntheticTarget {
  readonly modeWeights: readonly number[];
  readonly modeOf: (x: ArrayLike<number>, n: number) => Int32Array;
}

/**
 * Checks a batch handed to a target's `logDensity` or `modeOf`: `x` must hold `n * D` numbers.
 *
 * @throws InvalidArgumentError naming the target and argument otherwise
 */
export function checkBatch(where: string, x: unknown, n: unknown, dimension: number): void {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
    throw new InvalidArgumentError(where, [
      `n must be an integer >= 0, the number of rows; received ${describeValue(n)}.`,
    ]);
  }
  const length = (x as ArrayLike<number> | null)?.length;
  if (typeof length !== 'number' || length !== n * dimension) {
    throw new InvalidArgumentError(where, [
      `x must hold n * D = ${n} * ${dimension} = ${n * dimension} numbers ([n, D] row-major); ` +
        `received ${describeValue(x)}. Pass the batch and its row count.`,
    ]);
  }
}

/**
 * Checks the arguments of a target's `sample`: a count >= 0 and an integer seed.
 *
 * @throws InvalidArgumentError naming the target and argument otherwise
 */
export function checkSampleArguments(where: string, count: unknown, seed: unknown): number {
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
    throw new InvalidArgumentError(where, [
      `count must be an integer >= 0; received ${describeValue(count)}. Pass e.g. 1000.`,
    ]);
  }
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed >= 2 ** 53) {
    throw new InvalidArgumentError(where, [
      `seed must be an integer in [0, 2^53); received ${describeValue(seed)}. Pass e.g. 1.`,
    ]);
  }
  return count;
}
