/**
 * Baselines a user compares latent MALA against: naive sampling from the flow, and
 * sampling-importance-resampling with the base density as proposal.
 */
import { InvalidArgumentError, describeValue } from './errors.js';
import { type DifferentiableFlow, dataSize } from './flow.js';
import { RandomStream, streamState } from './random.js';
import { TargetScratch } from './target-scratch.js';
import { type LatentTarget, logStandardNormal } from './targets.js';

/** Draws of a baseline: `z` `[count, d]`, `x` `[count, ...dataShape]`, `logDet` `[count]`. */
export interface BaselineDraws {
  readonly count: number;
  readonly z: Float32Array;
  readonly x: Float32Array;
  readonly logDet: Float32Array;
  /** Latent rows pushed through the flow. */
  readonly flowRows: number;
}

function checkCount(where: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new InvalidArgumentError(where, [
      `options.${name} must be an integer >= 1; received ${describeValue(value)}. ` +
        `Pass e.g. ${name}: 1000.`,
    ]);
  }
  return value;
}

function checkSeed(where: string, seed: unknown): number {
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed >= 2 ** 53) {
    throw new InvalidArgumentError(where, [
      `options.seed must be an integer in [0, 2^53); received ${describeValue(seed)}. ` +
        'Pass e.g. seed: 42.',
    ]);
  }
  return seed;
}

/** Standard normal rows `[count, d]` from one stream of `seed` (stream index `stream`). */
function baseDraws(seed: number, stream: number, count: number, d: number): Float32Array {
  const random = new RandomStream(streamState(seed, stream));
  const z = new Float32Array(count * d);
  for (let k = 0; k < z.length; k++) z[k] = random.normal();
  return z;
}

/** Runs `forward` over `z` in chunks of `maxBatch` rows. */
async function forwardChunked(
  flow: DifferentiableFlow,
  z: Float32Array,
  count: number,
  maxBatch: number,
): Promise<{ x: Float32Array; logDet: Float32Array }> {
  const d = flow.latentDim;
  const size = dataSize(flow.dataShape);
  const x = new Float32Array(count * size);
  const logDet = new Float32Array(count);
  for (let start = 0; start < count; start += maxBatch) {
    const rows = Math.min(maxBatch, count - start);
    const out = await flow.forward(z.subarray(start * d, (start + rows) * d), rows);
    x.set(out.x, start * size);
    logDet.set(out.logDet, start);
  }
  return { x, logDet };
}

/**
 * Naive sampling: `z ~ q_Z = N(0, I)`, `x = f(z)`, the draws the flow gives without MCMC.
 *
 * @param options.count number of draws, integer >= 1
 * @param options.seed integer in [0, 2^53)
 * @param options.maxBatch rows per model call, default 4096
 * @throws InvalidArgumentError for bad options
 * @example
 * ```ts
 * const { x } = await naive(flow, { count: 1000, seed: 1 });
 * ```
 */
export async function naive(
  flow: DifferentiableFlow,
  options: { count: number; seed: number; maxBatch?: number },
): Promise<BaselineDraws> {
  const count = checkCount('naive()', 'count', options?.count);
  const seed = checkSeed('naive()', options?.seed);
  const maxBatch = checkCount('naive()', 'maxBatch', options.maxBatch ?? 4096);
  const z = baseDraws(seed, 0, count, flow.latentDim);
  const { x, logDet } = await forwardChunked(flow, z, count, maxBatch);
  return { count, z, x, logDet, flowRows: count };
}

/** Draws of sampling-importance-resampling, with the quality of its weights. */
export interface SirDraws extends BaselineDraws {
  /** Kish effective sample size of the importance weights, in [1, proposals]. */
  readonly weightEss: number;
  /** Number of proposals drawn from `q_Z`. */
  readonly proposals: number;
}

/**
 * Sampling-importance-resampling: `proposals` draws of `q_Z`, weighted by `pi / q_Z`, then
 * `count` draws resampled with replacement (multinomial). Exact only as `proposals` grows; its
 * weight ESS says how far from that it is.
 *
 * @param options.proposals number of base draws, integer >= 1
 * @param options.count number of resampled draws, integer >= 1
 * @throws InvalidArgumentError for bad options, or when every weight is zero or not finite
 * @example
 * ```ts
 * const draws = await sir(flow, pullback(logDensity), { proposals: 20000, count: 1000, seed: 1 });
 * ```
 */
export async function sir(
  flow: DifferentiableFlow,
  target: LatentTarget,
  options: { proposals: number; count: number; seed: number; maxBatch?: number },
): Promise<SirDraws> {
  const proposals = checkCount('sir()', 'proposals', options?.proposals);
  const count = checkCount('sir()', 'count', options.count);
  const seed = checkSeed('sir()', options.seed);
  const maxBatch = checkCount('sir()', 'maxBatch', options.maxBatch ?? 4096);
  const d = flow.latentDim;
  const size = dataSize(flow.dataShape);

  const z = baseDraws(seed, 0, proposals, d);
  const logWeights = new Float64Array(proposals);
  const x = new Float32Array(proposals * size);
  const logDet = new Float32Array(proposals);
  const scratch = new TargetScratch();
  for (let start = 0; start < proposals; start += maxBatch) {
    const rows = Math.min(maxBatch, proposals - start);
    const zRows = z.subarray(start * d, (start + rows) * d);
    const logPi = new Float64Array(rows);
    const out = await target.evaluate(flow, zRows, rows, { logPi, grad: null, scratch });
    x.set(out.x, start * size);
    logDet.set(out.logDet, start);
    for (let i = 0; i < rows; i++) {
      const w = logPi[i] - logStandardNormal(zRows, i, d);
      logWeights[start + i] = Number.isFinite(w) ? w : -Infinity;
    }
  }

  let max = -Infinity;
  for (const w of logWeights) max = Math.max(max, w);
  if (!Number.isFinite(max)) {
    throw new InvalidArgumentError('sir()', [
      `every importance weight is zero or not finite over ${proposals} proposals; ` +
        'the target has no mass where the base density puts it. Use MCMC (sample()) instead.',
    ]);
  }
  const cumulative = new Float64Array(proposals);
  let sum = 0;
  let sumSquares = 0;
  for (let k = 0; k < proposals; k++) {
    const w = Math.exp(logWeights[k] - max);
    sum += w;
    sumSquares += w * w;
    cumulative[k] = sum;
  }

  const random = new RandomStream(streamState(seed, 1));
  const picked = { z: new Float32Array(count * d), x: new Float32Array(count * size) };
  const pickedLogDet = new Float32Array(count);
  for (let r = 0; r < count; r++) {
    const u = random.uniform() * sum;
    let lo = 0;
    let hi = proposals - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    picked.z.set(z.subarray(lo * d, (lo + 1) * d), r * d);
    picked.x.set(x.subarray(lo * size, (lo + 1) * size), r * size);
    pickedLogDet[r] = logDet[lo];
  }
  return {
    count,
    z: picked.z,
    x: picked.x,
    logDet: pickedLogDet,
    flowRows: proposals,
    weightEss: (sum * sum) / sumSquares,
    proposals,
  };
}
