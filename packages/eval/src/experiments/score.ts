/**
 * Scoring of one set of draws against exact draws of a synthetic target, with every metric of
 * the package, and the mean and spread of scores over seeds.
 */
import { energyDistance } from '../energy-distance.js';
import { mmdSquared } from '../mmd.js';
import { modeWeightTotalVariation } from '../mode-weights.js';
import { outOfDistributionRate } from '../out-of-distribution.js';
import { slicedWasserstein2 } from '../sliced-wasserstein.js';
import type { SyntheticTarget } from '../targets/synthetic-target.js';

/** Scores of one set of draws; a metric that does not apply is null. */
export interface Scores {
  readonly mmd: number;
  readonly sw2: number;
  readonly energy: number;
  readonly modeTv: number | null;
  readonly ood: number;
}

/** What every set of one seed is scored against. */
export interface Reference {
  readonly target: SyntheticTarget;
  /** `[m, D]` exact draws. */
  readonly draws: Float64Array;
  /** `[m]` log-densities of the exact draws. */
  readonly logDensity: Float64Array;
  /** Kernel bandwidth: the median heuristic on the reference draws. */
  readonly bandwidth: number;
  /** Seed of the sliced Wasserstein directions, shared by every method of one seed. */
  readonly seed: number;
  readonly projections: number;
}

/**
 * Scores `x` (`[n, D]`) against the reference. Rows with a non-finite coordinate (a diverged
 * flow output) are dropped from the distances and counted as out of distribution.
 */
export function score(x: Float32Array | Float64Array, reference: Reference): Scores {
  const { target, bandwidth, seed, projections } = reference;
  const d = target.dimension;
  const finite = finiteRows(x, d);
  const n = x.length / d;
  const options = { dimension: d };
  const logP = target.logDensity(finite, finite.length / d).logDensity;
  const ood = outOfDistributionRate(logP, reference.logDensity);
  const modes =
    target.modeWeights !== undefined && target.modeOf !== undefined
      ? modeWeightTotalVariation(finite, {
          dimension: d,
          weights: target.modeWeights,
          assign: target.modeOf,
        }).value
      : null;
  return {
    mmd: mmdSquared(finite, reference.draws, { ...options, bandwidth }).value,
    sw2: slicedWasserstein2(finite, reference.draws, { ...options, seed, projections }),
    energy: energyDistance(finite, reference.draws, options),
    modeTv: modes,
    ood: (ood.rate * (finite.length / d) + (n - finite.length / d)) / n,
  };
}

function finiteRows(x: Float32Array | Float64Array, d: number): Float64Array {
  const rows: number[] = [];
  for (let i = 0; i < x.length / d; i++) {
    let ok = true;
    for (let j = 0; j < d; j++) ok &&= Number.isFinite(x[i * d + j]);
    if (ok) for (let j = 0; j < d; j++) rows.push(x[i * d + j]);
  }
  return Float64Array.from(rows);
}

/** Mean and sample standard deviation of values over seeds; nulls are skipped. */
export interface Spread {
  readonly mean: number;
  readonly sd: number;
  readonly n: number;
}

/** Mean and sample standard deviation (n - 1 in the denominator; 0 for a single value). */
export function spread(values: readonly (number | null)[]): Spread | null {
  const kept = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (kept.length === 0) return null;
  const mean = kept.reduce((s, v) => s + v, 0) / kept.length;
  const variance =
    kept.length > 1 ? kept.reduce((s, v) => s + (v - mean) ** 2, 0) / (kept.length - 1) : 0;
  return { mean, sd: Math.sqrt(variance), n: kept.length };
}
