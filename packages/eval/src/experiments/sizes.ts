/**
 * Sizes of the experiments: how many draws are scored, the budget of flow evaluations each
 * method gets, and the defaults of `quick` (a smoke test) and `default` (the reported run).
 */

/** Settings of one experiment size. */
export interface ExperimentSize {
  /** Draws each method returns, scored against the exact reference set. */
  readonly draws: number;
  /** Exact draws in the reference set (and in the noise-floor set, which has `draws` points). */
  readonly referenceDraws: number;
  /**
   * Flow rows each sampling method may spend (a row is one latent point pushed through the
   * forward map or through a vector-Jacobian product, which also returns the forward outputs).
   */
  readonly budget: number;
  /** MCMC chains, advanced together; iterations = budget / (chains * rows per iteration). */
  readonly chains: number;
  /** Random directions of the sliced Wasserstein distance. */
  readonly projections: number;
  /** Seeds when the caller gives none. */
  readonly seeds: readonly number[];
  /** The digits experiment. */
  readonly digits: {
    /** Draws per method, scored against the 360 held-out images. */
    readonly draws: number;
    /** Flow rows per tempered-MALA run. */
    readonly budget: number;
    readonly chains: number;
    /** Seeds of the digits experiment: the first `seedCount` of the run's seeds. */
    readonly seedCount: number;
  };
}

/** The two sizes; `quick` checks the pipeline, `default` produces the reported numbers. */
export const EXPERIMENT_SIZES: Readonly<Record<'quick' | 'default', ExperimentSize>> = {
  quick: {
    draws: 200,
    referenceDraws: 200,
    budget: 4000,
    chains: 20,
    projections: 16,
    seeds: [1, 2],
    digits: { draws: 64, budget: 800, chains: 16, seedCount: 1 },
  },
  default: {
    draws: 2000,
    referenceDraws: 2000,
    budget: 60_000,
    chains: 100,
    projections: 128,
    seeds: [1, 2, 3, 4, 5],
    digits: { draws: 360, budget: 24_000, chains: 60, seedCount: 5 },
  },
};
