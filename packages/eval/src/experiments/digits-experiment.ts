/**
 * The data-driven experiment on the 8 x 8 digits Glow: naive draws against tempered latent MALA
 * at several beta, scored by k-NN precision and recall against the 360 held-out images.
 */
import type { DifferentiableFlow } from '@latent-langevin/core';

import { precisionRecall } from '../precision-recall.js';
import { type MethodRun, type MethodSpec, runMethod } from './methods.js';
import { type Spread, spread } from './score.js';
import type { ExperimentSize } from './sizes.js';
import type { UnitDone } from './synthetic-experiment.js';

/** The tempering exponents compared with naive sampling. */
export const DIGITS_BETAS = [0.25, 0.5, 1] as const;

/** Neighbour count of the precision and recall (Kynkäänniemi et al. 2019). */
export const DIGITS_K = 3;

/** The methods of the digits experiment, in table order. */
export const DIGITS_METHODS: readonly MethodSpec[] = [
  { id: 'naive', label: 'naive f(z)', kind: 'naive' },
  ...DIGITS_BETAS.map((beta): MethodSpec => ({
    id: `mala-tempered-${beta}`,
    label: `MALA tempered beta=${beta}`,
    kind: 'mcmc',
    target: 'tempered',
    beta,
    kernel: 'mala',
    preconditioner: 'identity',
    globalMoveProbability: 0,
  })),
];

/** One method on one seed. */
export interface DigitsRun {
  readonly seed: number;
  readonly precision: number;
  readonly recall: number;
  /** Share of draws whose 64 pixels all lie in [-0.1, 1.1], as the fixture reports. */
  readonly inRange: number;
  /** Draws returned and scored, and how many of them are not copies of another. */
  readonly draws: number;
  readonly distinctDraws: number;
  readonly flowRows: number;
  /** Rows the method was allowed; null for naive sampling. */
  readonly budget: number | null;
  /** Why the run is not comparable with the others at this budget; absent when it is. */
  readonly notComparable?: string;
  readonly wallTimeMs: number;
  readonly mcmc?: MethodRun['mcmc'];
}

/** One method over the seeds. */
export interface DigitsMethodResults {
  readonly id: string;
  readonly label: string;
  readonly runs: readonly DigitsRun[];
  readonly summary: {
    readonly precision: Spread | null;
    readonly recall: Spread | null;
    readonly inRange: Spread | null;
    readonly flowRows: Spread | null;
    readonly wallTimeMs: Spread | null;
    readonly acceptance: Spread | null;
    readonly stuckChains: Spread | null;
  };
}

/** The digits results. */
export interface DigitsResults {
  readonly fixture: string;
  readonly heldOut: number;
  readonly k: number;
  readonly draws: number;
  readonly methods: readonly DigitsMethodResults[];
  /** File name of the picture of image grids in the output folder. */
  readonly picture: string | null;
}

/**
 * Runs naive sampling and tempered MALA on the digits flow for each seed.
 *
 * @param heldOut `[360, 64]` held-out images in model space
 */
export async function runDigitsExperiment(
  fixture: string,
  flow: DifferentiableFlow,
  heldOut: Float32Array,
  size: ExperimentSize,
  seeds: readonly number[],
  unitDone: UnitDone,
  signal?: AbortSignal,
): Promise<{ results: Omit<DigitsResults, 'picture'>; firstSeedDraws: Float32Array[] }> {
  const d = flow.latentDim;
  const { draws, budget, chains } = size.digits;
  const runs = DIGITS_METHODS.map((): DigitsRun[] => []);
  const firstSeedDraws: Float32Array[] = [];
  for (const [s, seed] of seeds.entries()) {
    for (const [m, method] of DIGITS_METHODS.entries()) {
      signal?.throwIfAborted();
      const run = await runMethod(method, {
        flow,
        draws,
        budget,
        chains,
        seed: seed * 1000 + 500 + m,
      });
      // Diverged draws (NaN pixels) cannot be placed in a manifold; with too few finite draws
      // left, precision and recall are undefined and recorded as NaN.
      const finite = finiteImages(run.x, d);
      const { precision, recall } =
        finite.length / d > DIGITS_K
          ? precisionRecall(finite, heldOut, { dimension: d, k: DIGITS_K })
          : { precision: NaN, recall: NaN };
      runs[m].push({
        seed,
        precision,
        recall,
        inRange: inRangeShare(run.x, d),
        draws: run.count,
        distinctDraws: run.distinctCount,
        flowRows: run.forwardRows + run.gradientRows,
        budget: run.budget,
        ...(run.notComparable === undefined ? {} : { notComparable: run.notComparable }),
        wallTimeMs: run.wallTimeMs,
        ...(run.mcmc === undefined ? {} : { mcmc: run.mcmc }),
      });
      if (s === 0) firstSeedDraws.push(run.x);
      unitDone(seed, method.id, run.wallTimeMs);
    }
  }
  return {
    results: {
      fixture,
      heldOut: heldOut.length / d,
      k: DIGITS_K,
      draws,
      methods: DIGITS_METHODS.map((method, m) => ({
        id: method.id,
        label: method.label,
        runs: runs[m],
        summary: {
          precision: spread(runs[m].map((r) => r.precision)),
          recall: spread(runs[m].map((r) => r.recall)),
          inRange: spread(runs[m].map((r) => r.inRange)),
          flowRows: spread(runs[m].map((r) => r.flowRows)),
          wallTimeMs: spread(runs[m].map((r) => r.wallTimeMs)),
          acceptance: spread(runs[m].map((r) => r.mcmc?.acceptance ?? null)),
          stuckChains: spread(runs[m].map((r) => r.mcmc?.stuckChains ?? null)),
        },
      })),
    },
    firstSeedDraws,
  };
}

/** Images with every pixel finite; diverged draws cannot be placed in the manifold. */
function finiteImages(x: Float32Array, d: number): Float32Array {
  const kept: number[] = [];
  for (let i = 0; i < x.length / d; i++) {
    const row = x.subarray(i * d, (i + 1) * d);
    if (row.every(Number.isFinite)) kept.push(...row);
  }
  return Float32Array.from(kept);
}

function inRangeShare(x: Float32Array, d: number): number {
  let inside = 0;
  for (let i = 0; i < x.length / d; i++) {
    if (x.subarray(i * d, (i + 1) * d).every((v) => v >= -0.1 && v <= 1.1)) inside++;
  }
  return inside / (x.length / d);
}

/**
 * Reads the held-out digits: float32 little-endian `[n, 1, 8, 8]` without a header.
 *
 * @param bytes the contents of `heldout.bin`
 * @returns `[n, 64]`
 */
export function decodeHeldOut(bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(Math.floor(bytes.byteLength / 4));
  for (let k = 0; k < out.length; k++) out[k] = view.getFloat32(4 * k, true);
  return out;
}
