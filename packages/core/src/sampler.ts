/**
 * The latent sampler: Metropolis-adjusted Langevin (or random-walk Metropolis) on a latent target,
 * all chains advanced by one batched model call per iteration.
 *
 * One MALA iteration, for step size `h` and preconditioner `M(z) = A(z)^-1`:
 *
 *     mu(z)  = z + (h / 2) M(z) grad log pi(z)
 *     z'     ~ N(mu(z), h M(z))
 *     log a  = log pi(z') - log pi(z) + log N(z; mu(z'), h M(z')) - log N(z'; mu(z), h M(z))
 *
 * accepted when `log U < log a`. The proposal densities are evaluated at the float32 points the
 * flow actually sees, in float64, with the same formula in both directions, so the kernel is
 * reversible for any deterministic gradient, finite differences included.
 */
import {
  type DualAveragingState,
  type VarianceAccumulator,
  accumulate,
  finalStepSize,
  metricWindows,
  newVarianceAccumulator,
  regularisedVariance,
  startDualAveraging,
  updateDualAveraging,
} from './adaptation.js';
import {
  type CheckpointConfig,
  CHECKPOINT_FORMAT,
  type PreconditionerConfig,
  type SamplerCheckpoint,
  type SerialisedCounters,
} from './checkpoint.js';
import {
  InvalidArgumentError,
  InvalidFlowError,
  LatentLangevinError,
  describeValue,
} from './errors.js';
import { type DifferentiableFlow, dataSize } from './flow.js';
import { checkFlowShape } from './flow-shape.js';
import { choleskyInPlace, quadraticForm, solveLower, solveUpper } from './linalg.js';
import {
  DEFAULT_JACOBIAN_MAX_DIM,
  type PreconditionerOption,
  type SamplerOptions,
} from './options.js';
import { parseCheckpoint } from './parse-checkpoint.js';
import { parseSamplerOptions } from './parse-options.js';
import { RandomStream, streamState } from './random.js';
import { TargetScratch } from './target-scratch.js';
import { type LatentTarget, type TargetBuffers, logStandardNormal } from './targets.js';

/** Counts of one phase of a run, per chain where it says so. */
export interface PhaseCounters {
  /** `[chains]`: local (MALA or random-walk) proposals made. */
  readonly localProposals: Uint32Array;
  /** `[chains]`: local proposals accepted. */
  readonly localAccepted: Uint32Array;
  /** `[chains]`: global independence proposals made. */
  readonly globalProposals: Uint32Array;
  /** `[chains]`: global proposals accepted. */
  readonly globalAccepted: Uint32Array;
  /** `[chains]`: proposals rejected because log pi or its gradient was not finite. */
  readonly divergences: Uint32Array;
  /** `[chains]`: times warm-up moved the chain to another chain's point after it was stuck. */
  readonly relocations: Uint32Array;
  /**
   * Gradient evaluations: latent rows pushed through the flow's vector-Jacobian product, one
   * per point at which a gradient of log pi was taken, whatever way the flow computes it. A
   * Jacobian of `n` points (the `jacobian` preconditioner) counts as its `n * D` rows.
   */
  gradientRows: number;
  /** Latent rows pushed through the flow's forward map alone. */
  forwardRows: number;
  /**
   * What the model itself evaluated, in rows: every forward row, plus every gradient row at its
   * cost to the flow, 1 for an exact gradient and `2d + 1` forward rows for central
   * differences (see `GradientKind`), so that flows with and without gradients compare.
   */
  flowRows: number;
  /** Wall time spent in this phase, in milliseconds. */
  wallTimeMs: number;
}

/** What one iteration did. */
export interface StepInfo {
  readonly phase: 'warmup' | 'sampling';
  /** Iterations done so far in all, this one included. */
  readonly iteration: number;
  /** Mean acceptance probability of the local proposals of this iteration (NaN if none). */
  readonly acceptance: number;
  /** Step size used by this iteration. */
  readonly stepSize: number;
  /** `[chains]`: 1 where the chain moved. A view, overwritten by the next iteration. */
  readonly accepted: Uint8Array;
  /** Number of chains whose proposal diverged. */
  readonly divergences: number;
  /** Number of stuck chains moved to another chain's point (warm-up only). */
  readonly relocations: number;
}

/** Buffers describing one point per chain: the current state or a proposal. */
interface PointBuffers {
  readonly z: Float32Array; // [n, d]
  readonly logPi: Float64Array; // [n]
  readonly grad: Float64Array; // [n, d]
  readonly x: Float32Array; // [n, D]
  readonly logDet: Float32Array; // [n]
  readonly cholesky: Float64Array | null; // [n, d, d], L of A = M^-1 (jacobian only)
  readonly logDetA: Float64Array | null; // [n]
  /** The buffers handed to the target, with and without the gradient (made once). */
  readonly withGradient: TargetBuffers;
  readonly withoutGradient: TargetBuffers;
}

const MAX_INITIAL_ATTEMPTS = 100;

function newCounters(chains: number): PhaseCounters {
  return {
    localProposals: new Uint32Array(chains),
    localAccepted: new Uint32Array(chains),
    globalProposals: new Uint32Array(chains),
    globalAccepted: new Uint32Array(chains),
    divergences: new Uint32Array(chains),
    relocations: new Uint32Array(chains),
    gradientRows: 0,
    forwardRows: 0,
    flowRows: 0,
    wallTimeMs: 0,
  };
}

function newPoints(
  n: number,
  d: number,
  size: number,
  jacobian: boolean,
  scratch: TargetScratch,
): PointBuffers {
  const logPi = new Float64Array(n);
  const grad = new Float64Array(n * d);
  return {
    z: new Float32Array(n * d),
    logPi,
    grad,
    withGradient: { logPi, grad, scratch },
    withoutGradient: { logPi, grad: null, scratch },
    x: new Float32Array(n * size),
    logDet: new Float32Array(n),
    cholesky: jacobian ? new Float64Array(n * d * d) : null,
    logDetA: jacobian ? new Float64Array(n) : null,
  };
}

function normalisePreconditioner(
  option: PreconditionerOption | undefined,
  d: number,
  where: string,
): PreconditionerConfig {
  const spec = typeof option === 'string' ? { type: option } : (option ?? { type: 'identity' });
  if (spec.type !== 'jacobian') return { type: spec.type, damping: 0 };
  const maxDim = ('maxDim' in spec ? spec.maxDim : undefined) ?? DEFAULT_JACOBIAN_MAX_DIM;
  if (d > maxDim) {
    throw new InvalidArgumentError(where, [
      `options.preconditioner: 'jacobian' needs the full d x d Jacobian at every proposal, and ` +
        `d = ${d} is above the limit of ${maxDim}. Use 'diagonal', or pass ` +
        `{ type: 'jacobian', maxDim: ${d} } to accept the cost (${d} gradient rows a chain).`,
    ]);
  }
  return { type: 'jacobian', damping: ('damping' in spec ? spec.damping : undefined) ?? 1e-3 };
}

/** Where a target evaluation happened, for messages. */
type Stage = 'initial points' | 'step-size search' | 'iteration';

/**
 * Forward rows that one point of the flow's `vjp` and of its `jacobian` cost: an exact gradient
 * counts as one row a point and a Jacobian as `d`; central differences evaluate `2d + 1` rows a
 * point for either (the finite-difference adapter's scheme, DESIGN.md section 6).
 */
function gradientCost(flow: DifferentiableFlow): { vjp: number; jacobian: number } {
  const d = flow.latentDim;
  return flow.gradient === 'finite-difference'
    ? { vjp: 2 * d + 1, jacobian: 2 * d + 1 }
    : { vjp: 1, jacobian: d };
}

/**
 * A running sampler: the low-level API for custom loops. Create it with {@link init} (or
 * {@link restore}), then call {@link Sampler.step} once per iteration.
 */
export class Sampler {
  readonly flow: DifferentiableFlow;
  readonly target: LatentTarget;
  readonly chains: number;
  readonly latentDim: number;
  readonly dataSize: number;
  readonly kernel: 'mala' | 'rwm';
  readonly preconditioner: PreconditionerConfig;
  readonly warmup: number;
  readonly seed: number;
  readonly chainOffset: number;
  readonly adaptStepSize: boolean;
  readonly targetAcceptance: number;
  readonly globalMoveProbability: number;
  readonly relocateStuckAfter: number;
  /** Counters of the warm-up and of the sampling phase. */
  readonly counters: { readonly warmup: PhaseCounters; readonly sampling: PhaseCounters };

  /** The public function that made this sampler, named in its errors. */
  private readonly where: string;
  /** Forward rows a gradient point costs the flow, for `flowRows`. */
  private readonly cost: { vjp: number; jacobian: number };
  private current: PointBuffers;
  private proposal: PointBuffers;
  private readonly streams: RandomStream[];
  private stepSizeValue = 1;
  private iterationValue = 0;
  private dualAveraging: DualAveragingState = startDualAveraging(1);
  private readonly windows: { start: number; ends: number[] };
  private variance: VarianceAccumulator | null;
  private readonly metric: Float64Array | null; // [d] diagonal of M
  private readonly rejectionStreak: Uint32Array; // [n]

  // Scratch buffers of the hot loop, allocated once. The target's scratch is this sampler's own,
  // so that samplers sharing a target never share its cotangents.
  private readonly scratch = new TargetScratch();
  private readonly isGlobal: Uint8Array;
  private readonly forwardLogQ: Float64Array;
  private readonly acceptedView: Uint8Array;
  private readonly drift: Float64Array;
  private readonly noise: Float64Array;
  private readonly residual: Float64Array;
  private jacobianRows: Float32Array | null = null;
  private jacobianCotangent: Float32Array | null = null;

  private constructor(flow: DifferentiableFlow, options: Required<ResolvedOptions>, where: string) {
    this.where = where;
    this.cost = gradientCost(flow);
    this.flow = flow;
    this.target = options.target;
    this.chains = options.chains;
    this.latentDim = flow.latentDim;
    this.dataSize = dataSize(flow.dataShape);
    this.kernel = options.kernel;
    this.preconditioner = options.preconditioner;
    this.warmup = options.warmup;
    this.seed = options.seed;
    this.chainOffset = options.chainOffset;
    this.adaptStepSize = options.adaptStepSize;
    this.targetAcceptance = options.targetAcceptance;
    this.globalMoveProbability = options.globalMoveProbability;
    this.relocateStuckAfter = options.relocateStuckAfter;

    const n = this.chains;
    const d = this.latentDim;
    const jacobian = this.preconditioner.type === 'jacobian';
    this.current = newPoints(n, d, this.dataSize, jacobian, this.scratch);
    this.proposal = newPoints(n, d, this.dataSize, jacobian, this.scratch);
    this.streams = [];
    for (let k = 0; k < n; k++) {
      this.streams.push(new RandomStream(streamState(this.seed, this.chainOffset + k)));
    }
    this.counters = { warmup: newCounters(n), sampling: newCounters(n) };
    const diagonal = this.preconditioner.type === 'diagonal';
    this.windows = diagonal ? metricWindows(this.warmup) : { start: this.warmup, ends: [] };
    this.variance = diagonal ? newVarianceAccumulator(d) : null;
    this.metric = diagonal ? new Float64Array(d).fill(1) : null;
    this.rejectionStreak = new Uint32Array(n);
    this.isGlobal = new Uint8Array(n);
    this.forwardLogQ = new Float64Array(n);
    this.acceptedView = new Uint8Array(n);
    this.drift = new Float64Array(d);
    this.noise = new Float64Array(d);
    this.residual = new Float64Array(d);
  }

  /** Current step size `h`. */
  get stepSize(): number {
    return this.stepSizeValue;
  }

  /** Iterations done so far, warm-up included. */
  get iteration(): number {
    return this.iterationValue;
  }

  /** Phase of the next iteration. */
  get phase(): 'warmup' | 'sampling' {
    return this.iterationValue < this.warmup ? 'warmup' : 'sampling';
  }

  /** Current latent points `[chains, d]` (a view: copy it to keep it). */
  get z(): Float32Array {
    return this.current.z;
  }

  /** Current data points `[chains, ...dataShape]` (a view). */
  get x(): Float32Array {
    return this.current.x;
  }

  /** Current log pi `[chains]` (a view). */
  get logPi(): Float64Array {
    return this.current.logPi;
  }

  /** Current log|det J| `[chains]` (a view). */
  get logDet(): Float32Array {
    return this.current.logDet;
  }

  /** Diagonal of the preconditioner `[d]` (ones unless `diagonal`), a copy. */
  get diagonalMetric(): Float64Array {
    return this.metric === null
      ? new Float64Array(this.latentDim).fill(1)
      : Float64Array.from(this.metric);
  }

  /**
   * @internal Builds a sampler; use {@link init} or {@link restore}. `where` is the public
   * function called (`init()`, `restore()` or `sample()`), named in every error; `resume` is a
   * checkpoint to continue, not yet validated, named `label` in messages.
   */
  static async create(
    flow: DifferentiableFlow,
    options: SamplerOptions,
    where: string,
    resume?: { readonly checkpoint: unknown; readonly label: string },
  ): Promise<Sampler> {
    const resolved = resolveOptions(flow, options, where);
    const sampler = new Sampler(flow, resolved, where);
    if (resume !== undefined) {
      sampler.load(parseCheckpoint(where, resume.label, resume.checkpoint, sampler.config()));
      return sampler;
    }
    await sampler.initialise(options.initialZ);
    if (options.stepSize !== undefined) {
      sampler.stepSizeValue = options.stepSize;
    } else {
      sampler.stepSizeValue = await sampler.findInitialStepSize();
    }
    sampler.dualAveraging = startDualAveraging(sampler.stepSizeValue);
    return sampler;
  }

  /**
   * Advances every chain by one iteration: one batched proposal, one batched target evaluation,
   * one accept/reject per chain; during warm-up it also adapts. Call it once at a time: a second
   * call before the first has resolved would interleave two iterations.
   *
   * @returns what the iteration did; its `accepted` view is overwritten by the next call
   * @throws LatentLangevinError `FLOW_CALL_FAILED` when the flow or the target throws (the
   *   cause chained), InvalidFlowError when the flow returns arrays of the wrong length, and
   *   InvalidArgumentError when the target's log-density returns results of the wrong shape
   * @example
   * ```ts
   * const sampler = await init(flow, { target: tempered({ beta: 1 }), chains: 8, seed: 3 });
   * while (sampler.phase === 'warmup') await sampler.step();
   * const { acceptance } = await sampler.step();
   * ```
   */
  async step(): Promise<StepInfo> {
    const started = performance.now();
    const phase = this.phase;
    const counters = this.counters[phase];
    const n = this.chains;
    const h = this.stepSizeValue;

    this.propose(h, this.globalMoveProbability);
    await this.evaluate(this.proposal, counters, this.kernel === 'mala', 'iteration');

    let acceptanceSum = 0;
    let localCount = 0;
    let divergences = 0;
    for (let i = 0; i < n; i++) {
      const global = this.isGlobal[i] === 1;
      const logAccept = this.logAcceptance(i, h);
      const divergent = Number.isNaN(logAccept);
      const accepted = !divergent && Math.log(this.streams[i].uniform()) < logAccept;
      if (divergent) {
        counters.divergences[i] += 1;
        divergences += 1;
      }
      if (global) {
        counters.globalProposals[i] += 1;
        if (accepted) counters.globalAccepted[i] += 1;
      } else {
        counters.localProposals[i] += 1;
        if (accepted) counters.localAccepted[i] += 1;
        acceptanceSum += divergent ? 0 : Math.min(1, Math.exp(logAccept));
        localCount += 1;
      }
      this.acceptedView[i] = accepted ? 1 : 0;
      this.rejectionStreak[i] = accepted ? 0 : this.rejectionStreak[i] + 1;
      if (accepted) this.copyRow(this.proposal, i, this.current, i);
    }
    const acceptance = localCount > 0 ? acceptanceSum / localCount : Number.NaN;

    let relocations = 0;
    if (phase === 'warmup') {
      relocations = this.relocateStuckChains(counters);
      this.adapt(acceptance);
    }
    this.iterationValue += 1;
    counters.wallTimeMs += performance.now() - started;
    return {
      phase,
      iteration: this.iterationValue,
      acceptance,
      stepSize: h,
      accepted: this.acceptedView,
      divergences,
      relocations,
    };
  }

  /**
   * The sampler's complete state as JSON-compatible data, a copy; {@link restore} (or
   * `sample()` with `resume`) continues from it bit for bit.
   *
   * @returns a {@link SamplerCheckpoint}; it survives `JSON.stringify` and `JSON.parse` exactly
   * @throws nothing
   * @example
   * ```ts
   * const saved = JSON.stringify(sampler.checkpoint());
   * const again = await restore(flow, JSON.parse(saved), options);
   * ```
   */
  checkpoint(): SamplerCheckpoint {
    const c = this.current;
    const serialiseCounters = (p: PhaseCounters): SerialisedCounters => ({
      localProposals: Array.from(p.localProposals),
      localAccepted: Array.from(p.localAccepted),
      globalProposals: Array.from(p.globalProposals),
      globalAccepted: Array.from(p.globalAccepted),
      divergences: Array.from(p.divergences),
      relocations: Array.from(p.relocations),
      gradientRows: p.gradientRows,
      forwardRows: p.forwardRows,
      flowRows: p.flowRows,
      wallTimeMs: p.wallTimeMs,
    });
    return {
      format: CHECKPOINT_FORMAT,
      config: this.config(),
      iteration: this.iterationValue,
      stepSize: this.stepSizeValue,
      dualAveraging: { ...this.dualAveraging },
      variance:
        this.variance === null
          ? null
          : {
              count: this.variance.count,
              mean: Array.from(this.variance.mean),
              m2: Array.from(this.variance.m2),
            },
      metric: this.metric === null ? null : Array.from(this.metric),
      state: {
        z: Array.from(c.z),
        logPi: Array.from(c.logPi),
        grad: Array.from(c.grad),
        x: Array.from(c.x),
        logDet: Array.from(c.logDet),
        cholesky: c.cholesky === null ? null : Array.from(c.cholesky),
        logDetA: c.logDetA === null ? null : Array.from(c.logDetA),
        rejectionStreak: Array.from(this.rejectionStreak),
      },
      random: this.streams.map((s) => s.getState()),
      counters: {
        warmup: serialiseCounters(this.counters.warmup),
        sampling: serialiseCounters(this.counters.sampling),
      },
    };
  }

  private config(): CheckpointConfig {
    return {
      chains: this.chains,
      latentDim: this.latentDim,
      dataSize: this.dataSize,
      target: this.target.name,
      kernel: this.kernel,
      preconditioner: this.preconditioner,
      warmup: this.warmup,
      seed: this.seed,
      chainOffset: this.chainOffset,
      adaptStepSize: this.adaptStepSize,
      targetAcceptance: this.targetAcceptance,
      globalMoveProbability: this.globalMoveProbability,
      relocateStuckAfter: this.relocateStuckAfter,
    };
  }

  /** Reads a validated checkpoint of a run configured like this sampler. */
  private load(checkpoint: SamplerCheckpoint): void {
    const c = this.current;
    const s = checkpoint.state;
    c.z.set(s.z);
    c.logPi.set(s.logPi);
    c.grad.set(s.grad);
    c.x.set(s.x);
    c.logDet.set(s.logDet);
    if (c.cholesky !== null && s.cholesky !== null) c.cholesky.set(s.cholesky);
    if (c.logDetA !== null && s.logDetA !== null) c.logDetA.set(s.logDetA);
    this.rejectionStreak.set(s.rejectionStreak);
    checkpoint.random.forEach((state, k) => (this.streams[k] = new RandomStream(state)));
    this.iterationValue = checkpoint.iteration;
    this.stepSizeValue = checkpoint.stepSize;
    this.dualAveraging = { ...checkpoint.dualAveraging };
    if (this.variance !== null && checkpoint.variance !== null) {
      this.variance.count = checkpoint.variance.count;
      this.variance.mean.set(checkpoint.variance.mean);
      this.variance.m2.set(checkpoint.variance.m2);
    }
    if (this.metric !== null && checkpoint.metric !== null) this.metric.set(checkpoint.metric);
    for (const phase of ['warmup', 'sampling'] as const) {
      const saved = checkpoint.counters[phase];
      const mine = this.counters[phase];
      mine.localProposals.set(saved.localProposals);
      mine.localAccepted.set(saved.localAccepted);
      mine.globalProposals.set(saved.globalProposals);
      mine.globalAccepted.set(saved.globalAccepted);
      mine.divergences.set(saved.divergences);
      mine.relocations.set(saved.relocations);
      mine.gradientRows = saved.gradientRows;
      mine.forwardRows = saved.forwardRows;
      mine.flowRows = saved.flowRows;
      mine.wallTimeMs = saved.wallTimeMs;
    }
  }

  /** Draws or checks the initial points and evaluates the target there. */
  private async initialise(initialZ: ArrayLike<number> | undefined): Promise<void> {
    const n = this.chains;
    const d = this.latentDim;
    const c = this.current;
    const counters = this.counters.warmup;

    if (initialZ !== undefined) {
      if (initialZ.length !== n * d) {
        throw new InvalidArgumentError(this.where, [
          `options.initialZ has length ${initialZ.length}; expected chains * d = ${n} * ${d} = ` +
            `${n * d}, one row of z per chain. Pass a [chains, d] array, or leave it out.`,
        ]);
      }
      for (let k = 0; k < n * d; k++) c.z[k] = initialZ[k];
      await this.evaluate(c, counters, this.kernel === 'mala', 'initial points');
      const bad = this.nonFiniteRows(c);
      if (bad.length > 0) {
        throw new LatentLangevinError(
          'NON_FINITE_INITIAL_STATE',
          `${this.where}: log pi or its gradient is not finite at the initial point of chain(s) ` +
            `[${bad.slice(0, 10).join(', ')}${bad.length > 10 ? ', ...' : ''}] ` +
            'of options.initialZ. ' +
            'Start those chains inside the support of the target, or leave initialZ out to ' +
            'draw starting points from the base density.',
        );
      }
      return;
    }

    const withGradient = this.kernel === 'mala';
    for (let i = 0; i < n; i++) this.drawStandardNormal(i, c.z, i * d);
    await this.evaluate(c, counters, withGradient, 'initial points');
    let bad = this.nonFiniteRows(c);
    for (let attempt = 1; attempt < MAX_INITIAL_ATTEMPTS && bad.length > 0; attempt++) {
      for (const i of bad) this.drawStandardNormal(i, c.z, i * d);
      await this.evaluate(c, counters, withGradient, 'initial points');
      bad = this.nonFiniteRows(c);
    }
    if (bad.length > 0) {
      throw new LatentLangevinError(
        'NON_FINITE_INITIAL_STATE',
        `${this.where}: log pi or its gradient was not finite at ${MAX_INITIAL_ATTEMPTS} ` +
          'starting ' +
          `points drawn from the base density for chain(s) [${bad.slice(0, 10).join(', ')}]. ` +
          'Check that the target is finite somewhere near the origin, or pass options.initialZ.',
      );
    }
  }

  private nonFiniteRows(points: PointBuffers): number[] {
    const d = this.latentDim;
    const bad: number[] = [];
    for (let i = 0; i < this.chains; i++) {
      let finite = Number.isFinite(points.logPi[i]);
      for (let j = 0; finite && j < d; j++) finite = Number.isFinite(points.grad[i * d + j]);
      if (finite && points.logDetA !== null) finite = Number.isFinite(points.logDetA[i]);
      if (!finite) bad.push(i);
    }
    return bad;
  }

  /**
   * Doubling or halving search for a step size whose mean acceptance probability crosses 0.5,
   * starting at 1 (Hoffman and Gelman 2014, algorithm 4). Proposals are evaluated, never taken.
   */
  private async findInitialStepSize(): Promise<number> {
    const counters = this.counters.warmup;
    const trial = async (h: number): Promise<number> => {
      this.propose(h, 0);
      await this.evaluate(this.proposal, counters, this.kernel === 'mala', 'step-size search');
      let sum = 0;
      for (let i = 0; i < this.chains; i++) {
        const logAccept = this.logAcceptance(i, h);
        sum += Number.isNaN(logAccept) ? 0 : Math.min(1, Math.exp(logAccept));
      }
      return sum / this.chains;
    };
    let h = 1;
    const direction = (await trial(h)) > 0.5 ? 2 : 0.5;
    for (let k = 0; k < 30; k++) {
      const next = h * direction;
      const acceptance = await trial(next);
      h = next;
      if (direction > 1 ? acceptance < 0.5 : acceptance > 0.5) break;
    }
    return h;
  }

  /** Fills `out[offset..offset+d)` with standard normals from chain `i`'s stream. */
  private drawStandardNormal(i: number, out: Float32Array, offset: number): void {
    const stream = this.streams[i];
    for (let j = 0; j < this.latentDim; j++) out[offset + j] = stream.normal();
  }

  /** Writes one proposal per chain into `this.proposal.z` and its forward log-density. */
  private propose(h: number, globalProbability: number): void {
    const d = this.latentDim;
    const c = this.current;
    const zp = this.proposal.z;
    const sqrtH = Math.sqrt(h);
    for (let i = 0; i < this.chains; i++) {
      const stream = this.streams[i];
      const global = globalProbability > 0 && stream.uniform() < globalProbability;
      this.isGlobal[i] = global ? 1 : 0;
      if (global) {
        this.drawStandardNormal(i, zp, i * d);
        continue;
      }
      for (let j = 0; j < d; j++) this.noise[j] = stream.normal();
      this.scaleNoise(c, i);
      if (this.kernel === 'mala') {
        this.meanOf(c, i, h, this.drift);
      } else {
        for (let j = 0; j < d; j++) this.drift[j] = c.z[i * d + j];
      }
      for (let j = 0; j < d; j++) zp[i * d + j] = this.drift[j] + sqrtH * this.noise[j];
      if (this.kernel === 'mala') {
        this.forwardLogQ[i] = this.logProposal(c, i, h, this.drift, zp, i * d);
      }
    }
  }

  /** Turns standard normals in `this.noise` into a draw of `N(0, M(z_i))`. */
  private scaleNoise(points: PointBuffers, i: number): void {
    const d = this.latentDim;
    if (this.metric !== null) {
      for (let j = 0; j < d; j++) this.noise[j] *= Math.sqrt(this.metric[j]);
    } else if (points.cholesky !== null) {
      // M = A^-1 = L^-T L^-1, so L^-T xi has covariance M.
      solveUpper(points.cholesky, i * d * d, d, this.noise);
    }
  }

  /** Writes `mu(z_i) = z_i + (h / 2) M(z_i) grad_i` into `out`. */
  private meanOf(points: PointBuffers, i: number, h: number, out: Float64Array): void {
    const d = this.latentDim;
    for (let j = 0; j < d; j++) out[j] = points.grad[i * d + j];
    if (this.metric !== null) {
      for (let j = 0; j < d; j++) out[j] *= this.metric[j];
    } else if (points.cholesky !== null) {
      solveLower(points.cholesky, i * d * d, d, out);
      solveUpper(points.cholesky, i * d * d, d, out);
    }
    for (let j = 0; j < d; j++) out[j] = points.z[i * d + j] + 0.5 * h * out[j];
  }

  /**
   * `log N(y; mean, h M(z_i))` up to the terms that cancel in the ratio:
   * `-(y - mean)^T A (y - mean) / (2h) + log det A / 2`, with `A = M^-1`.
   */
  private logProposal(
    from: PointBuffers,
    i: number,
    h: number,
    mean: Float64Array,
    y: ArrayLike<number>,
    offset: number,
  ): number {
    const d = this.latentDim;
    for (let j = 0; j < d; j++) this.residual[j] = y[offset + j] - mean[j];
    if (from.cholesky !== null && from.logDetA !== null) {
      const quadratic = quadraticForm(from.cholesky, i * d * d, d, this.residual);
      return -quadratic / (2 * h) + 0.5 * from.logDetA[i];
    }
    let quadratic = 0;
    for (let j = 0; j < d; j++) {
      const r = this.residual[j];
      quadratic += this.metric === null ? r * r : (r * r) / this.metric[j];
    }
    return -quadratic / (2 * h);
  }

  /** Log acceptance ratio of chain `i`'s proposal, NaN when the proposal diverged. */
  private logAcceptance(i: number, h: number): number {
    const d = this.latentDim;
    const c = this.current;
    const p = this.proposal;
    let finite = Number.isFinite(p.logPi[i]);
    for (let j = 0; finite && j < d; j++) finite = Number.isFinite(p.grad[i * d + j]);
    if (finite && p.logDetA !== null) finite = Number.isFinite(p.logDetA[i]);
    if (!finite) return Number.NaN;

    const difference = p.logPi[i] - c.logPi[i];
    if (this.isGlobal[i] === 1) {
      return difference + logStandardNormal(c.z, i, d) - logStandardNormal(p.z, i, d);
    }
    if (this.kernel === 'rwm') return difference;
    this.meanOf(p, i, h, this.drift);
    const reverse = this.logProposal(p, i, h, this.drift, c.z, i * d);
    const result = difference + reverse - this.forwardLogQ[i];
    return Number.isNaN(result) ? Number.NaN : result;
  }

  /** The function and moment a target evaluation belongs to, for error messages. */
  private describeStage(stage: Stage): { where: string; when: string } {
    if (stage === 'initial points') return { where: this.where, when: 'at the initial points' };
    if (stage === 'step-size search') {
      return { where: this.where, when: 'in the initial step-size search' };
    }
    return {
      where: this.where === 'sample()' ? 'sample()' : 'step()',
      when: `in iteration ${this.iterationValue + 1} (${this.phase})`,
    };
  }

  /** Evaluates the target (and the jacobian preconditioner) at the rows of `points.z`. */
  private async evaluate(
    points: PointBuffers,
    counters: PhaseCounters,
    withGradient: boolean,
    stage: Stage,
  ): Promise<void> {
    const n = this.chains;
    const out = withGradient ? points.withGradient : points.withoutGradient;
    let outputs;
    try {
      outputs = await this.target.evaluate(this.flow, points.z, n, out);
    } catch (error) {
      const { where, when } = this.describeStage(stage);
      if (error instanceof InvalidFlowError) {
        const context = `${where}, ${when}, target ${this.target.name}`;
        throw new InvalidFlowError(context, error.problems, { cause: error });
      }
      if (error instanceof LatentLangevinError) throw error;
      throw new LatentLangevinError(
        'FLOW_CALL_FAILED',
        `${where}: evaluating target ${this.target.name} on ${n} chains failed ${when}: ` +
          `${(error as Error)?.message ?? String(error)}`,
        { cause: error },
      );
    }
    if (outputs.x.length !== n * this.dataSize || outputs.logDet.length !== n) {
      const { where, when } = this.describeStage(stage);
      throw new InvalidFlowError(`${where}, ${when}`, [
        `target ${this.target.name} returned x of length ${outputs.x.length} and logDet of ` +
          `length ${outputs.logDet.length} for a batch of ${n} rows; expected ` +
          `${n * this.dataSize} and ${n}.`,
      ]);
    }
    counters.gradientRows += outputs.gradientRows;
    counters.forwardRows += outputs.forwardRows;
    counters.flowRows += outputs.forwardRows + outputs.gradientRows * this.cost.vjp;
    points.x.set(outputs.x);
    points.logDet.set(outputs.logDet);
    if (!withGradient) points.grad.fill(0);
    if (points.cholesky !== null && points.logDetA !== null) {
      await this.evaluateMetric(points, counters, stage);
    }
  }

  /** `A(z) = J^T J + lambda I` and its Cholesky factor at every row of `points.z`. */
  private async evaluateMetric(
    points: PointBuffers,
    counters: PhaseCounters,
    stage: Stage,
  ): Promise<void> {
    const n = this.chains;
    const d = this.latentDim;
    const size = this.dataSize;
    const cholesky = points.cholesky as Float64Array;
    const logDetA = points.logDetA as Float64Array;
    const method = this.flow.jacobian !== undefined ? 'jacobian' : 'vjp';
    let jacobian: Float32Array;
    try {
      if (this.flow.jacobian !== undefined) {
        jacobian = (await this.flow.jacobian(points.z, n))?.jacobian;
        counters.gradientRows += n * d;
        counters.flowRows += n * this.cost.jacobian;
      } else {
        // Row a of J_i is the VJP with cotangent e_a: one batch of n * D rows.
        if (this.jacobianRows === null || this.jacobianCotangent === null) {
          this.jacobianRows = new Float32Array(n * size * d);
          this.jacobianCotangent = new Float32Array(n * size * size);
          for (let r = 0; r < n * size; r++) this.jacobianCotangent[r * size + (r % size)] = 1;
        }
        const rows = this.jacobianRows;
        for (let i = 0; i < n; i++) {
          for (let a = 0; a < size; a++) {
            const offset = (i * size + a) * d;
            for (let j = 0; j < d; j++) rows[offset + j] = points.z[i * d + j];
          }
        }
        jacobian = (await this.flow.vjp(rows, n * size, { x: this.jacobianCotangent }))?.z;
        counters.gradientRows += n * size;
        counters.flowRows += n * size * this.cost.vjp;
      }
    } catch (error) {
      const { where, when } = this.describeStage(stage);
      throw new LatentLangevinError(
        'FLOW_CALL_FAILED',
        `${where}: the Jacobian of the flow at ${n} chains (jacobian preconditioner) failed ` +
          `${when}: ${(error as Error)?.message ?? String(error)}`,
        { cause: error },
      );
    }
    if (jacobian?.length !== n * size * d) {
      const { where, when } = this.describeStage(stage);
      const got = jacobian === undefined ? 'no array' : `length ${jacobian.length}`;
      const call =
        method === 'jacobian'
          ? `jacobian(z, ${n}) returned jacobian`
          : `vjp(z, ${n * size}, cotangent) returned z`;
      throw new InvalidFlowError(`${where}, ${when}`, [
        `${call} of ${got} for the jacobian preconditioner; expected n * D * d = ` +
          `${n} * ${size} * ${d} = ${n * size * d}. Return one [D, d] Jacobian per input row; ` +
          'checkFlow(flow) lists every problem.',
      ]);
    }
    const lambda = this.preconditioner.damping;
    for (let i = 0; i < n; i++) {
      const offset = i * d * d;
      const jOffset = i * size * d;
      for (let b = 0; b < d; b++) {
        for (let c = 0; c <= b; c++) {
          let sum = b === c ? lambda : 0;
          for (let a = 0; a < size; a++) {
            sum += jacobian[jOffset + a * d + b] * jacobian[jOffset + a * d + c];
          }
          cholesky[offset + b * d + c] = sum;
          cholesky[offset + c * d + b] = sum;
        }
      }
      logDetA[i] = choleskyInPlace(cholesky, offset, d);
    }
  }

  /**
   * Copies row `i` of `from` to row `j` of `to`; plain loops, since a `subarray` view would
   * allocate per row.
   */
  private copyRow(from: PointBuffers, i: number, to: PointBuffers, j: number): void {
    const d = this.latentDim;
    const size = this.dataSize;
    for (let k = 0; k < d; k++) {
      to.z[j * d + k] = from.z[i * d + k];
      to.grad[j * d + k] = from.grad[i * d + k];
    }
    for (let k = 0; k < size; k++) to.x[j * size + k] = from.x[i * size + k];
    to.logPi[j] = from.logPi[i];
    to.logDet[j] = from.logDet[i];
    if (from.cholesky !== null && to.cholesky !== null) {
      for (let k = 0; k < d * d; k++) to.cholesky[j * d * d + k] = from.cholesky[i * d * d + k];
    }
    if (from.logDetA !== null && to.logDetA !== null) to.logDetA[j] = from.logDetA[i];
  }

  /**
   * Warm-up only: moves every chain that has not moved for `relocateStuckAfter` iterations to the
   * current point of a chain, drawn uniformly with the stuck chain's own stream, that moved within
   * as many. MALA started where the gradient is steep (a ridge of the pull-back density in the
   * thin bridge between two modes, say) proposes far beyond the ridge and is rejected every
   * time, and at the step size tuned for the other chains it never leaves. Nothing moves when no
   * chain qualifies as a donor. Warm-up draws are discarded and the kernel is frozen afterwards,
   * so this changes where the sampling phase starts and not what it samples.
   *
   * @returns the number of chains moved
   */
  private relocateStuckChains(counters: PhaseCounters): number {
    const limit = this.relocateStuckAfter;
    if (limit === 0) return 0;
    const n = this.chains;
    let stuck = 0;
    for (let i = 0; i < n; i++) if (this.rejectionStreak[i] >= limit) stuck += 1;
    const donors = n - stuck;
    if (stuck === 0 || donors === 0) return 0;
    for (let i = 0; i < n; i++) {
      if (this.rejectionStreak[i] < limit) continue;
      // The k-th chain, in index order, among those that are not stuck.
      let k = Math.floor(this.streams[i].uniform() * donors);
      let donor = 0;
      for (; donor < n; donor++) {
        if (this.rejectionStreak[donor] < limit && k-- === 0) break;
      }
      this.copyRow(this.current, donor, this.current, i);
      counters.relocations[i] += 1;
    }
    // Reset only now, so that every draw above chose among the same donors.
    for (let i = 0; i < n; i++) if (this.rejectionStreak[i] >= limit) this.rejectionStreak[i] = 0;
    return stuck;
  }

  /** Warm-up: dual averaging of h, and the diagonal preconditioner over its windows. */
  private adapt(acceptance: number): void {
    const t = this.iterationValue; // index of the iteration just done
    if (this.adaptStepSize && !Number.isNaN(acceptance)) {
      this.stepSizeValue = updateDualAveraging(
        this.dualAveraging,
        acceptance,
        this.targetAcceptance,
      );
    }
    if (this.variance !== null && this.metric !== null && this.windows.ends.length > 0) {
      const lastEnd = this.windows.ends[this.windows.ends.length - 1];
      if (t >= this.windows.start && t < lastEnd) {
        accumulate(this.variance, this.current.z, this.chains, this.latentDim);
      }
      if (this.windows.ends.includes(t + 1)) {
        regularisedVariance(this.variance, this.metric);
        this.variance = newVarianceAccumulator(this.latentDim);
        if (this.adaptStepSize) this.dualAveraging = startDualAveraging(this.stepSizeValue);
      }
    }
    if (t + 1 === this.warmup && this.adaptStepSize) {
      this.stepSizeValue = finalStepSize(this.dualAveraging, this.stepSizeValue);
    }
  }
}

interface ResolvedOptions {
  target: LatentTarget;
  chains: number;
  seed: number;
  warmup: number;
  kernel: 'mala' | 'rwm';
  preconditioner: PreconditionerConfig;
  adaptStepSize: boolean;
  targetAcceptance: number;
  globalMoveProbability: number;
  chainOffset: number;
  relocateStuckAfter: number;
}

function resolveOptions(
  flow: DifferentiableFlow,
  options: SamplerOptions,
  where: string,
): ResolvedOptions {
  const kernel = options.kernel ?? 'mala';
  const preconditioner = normalisePreconditioner(options.preconditioner, flow.latentDim, where);
  if (kernel === 'rwm' && preconditioner.type === 'jacobian') {
    throw new InvalidArgumentError(where, [
      "options.preconditioner: 'jacobian' is position dependent and would make the random-walk " +
        "proposal asymmetric; received kernel 'rwm'. Use 'identity' or 'diagonal' with 'rwm'.",
    ]);
  }
  return {
    target: options.target,
    chains: options.chains,
    seed: options.seed,
    warmup: options.warmup ?? 500,
    kernel,
    preconditioner,
    adaptStepSize: options.adaptStepSize ?? true,
    targetAcceptance: options.targetAcceptance ?? (kernel === 'mala' ? 0.574 : 0.234),
    globalMoveProbability: options.globalMoveProbability ?? 0,
    chainOffset: options.chainOffset ?? 0,
    relocateStuckAfter: options.relocateStuckAfter ?? 0,
  };
}

/**
 * Creates a sampler for custom loops: validates the options, draws the initial points, finds a
 * starting step size, and evaluates the target there. Call `step()` once per iteration.
 *
 * @param flow the flow, from an adapter or an analytic flow
 * @param options see {@link SamplerOptions}; the options of `sample()` alone (`draws`, `keepX`,
 *   `onProgress`, `signal`, `resume`) are refused
 * @throws InvalidArgumentError for bad or unknown options; InvalidFlowError for a flow that
 *   breaks its contract; LatentLangevinError `NON_FINITE_INITIAL_STATE` when log pi is not
 *   finite at the initial points, `FLOW_CALL_FAILED` when the flow throws
 * @example
 * ```ts
 * const sampler = await init(flow, { target: tempered({ beta: 1 }), chains: 8, seed: 3 });
 * for (let t = 0; t < 1000; t++) await sampler.step();
 * ```
 */
export async function init(flow: DifferentiableFlow, options: SamplerOptions): Promise<Sampler> {
  const parsed = parseSamplerOptions('init()', options);
  checkFlowShape('init()', flow);
  return Sampler.create(flow, parsed, 'init()');
}

/**
 * Restores a sampler from a checkpoint; with the options of the saved run it continues the run
 * exactly as if it had never stopped. The target is compared by its `name` only (see
 * `SampleOptions.resume`).
 *
 * @param flow the flow of the saved run
 * @param checkpoint from `sampler.checkpoint()`, after `JSON.parse` if stored
 * @param options the options of the saved run
 * @throws InvalidArgumentError for bad options; IncompatibleCheckpointError (code
 *   `INCOMPATIBLE_CHECKPOINT`) when the checkpoint is malformed or the options differ from the
 *   run's
 * @example
 * ```ts
 * const saved = JSON.stringify(sampler.checkpoint());
 * const again = await restore(flow, JSON.parse(saved), options);
 * ```
 */
export async function restore(
  flow: DifferentiableFlow,
  checkpoint: SamplerCheckpoint,
  options: SamplerOptions,
): Promise<Sampler> {
  const parsed = parseSamplerOptions('restore()', options);
  checkFlowShape('restore()', flow);
  if (typeof checkpoint !== 'object' || checkpoint === null) {
    throw new InvalidArgumentError('restore()', [
      `checkpoint must be an object from sampler.checkpoint(); received ` +
        `${describeValue(checkpoint)}. Pass the saved checkpoint (after JSON.parse if stored).`,
    ]);
  }
  return Sampler.create(flow, parsed, 'restore()', { checkpoint, label: 'checkpoint' });
}
