/**
 * Scratch arrays of target evaluations. A target keeps no buffers of its own: the cotangents
 * and finite-difference rows it builds during one evaluation live in a `TargetScratch` that the
 * caller owns, one per sampler, so that samplers sharing one target never see each other's
 * intermediate values, even when the flow awaits before reading its inputs, and the hot loop
 * still allocates nothing after the first iteration.
 */

/**
 * Typed arrays reused between the evaluations of one caller, found by slot name and resized
 * when the batch size changes. One scratch must serve one evaluation at a time: the arrays it
 * hands out are overwritten by the next evaluation that uses the same slot.
 *
 * @example
 * ```ts
 * const scratch = new TargetScratch();
 * const logPi = new Float64Array(n);
 * await target.evaluate(flow, z, n, { logPi, grad: null, scratch });
 * ```
 */
export class TargetScratch {
  private readonly float32Slots = new Map<string, Float32Array>();
  private readonly float64Slots = new Map<string, Float64Array>();

  /**
   * The float32 array of `slot`, of exactly `length` values; its contents are whatever the last
   * user of the slot left.
   *
   * @param slot a name unique to the caller's use, e.g. `pullback.cotangentX`
   * @param length number of values, an integer >= 0
   * @example
   * ```ts
   * const cotangent = scratch.float32('pullback.cotangentX', n * size);
   * ```
   */
  float32(slot: string, length: number): Float32Array {
    let array = this.float32Slots.get(slot);
    if (array === undefined || array.length !== length) {
      array = new Float32Array(length);
      this.float32Slots.set(slot, array);
    }
    return array;
  }

  /**
   * The float64 array of `slot`, of exactly `length` values; see {@link TargetScratch.float32}.
   *
   * @param slot a name unique to the caller's use
   * @param length number of values, an integer >= 0
   * @example
   * ```ts
   * const steps = scratch.float64('pullback.steps', n * size);
   * ```
   */
  float64(slot: string, length: number): Float64Array {
    let array = this.float64Slots.get(slot);
    if (array === undefined || array.length !== length) {
      array = new Float64Array(length);
      this.float64Slots.set(slot, array);
    }
    return array;
  }
}

/**
 * The float32 array of `slot` from `scratch`, or a new one when the caller gave no scratch (an
 * evaluation outside the hot loop).
 */
export function scratchFloat32(
  scratch: TargetScratch | undefined,
  slot: string,
  length: number,
): Float32Array {
  return scratch === undefined ? new Float32Array(length) : scratch.float32(slot, length);
}

/** The float64 array of `slot`, or a new one; see {@link scratchFloat32}. */
export function scratchFloat64(
  scratch: TargetScratch | undefined,
  slot: string,
  length: number,
): Float64Array {
  return scratch === undefined ? new Float64Array(length) : scratch.float64(slot, length);
}
