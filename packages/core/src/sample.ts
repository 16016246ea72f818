/**
 * `sample()`: a whole run (warm-up, then draws), with progress, cancellation, and checkpoints
 * that resume bit for bit.
 */
import type { SamplerCheckpoint, SerialisedCounters } from './checkpoint.js';
import { IncompatibleCheckpointError, LatentLangevinError } from './errors.js';
import type { DifferentiableFlow } from './flow.js';
import { checkFlowShape } from './flow-shape.js';
import type { SampleOptions } from './options.js';
import { parseSampleOptions } from './parse-options.js';
import { type PhaseCounters, Sampler } from './sampler.js';

/** Draws and statistics of a run. Arrays are row-major with the shapes given. */
export interface SampleResult {
  readonly chains: number;
  /** Draws per chain held in this result. */
  readonly draws: number;
  /** Index of this result's first draw within the run: 0 unless the run was resumed. */
  readonly drawOffset: number;
  readonly latentDim: number;
  readonly dataShape: readonly number[];
  /** `[chains, draws, d]`. */
  readonly z: Float32Array;
  /** `[chains, draws, ...dataShape]` when `keepX` was set, else null. */
  readonly x: Float32Array | null;
  /** `[chains, draws]`, float64. */
  readonly logPi: Float64Array;
  /** `[chains, draws]`. */
  readonly logDet: Float32Array;
  /** `[chains, draws]`: 1 where the chain moved at that iteration. */
  readonly accepted: Uint8Array;
  /** Step size after warm-up. */
  readonly stepSize: number;
  /** `[d]`: diagonal of the preconditioner (ones unless it is `diagonal`). */
  readonly diagonalMetric: Float64Array;
  /** Counters of warm-up and sampling, over the whole run so far, resumed parts included. */
  readonly counters: { readonly warmup: PhaseCounters; readonly sampling: PhaseCounters };
  /**
   * The part of `counters` spent by this call of `sample()`: the iterations that made this
   * result's draws. Equal to `counters` unless the run was resumed; rates such as ESS per second
   * divide by these.
   */
  readonly resultCounters: { readonly warmup: PhaseCounters; readonly sampling: PhaseCounters };
  /** State to pass as `resume` to continue the run. */
  readonly checkpoint: SamplerCheckpoint;
}

/**
 * `sample()` was cancelled through its `AbortSignal`. The error holds the draws made so far and a
 * checkpoint: `sample(flow, { ...options, resume: error.checkpoint })` continues the run.
 */
export class SamplingAbortedError extends LatentLangevinError {
  readonly checkpoint: SamplerCheckpoint;
  readonly partial: SampleResult;

  constructor(partial: SampleResult, reason: unknown) {
    super(
      'ABORTED',
      `sample(): aborted after ${partial.checkpoint.iteration} iterations; pass ` +
        '{ resume: error.checkpoint } with the same options to continue.',
      { cause: reason },
    );
    this.name = 'SamplingAbortedError';
    this.checkpoint = partial.checkpoint;
    this.partial = partial;
  }
}

/**
 * Runs latent MALA (or random-walk Metropolis) on `flow`: `warmup` adapting iterations, then
 * `draws` kept iterations, for `chains` chains advanced in one batched model call each.
 *
 * @param flow any `DifferentiableFlow`
 * @param options the target, chains, seed, lengths and kernel settings; `resume` takes a
 *   checkpoint of an earlier run with the same options, which then continues up to `draws`
 *   (the target is compared by name only, see `SampleOptions.resume`)
 * @returns the draws `[chains, draws, d]` and statistics; see {@link summarize}
 * @throws InvalidArgumentError for bad or unknown options; InvalidFlowError for a flow that
 *   breaks its contract; IncompatibleCheckpointError for a `resume` that is malformed or of
 *   other options; LatentLangevinError `NON_FINITE_INITIAL_STATE` or `FLOW_CALL_FAILED`;
 *   SamplingAbortedError when cancelled
 * @example
 * ```ts
 * const run = await sample(couplingFlow2d(), {
 *   target: tempered({ beta: 1 }),
 *   chains: 8,
 *   warmup: 500,
 *   draws: 1000,
 *   seed: 42,
 * });
 * const report = summarize(run).text; // acceptance, R-hat, ESS
 * ```
 */
export async function sample(
  flow: DifferentiableFlow,
  options: SampleOptions,
): Promise<SampleResult> {
  const parsed = parseSampleOptions('sample()', options);
  checkFlowShape('sample()', flow);
  const signal = parsed.signal;

  const resume =
    parsed.resume === undefined
      ? undefined
      : { checkpoint: parsed.resume, label: 'options.resume' };
  const sampler = await Sampler.create(flow, parsed, 'sample()', resume);
  // What the run had spent before this call, as the checkpoint (now validated) recorded it:
  // subtracted for the result's own counters.
  const before = resume === undefined ? null : (parsed.resume as SamplerCheckpoint).counters;
  const warmup = sampler.warmup;
  const totalDraws = parsed.draws ?? 1000;
  const drawOffset = Math.max(0, sampler.iteration - warmup);
  if (drawOffset > totalDraws) {
    throw new IncompatibleCheckpointError(
      'sample(): options.resume does not fit options.draws',
      [`the checkpoint already holds ${drawOffset} draws per chain, more than ${totalDraws}.`],
      `Pass draws >= ${drawOffset} to continue the run.`,
    );
  }
  const draws = totalDraws - drawOffset;
  const n = sampler.chains;
  const d = sampler.latentDim;
  const size = sampler.dataSize;
  const z = new Float32Array(n * draws * d);
  const x = parsed.keepX === true ? new Float32Array(n * draws * size) : null;
  const logPi = new Float64Array(n * draws);
  const logDet = new Float32Array(n * draws);
  const accepted = new Uint8Array(n * draws);

  const result = (kept: number): SampleResult => ({
    chains: n,
    draws: kept,
    drawOffset,
    latentDim: d,
    dataShape: [...flow.dataShape],
    z: kept === draws ? z : compact(z, n, draws, kept, d),
    x: x === null ? null : kept === draws ? x : compact(x, n, draws, kept, size),
    logPi: kept === draws ? logPi : compact(logPi, n, draws, kept, 1),
    logDet: kept === draws ? logDet : compact(logDet, n, draws, kept, 1),
    accepted: kept === draws ? accepted : compact(accepted, n, draws, kept, 1),
    stepSize: sampler.stepSize,
    diagonalMetric: sampler.diagonalMetric,
    counters: sampler.counters,
    resultCounters: before === null ? sampler.counters : subtractCounters(sampler.counters, before),
    checkpoint: sampler.checkpoint(),
  });

  const started = performance.now();
  const end = warmup + totalDraws;
  while (sampler.iteration < end) {
    if (signal?.aborted === true) {
      const kept = Math.max(0, sampler.iteration - warmup - drawOffset);
      throw new SamplingAbortedError(result(kept), signal.reason);
    }
    const info = await sampler.step();
    if (info.phase === 'sampling') {
      const t = sampler.iteration - warmup - 1 - drawOffset;
      // Plain loops: a subarray view per chain would allocate on every draw.
      const currentZ = sampler.z;
      const currentX = sampler.x;
      for (let i = 0; i < n; i++) {
        const row = i * draws + t;
        for (let j = 0; j < d; j++) z[row * d + j] = currentZ[i * d + j];
        if (x !== null) {
          for (let a = 0; a < size; a++) x[row * size + a] = currentX[i * size + a];
        }
        logPi[row] = sampler.logPi[i];
        logDet[row] = sampler.logDet[i];
        accepted[row] = info.accepted[i];
      }
    }
    parsed.onProgress?.({
      phase: info.phase,
      iteration: info.phase === 'warmup' ? sampler.iteration : sampler.iteration - warmup,
      total: info.phase === 'warmup' ? warmup : totalDraws,
      acceptance: info.acceptance,
      stepSize: info.stepSize,
      elapsedMs: performance.now() - started,
    });
  }
  return result(draws);
}

/** Keeps the first `kept` draws of each chain of a `[chains, draws, width]` array. */
function compact<T extends Float32Array | Float64Array | Uint8Array>(
  array: T,
  chains: number,
  draws: number,
  kept: number,
  width: number,
): T {
  const out = new (array.constructor as new (length: number) => T)(chains * kept * width);
  for (let i = 0; i < chains; i++) {
    out.set(array.subarray(i * draws * width, (i * draws + kept) * width), i * kept * width);
  }
  return out;
}

type Counters = { readonly warmup: PhaseCounters; readonly sampling: PhaseCounters };

/** `now - before`, phase by phase and chain by chain. */
function subtractCounters(now: Counters, before: SamplerCheckpoint['counters']): Counters {
  const phase = (a: PhaseCounters, b: SerialisedCounters): PhaseCounters => {
    const minus = (x: Uint32Array, y: readonly number[]) => x.map((v, i) => v - y[i]);
    return {
      localProposals: minus(a.localProposals, b.localProposals),
      localAccepted: minus(a.localAccepted, b.localAccepted),
      globalProposals: minus(a.globalProposals, b.globalProposals),
      globalAccepted: minus(a.globalAccepted, b.globalAccepted),
      divergences: minus(a.divergences, b.divergences),
      relocations: minus(a.relocations, b.relocations),
      gradientRows: a.gradientRows - b.gradientRows,
      forwardRows: a.forwardRows - b.forwardRows,
      flowRows: a.flowRows - b.flowRows,
      wallTimeMs: a.wallTimeMs - b.wallTimeMs,
    };
  };
  return {
    warmup: phase(now.warmup, before.warmup),
    sampling: phase(now.sampling, before.sampling),
  };
}
