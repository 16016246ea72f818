/**
 * Warm-up adaptation: dual averaging of the log step size (Hoffman and Gelman 2014, section
 * 3.2.1) and the windows over which a diagonal preconditioner is estimated (the schedule of
 * Stan's windowed adaptation). After warm-up nothing adapts, so the draws come from a
 * time-homogeneous kernel that leaves the target invariant exactly.
 */

/** Serialisable state of the dual-averaging iteration. */
export interface DualAveragingState {
  /** Shrinkage point, log(10 h0). */
  mu: number;
  /** Running average of (target acceptance - observed acceptance). */
  hBar: number;
  /** Averaged log step size, the value kept after warm-up. */
  logStepBar: number;
  /** Number of updates since the last restart. */
  t: number;
}

/** Constants of dual averaging: gamma 0.05, t0 10, kappa 0.75 (Hoffman and Gelman 2014). */
const GAMMA = 0.05;
const T0 = 10;
const KAPPA = 0.75;

/** Starts (or restarts) dual averaging around a step size. */
export function startDualAveraging(stepSize: number): DualAveragingState {
  return { mu: Math.log(10 * stepSize), hBar: 0, logStepBar: 0, t: 0 };
}

/**
 * One dual-averaging update from the mean acceptance probability of the last step; returns the
 * step size to use next and updates the state in place.
 */
export function updateDualAveraging(
  state: DualAveragingState,
  acceptance: number,
  targetAcceptance: number,
): number {
  state.t += 1;
  const t = state.t;
  const weight = 1 / (t + T0);
  state.hBar = (1 - weight) * state.hBar + weight * (targetAcceptance - acceptance);
  const logStep = state.mu - (Math.sqrt(t) / GAMMA) * state.hBar;
  const eta = Math.pow(t, -KAPPA);
  state.logStepBar = eta * logStep + (1 - eta) * state.logStepBar;
  return Math.exp(logStep);
}

/** The step size warm-up ends with: the dual average, or `fallback` when no update happened. */
export function finalStepSize(state: DualAveragingState, fallback: number): number {
  return state.t > 0 ? Math.exp(state.logStepBar) : fallback;
}

/**
 * Ends (exclusive warm-up iteration counts) of the windows over which the diagonal
 * preconditioner is estimated: a fast initial buffer (step size only), doubling slow windows,
 * and a final buffer where only the step size adapts to the last preconditioner. Warm-ups
 * shorter than 20 iterations estimate no preconditioner.
 */
export function metricWindows(warmup: number): { start: number; ends: number[] } {
  if (warmup < 20) return { start: warmup, ends: [] };
  let initial = 75;
  let terminal = 50;
  let window = 25;
  if (warmup < initial + terminal + window) {
    initial = Math.floor(0.15 * warmup);
    terminal = Math.floor(0.1 * warmup);
    window = warmup - initial - terminal;
  }
  const last = warmup - terminal;
  let end = initial + window;
  if (end >= last) return { start: initial, ends: [last] };
  const ends: number[] = [];
  for (;;) {
    ends.push(end);
    const next = 2 * window;
    // Stretch the next window to the final buffer when the one after it would not fit.
    if (end + next + 2 * next > last) break;
    end += next;
    window = next;
  }
  ends.push(last);
  return { start: initial, ends };
}

/** Running per-coordinate mean and variance (Welford), pooled over chains. */
export interface VarianceAccumulator {
  count: number;
  mean: Float64Array;
  m2: Float64Array;
}

/** An empty accumulator for dimension `d`. */
export function newVarianceAccumulator(d: number): VarianceAccumulator {
  return { count: 0, mean: new Float64Array(d), m2: new Float64Array(d) };
}

/** Adds the `n` rows of `z` (`[n, d]`) to the accumulator. */
export function accumulate(acc: VarianceAccumulator, z: Float32Array, n: number, d: number): void {
  for (let i = 0; i < n; i++) {
    acc.count += 1;
    for (let j = 0; j < d; j++) {
      const value = z[i * d + j];
      const delta = value - acc.mean[j];
      acc.mean[j] += delta / acc.count;
      acc.m2[j] += delta * (value - acc.mean[j]);
    }
  }
}

/**
 * Writes the regularised variance estimate into `out`: the sample variance shrunk towards 1e-3
 * with weight 5 / (count + 5), as Stan does, so that short windows give a usable metric.
 */
export function regularisedVariance(acc: VarianceAccumulator, out: Float64Array): void {
  const count = acc.count;
  for (let j = 0; j < out.length; j++) {
    const variance = count > 1 ? acc.m2[j] / (count - 1) : 1;
    out[j] = (count / (count + 5)) * variance + 1e-3 * (5 / (count + 5));
  }
}
