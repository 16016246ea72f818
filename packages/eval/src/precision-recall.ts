/**
 * Improved precision and recall of generative models (Kynkäänniemi et al., "Improved precision
 * and recall metric for assessing generative models", NeurIPS 2019). Each set's manifold is the
 * union of balls around its points, each ball reaching the point's k-th nearest neighbour in the
 * same set. Precision is the share of generated points inside the real manifold (are the draws
 * realistic?); recall the share of real points inside the generated manifold (is the variety
 * covered?). The paper works in a feature space; this implementation uses the points as given.
 */
import { type PreparedSet, forEachTile, prepareSets } from './pairwise.js';
import { type SampleArray, checkDimension, checkInteger, checkSampleSet } from './sample-set.js';

/** Options of {@link precisionRecall}. */
export interface PrecisionRecallOptions {
  /** Size `D` of one point (64 for 8 x 8 images); both sets are `[n, D]` row-major. */
  readonly dimension: number;
  /** Neighbour whose distance sets a ball's radius, integer >= 1; default 3 (the paper's). */
  readonly k?: number;
}

/** What {@link precisionRecall} returns. */
export interface PrecisionRecallResult {
  /** Share of generated points within the real manifold, in [0, 1]. */
  readonly precision: number;
  /** Share of real points within the generated manifold, in [0, 1]. */
  readonly recall: number;
}

/**
 * k-nearest-neighbour precision and recall of generated points against real (held-out) ones;
 * a point on a ball's boundary counts as inside.
 *
 * @param generated draws `[m, D]`, row-major, finite, m > k
 * @param real held-out data `[n, D]`, row-major, finite, n > k
 * @param options.dimension `D`; `k` default 3
 * @returns precision and recall, each in [0, 1]
 * @throws InvalidArgumentError when a set is malformed, holds NaN or infinite values, or has
 *   no more than k points, or k is not an integer >= 1
 * @example
 * ```ts
 * const { precision, recall } = precisionRecall(images, heldOut, { dimension: 64 });
 * ```
 */
export function precisionRecall(
  generated: SampleArray,
  real: SampleArray,
  options: PrecisionRecallOptions,
): PrecisionRecallResult {
  const where = 'precisionRecall()';
  const dimension = checkDimension(where, options?.dimension);
  const k = checkInteger(where, 'k', options.k ?? 3, 1);
  checkSampleSet(where, 'generated', generated, dimension, k + 1);
  checkSampleSet(where, 'real', real, dimension, k + 1);

  const [g, r] = prepareSets([generated, real], dimension);
  const realRadii = kthNeighbourSquared(r, k);
  const generatedRadii = kthNeighbourSquared(g, k);
  return {
    precision: coveredShare(g, r, realRadii),
    recall: coveredShare(r, g, generatedRadii),
  };
}

/** `[n]`: squared distance from each point to its k-th nearest other point of the same set. */
function kthNeighbourSquared(set: PreparedSet, k: number): Float64Array {
  // best[i * k + q]: the q-th smallest squared distance found so far for row i, ascending.
  const best = new Float64Array(set.n * k).fill(Infinity);
  forEachTile(set, set, (tile, i0, i1, j0, j1) => {
    const width = j1 - j0;
    for (let i = i0; i < i1; i++) {
      const row = (i - i0) * width;
      const base = i * k;
      for (let j = j0; j < j1; j++) {
        const s = tile[row + j - j0];
        if (s >= best[base + k - 1] || i === j) continue;
        let q = k - 1;
        while (q > 0 && best[base + q - 1] > s) {
          best[base + q] = best[base + q - 1];
          q--;
        }
        best[base + q] = s;
      }
    }
  });
  const radii = new Float64Array(set.n);
  for (let i = 0; i < set.n; i++) radii[i] = best[i * k + k - 1];
  return radii;
}

/** Share of the rows of `query` within `radii[j]` (squared) of some row `j` of `manifold`. */
function coveredShare(query: PreparedSet, manifold: PreparedSet, radii: Float64Array): number {
  const covered = new Uint8Array(query.n);
  forEachTile(query, manifold, (tile, i0, i1, j0, j1) => {
    const width = j1 - j0;
    for (let i = i0; i < i1; i++) {
      if (covered[i] === 1) continue;
      const row = (i - i0) * width - j0;
      for (let j = j0; j < j1; j++) {
        if (tile[row + j] <= radii[j]) {
          covered[i] = 1;
          break;
        }
      }
    }
  });
  let count = 0;
  for (let i = 0; i < query.n; i++) count += covered[i];
  return count / query.n;
}
