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
 * flow output) are dropped from the distances and counted as out of distribution. With
 * `groups` (`[n]`, the chain of each MCMC draw), the within-set terms of MMD² and the energy
 * distance leave out pairs of one group, which are not independent; the other metrics are
 * means or plug-in distances that repeated draws do not bias.
 */
export function score(
  x: Float32Array | Float64Array,
  reference: Reference,
  groups: Int32Array | null = null,
): Scores {
  const { target, bandwidth, seed, projections } = reference;
  const d = target.dimension;
  const { finite, labels } = finiteRows(x, d, groups);
  const n = x.length / d;
  const options = {
    dimension: d,
    ...(labels !== null && new Set(labels).size > 1 ? { xGroups: labels } : {}),
  };
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
    sw2: slicedWasserstein2(finite, reference.draws, { dimension: d, seed, projections }),
    energy: energyDistance(finite, reference.draws, options),
    modeTv: modes,
    ood: (ood.rate * (finite.length / d) + (n - finite.length / d)) / n,
  };
}

function finiteRows(
  x: Float32Array | Float64Array,
  d: number,
  groups: Int32Array | null,
): { finite: Float64Array; labels: Int32Array | null } {
  const rows: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < x.length / d; i++) {
    let ok = true;
    for (let j = 0; j < d; j++) ok &&= Number.isFinite(x[i * d + j]);
    if (!ok) continue;
    for (let j = 0; j < d; j++) rows.push(x[i * d + j]);
    if (groups !== null) labels.push(groups[i]);
  }
  return {
    finite: Float64Array.from(rows),
    labels: groups === null ? null : Int32Array.from(labels),
  };
}

/** Mean, sample standard deviation and standard error of values over seeds. */
export interface Spread {
  readonly mean: number;
  /** Sample standard deviation over seeds (n - 1 in the denominator; 0 for one value). */
  readonly sd: number;
  /** Standard error of the mean, `sd / sqrt(n)`. */
  readonly se: number;
  /** Seeds with a finite value; nulls and non-finite values are skipped. */
  readonly n: number;
}

/** Mean, sample standard deviation and standard error of the finite values. */
export function spread(values: readonly (number | null)[]): Spread | null {
  const kept = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (kept.length === 0) return null;
  const mean = kept.reduce((s, v) => s + v, 0) / kept.length;
  const variance =
    kept.length > 1 ? kept.reduce((s, v) => s + (v - mean) ** 2, 0) / (kept.length - 1) : 0;
  const sd = Math.sqrt(variance);
  return { mean, sd, se: sd / Math.sqrt(kept.length), n: kept.length };
}

/**
 * Whether paired values (one pair a seed) differ: the mean of `a - b` over the seeds where both
 * are finite lies more than `k` standard errors of that mean from 0. Null with fewer than 3
 * pairs, or when every difference is the same (a zero standard error).
 */
export function pairedDifference(
  a: readonly (number | null)[],
  b: readonly (number | null)[],
  k: number,
): { readonly mean: number; readonly se: number; readonly differs: boolean } | null {
  const differences: number[] = [];
  a.forEach((value, s) => {
    const other = b[s];
    if (value !== null && other !== null && Number.isFinite(value) && Number.isFinite(other)) {
      differences.push(value - other);
    }
  });
  const summary = spread(differences);
  if (summary === null || summary.n < 3 || !(summary.se > 0)) return null;
  return {
    mean: summary.mean,
    se: summary.se,
    differs: Math.abs(summary.mean) > k * summary.se,
  };
}
