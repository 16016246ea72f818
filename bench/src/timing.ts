/**
 * Wall-clock timing of async work: warm-up calls first, then repeats, each repeat timed with
 * `performance.now()`. Pairs of measurements are interleaved so that a ratio compares two
 * timings taken under the same machine load.
 */

/** How many calls a measurement makes. */
export interface RepeatOptions {
  /** Untimed calls before the first repeat, integer >= 0. */
  readonly warmup: number;
  /** Timed repeats, integer >= 1. */
  readonly repeats: number;
  /** Calls per repeat, integer >= 1; a repeat's time is divided by it. */
  readonly callsPerRepeat: number;
}

/**
 * Times `work` repeatedly and returns the milliseconds per call of each repeat.
 *
 * @param work the call to time; awaited `callsPerRepeat` times per repeat
 * @param options warm-up calls, repeats and calls per repeat
 * @returns `[repeats]` milliseconds per call
 * @example
 * ```ts
 * const options = { warmup: 2, repeats: 5, callsPerRepeat: 10 };
 * const ms = await timeRepeats(() => flow.forward(z, n), options);
 * ```
 */
export async function timeRepeats(
  work: () => Promise<unknown>,
  options: RepeatOptions,
): Promise<number[]> {
  for (let k = 0; k < options.warmup; k++) await work();
  const times: number[] = [];
  for (let r = 0; r < options.repeats; r++) {
    const started = performance.now();
    for (let k = 0; k < options.callsPerRepeat; k++) await work();
    times.push((performance.now() - started) / options.callsPerRepeat);
  }
  return times;
}

/**
 * Times several pieces of work in alternation, call by call (one call of each, in order, then
 * again), and returns the milliseconds per call of each per repeat, so that `times[0][r] /
 * times[1][r]` is a ratio of timings spread over the same stretch of machine load.
 *
 * @param works the calls to time, each awaited `callsPerRepeat` times per repeat
 * @returns `[works.length][repeats]` milliseconds per call
 * @example
 * ```ts
 * const [step, vjp] = await timeInterleaved([() => sampler.step(), () => flow.vjp(z, n, c)], {
 *   warmup: 2,
 *   repeats: 5,
 *   callsPerRepeat: 10,
 * });
 * ```
 */
export async function timeInterleaved(
  works: readonly (() => Promise<unknown>)[],
  options: RepeatOptions,
): Promise<number[][]> {
  for (let k = 0; k < options.warmup; k++) {
    for (const work of works) await work();
  }
  const times = works.map(() => [] as number[]);
  for (let r = 0; r < options.repeats; r++) {
    const sums = works.map(() => 0);
    for (let k = 0; k < options.callsPerRepeat; k++) {
      for (const [w, work] of works.entries()) {
        const started = performance.now();
        await work();
        sums[w] += performance.now() - started;
      }
    }
    sums.forEach((sum, w) => times[w].push(sum / options.callsPerRepeat));
  }
  return times;
}

/**
 * Number of calls that fill about `budgetMs` given one call's time, clamped to `[1, max]`.
 *
 * @example
 * ```ts
 * callsForBudget(4, 200); // 50
 * ```
 */
export function callsForBudget(callMs: number, budgetMs: number, max = 1000): number {
  if (!(callMs > 0)) return max;
  return Math.max(1, Math.min(max, Math.round(budgetMs / callMs)));
}

/**
 * Calls `work` at least `minCalls` times and for at least `minMs` milliseconds, so that lazy
 * compilation (V8 tiers WebAssembly and hot JavaScript up after their first calls) and runtime
 * thread pools have settled before anything is timed.
 *
 * @returns milliseconds of the last call, to size the repeats that follow
 * @example
 * ```ts
 * const callMs = await warmUp(() => sampler.step(), 2, 200);
 * ```
 */
export async function warmUp(
  work: () => Promise<unknown>,
  minCalls: number,
  minMs: number,
): Promise<number> {
  const started = performance.now();
  let last = 0;
  for (let k = 0; k < Math.max(1, minCalls) || performance.now() - started < minMs; k++) {
    const before = performance.now();
    await work();
    last = performance.now() - before;
  }
  return last;
}

/** Resolves after `ms` milliseconds; lets spinning runtime threads go idle between rivals. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
