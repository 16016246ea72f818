/**
 * The race against PyTorch: the same latent MALA (target, identity preconditioner, step size,
 * chains, starting points, steps) run by the core on onnxruntime-node and by the reference
 * script on PyTorch with autograd, both on the CPU with the same thread count. The Python
 * process is spawned once; every repeat times our steps and PyTorch's back to back (in
 * alternating order), so each ratio compares two timings under the same machine load.
 *
 * Before any timing, both sides evaluate log pi and its gradient on the same latent batch; a
 * fixture whose values differ beyond float32 tolerance gets no ratio.
 */
import { RandomStream, init, streamState, tempered } from '@latent-langevin/core';
import type { OnnxFlow } from '@latent-langevin/onnx';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import { type FixtureName, fixturePath, loadFixture } from './fixtures.js';
import { instrumentFlow, newCallTimes, resetCallTimes } from './instrument.js';
import { type OperatorShare, profileOnnx } from './onnx-profile.js';
import {
  PythonReference,
  type ReferenceReply,
  TORCH_INSTALL_HINT,
  checkTorch,
} from './python-reference.js';
import { type Spread, spreadOf } from './spread.js';
import { callsForBudget, pause, warmUp } from './timing.js';

/** Settings of {@link runPytorchRace}. */
export interface RaceOptions {
  readonly fixtures: readonly FixtureName[];
  /** Batch sizes, e.g. `[1, 16, 256, 4096]`. */
  readonly chains: readonly number[];
  /** Threads of both runtimes: ONNX Runtime's `intraOpNumThreads`, `torch.set_num_threads`. */
  readonly threads: number;
  /**
   * Thread counts of further races, run after the main one without profiles, e.g. `[1]`: a
   * check that is insensitive to other jobs taking the cores a 2-thread pool waits for.
   */
  readonly extraThreadCounts: readonly number[];
  /** Step size per fixture, fixed (no adaptation) and the same on both sides. */
  readonly stepSizes: Readonly<Record<FixtureName, number>>;
  readonly seed: number;
  /** Untimed steps on each side before the first repeat. */
  readonly warmup: number;
  readonly repeats: number;
  /** Wall time one repeat of our steps should take, which sets the steps per repeat. */
  readonly budgetMs: number;
  /** Interpreter that has PyTorch, e.g. `/usr/bin/python3`. */
  readonly python: string;
  /** Rows of the latent batch both sides evaluate before racing. */
  readonly checkRows: number;
  /** Idle time between the two sides' timings, so that spinning threads settle. */
  readonly pauseMs: number;
  /** Steps to profile on each side where PyTorch wins; 0 for no profile. */
  readonly profileSteps: number;
}

/** The comparison of log-densities and gradients that gates the race. */
export interface RaceCheck {
  readonly rows: number;
  /** Largest `|logPi_ours - logPi_torch| / max(1, |logPi_torch|)`. */
  readonly logPiError: number;
  /** Largest `|g_ours - g_torch|` over the batch, over `max(1, max |g_torch|)`. */
  readonly gradientError: number;
  readonly logPiTolerance: number;
  readonly gradientTolerance: number;
  readonly passed: boolean;
}

/** One batch size of the race. */
export interface RaceRow {
  readonly chains: number;
  readonly stepsPerRepeat: number;
  /** Our chain-steps per second. */
  readonly ours: Spread;
  /** PyTorch's chain-steps per second. */
  readonly pytorch: Spread;
  /** `ours / pytorch`, paired repeat by repeat: above 1 means we are faster. */
  readonly ratio: Spread;
  /** Milliseconds per step in `flow.vjp` (ours). */
  readonly oursModelMs: Spread;
  /** Milliseconds per step outside the model (ours): target and sampler arithmetic. */
  readonly oursCoreMs: Spread;
  /** One-minute load average of the machine right after this row (other jobs included). */
  readonly loadAverage: number;
  /** Acceptance rates of the timed steps on both sides (the same kernel should agree). */
  readonly oursAcceptance: number;
  readonly pytorchAcceptance: number;
}

/** Where the time goes at one batch size, on both sides. */
export interface RaceProfile {
  readonly chains: number;
  /** ONNX Runtime's time per operator type in one VJP-graph call. */
  readonly onnx: readonly OperatorShare[];
  /** PyTorch's self CPU time per operator in one MALA step (torch.profiler). */
  readonly pytorch: readonly OperatorShare[];
}

/** The race on one fixture. */
export interface RaceFixture {
  readonly fixture: FixtureName;
  readonly target: string;
  readonly stepSize: number;
  readonly check: RaceCheck;
  /** Why no ratio is reported, or null. */
  readonly refused: string | null;
  readonly rows: readonly RaceRow[];
  /** Profiles at the largest batch where PyTorch is faster; null when we win everywhere. */
  readonly profile: RaceProfile | null;
}

/** The race at one thread count. */
export interface RaceRun {
  /** ONNX Runtime's `intraOpNumThreads`. */
  readonly onnxThreads: number;
  /** `torch.get_num_threads()` after `torch.set_num_threads`. */
  readonly torchThreads: number;
  readonly fixtures: readonly RaceFixture[];
}

/** The outcome of the race. */
export type RaceResult =
  | {
      readonly status: 'skipped';
      readonly reason: string;
      /** The command that installs PyTorch on the build machines. */
      readonly install: string;
    }
  | { readonly status: 'failed'; readonly reason: string }
  | {
      readonly status: 'ran';
      readonly torch: string;
      readonly python: string;
      /**
       * BLAS libraries the PyTorch process mapped (Debian's PyTorch runs its dense products on
       * the system's libblas.so.3); empty when they could not be read.
       */
      readonly blas: readonly string[];
      /** True when that BLAS is the unoptimised reference implementation. */
      readonly referenceBlas: boolean;
      /** `OPENBLAS_NUM_THREADS` in the PyTorch process (the reference sets 1 by default). */
      readonly blasThreads: string | null;
      /** The main race (`threads`), then one per extra thread count. */
      readonly runs: readonly RaceRun[];
    };

/** float32 tolerances of the check: relative to max(1, |value|). */
const LOG_PI_TOLERANCE = 1e-4;
const GRADIENT_TOLERANCE = 1e-3;
const TEMPERED = { kind: 'tempered', beta: 1 } as const;

/**
 * Races the core (onnxruntime-node, CPU) against the PyTorch reference on every fixture and
 * batch size. Skips, with the install command, when PyTorch cannot be imported.
 *
 * @param options fixtures, batch sizes, threads, step sizes, repeats, interpreter
 * @param onProgress receives one line per finished figure
 * @returns `skipped`, `failed` (the reference process broke; the reason says how), or `ran`
 * @example
 * ```ts
 * const race = await runPytorchRace(options, (line) => console.log(line));
 * if (race.status === 'ran') console.log(race.runs[0].fixtures[0].rows[0].ratio.median);
 * ```
 */
export async function runPytorchRace(
  options: RaceOptions,
  onProgress: (line: string) => void,
): Promise<RaceResult> {
  const torch = checkTorch(options.python);
  if (!torch.available) {
    return { status: 'skipped', reason: torch.reason, install: TORCH_INSTALL_HINT };
  }
  const reference = PythonReference.start(options.python);
  try {
    const hello = await reference.request({ cmd: 'hello' });
    const runs: RaceRun[] = [];
    for (const [k, threads] of [options.threads, ...options.extraThreadCounts].entries()) {
      const reply = await reference.request({ cmd: 'threads', threads });
      const run = { ...options, threads, profileSteps: k === 0 ? options.profileSteps : 0 };
      const fixtures: RaceFixture[] = [];
      for (const fixture of options.fixtures) {
        fixtures.push(await raceFixture(reference, fixture, run, onProgress));
      }
      runs.push({ onnxThreads: threads, torchThreads: Number(reply.threads), fixtures });
    }
    const blas = Array.isArray(hello.blas) ? hello.blas.map(String) : [];
    return {
      status: 'ran',
      torch: String(hello.torch),
      python: String(hello.python),
      blas,
      referenceBlas: isReferenceBlas(blas),
      blasThreads: typeof hello.blasThreads === 'string' ? hello.blasThreads : null,
      runs,
    };
  } catch (error) {
    return { status: 'failed', reason: (error as Error)?.message ?? String(error) };
  } finally {
    await reference.close();
  }
}

/**
 * True when the only BLAS mapped is the reference implementation (Debian's `libblas3`, under
 * `/blas/`), with no OpenBLAS, BLIS or MKL beside it.
 *
 * @example
 * ```ts
 * isReferenceBlas(['/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0']); // true
 * ```
 */
export function isReferenceBlas(paths: readonly string[]): boolean {
  const optimised = paths.some((p) => /openblas|blis|mkl/i.test(p));
  return !optimised && paths.some((p) => /\/blas\/libblas\.so/.test(p));
}

/** How to give Debian's PyTorch an optimised BLAS. */
export const OPENBLAS_INSTALL_HINT =
  'apt-get install -y --no-install-recommends libopenblas0-pthread';

async function raceFixture(
  reference: PythonReference,
  fixture: FixtureName,
  options: RaceOptions,
  onProgress: (line: string) => void,
): Promise<RaceFixture> {
  const flow = await loadFixture(fixture, {
    backend: 'onnxruntime-node/cpu',
    gradient: 'autodiff',
    threads: options.threads,
  });
  try {
    await reference.request({ cmd: 'load', dir: dirname(fixturePath(fixture)) });
    const check = await checkLogDensities(reference, flow, options);
    const base = {
      fixture,
      target: tempered({ beta: 1 }).name,
      stepSize: options.stepSizes[fixture],
      check,
    };
    if (!check.passed) {
      const refused =
        `log-densities differ beyond float32 tolerance on ${check.rows} rows (log pi ` +
        `${check.logPiError.toExponential(2)} > ${LOG_PI_TOLERANCE} or gradient ` +
        `${check.gradientError.toExponential(2)} > ${GRADIENT_TOLERANCE}); no ratio reported`;
      onProgress(`race ${fixture}: refused, ${refused}`);
      return { ...base, refused, rows: [], profile: null };
    }
    const rows: RaceRow[] = [];
    for (const chains of options.chains) {
      const row = await raceBatch(reference, flow, fixture, chains, options);
      rows.push(row);
      onProgress(
        `race ${fixture} ${chains} chains, ${options.threads} threads: ours ` +
          `${row.ours.median.toFixed(0)} vs PyTorch ` +
          `${row.pytorch.median.toFixed(0)} chain-steps/s, ratio ${row.ratio.median.toFixed(2)}`,
      );
    }
    const losing = rows.filter((r) => r.ratio.median < 1);
    let profile: RaceProfile | null = null;
    if (losing.length > 0 && options.profileSteps > 0) {
      const chains = losing[losing.length - 1].chains;
      profile = {
        chains,
        onnx: (await profileOnnx(fixture, chains, options.threads, options.profileSteps)).vjp.slice(
          0,
          12,
        ),
        pytorch: await profilePytorch(reference, flow, fixture, chains, options),
      };
      onProgress(`race ${fixture}: profiled both sides at ${chains} chains`);
    }
    return { ...base, refused: null, rows, profile };
  } finally {
    await flow.dispose();
  }
}

/** Evaluates tempered(beta = 1) on the same latent batch on both sides and compares. */
async function checkLogDensities(
  reference: PythonReference,
  flow: OnnxFlow,
  options: RaceOptions,
): Promise<RaceCheck> {
  const n = options.checkRows;
  const d = flow.latentDim;
  const random = new RandomStream(streamState(options.seed, 1_000_003));
  const z = new Float32Array(n * d).map(() => random.normal());
  const ours = { logPi: new Float64Array(n), grad: new Float64Array(n * d) };
  await tempered({ beta: 1 }).evaluate(flow, z, n, ours);
  const theirs = await reference.request({ cmd: 'logdensity', target: TEMPERED, n, z: [...z] });
  const logPi = theirs.logPi as number[];
  const grad = theirs.grad as number[];

  let logPiError = 0;
  for (let i = 0; i < n; i++) {
    const error = Math.abs(ours.logPi[i] - logPi[i]) / Math.max(1, Math.abs(logPi[i]));
    logPiError = Number.isNaN(error) ? Infinity : Math.max(logPiError, error);
  }
  let scale = 1;
  let gradientError = 0;
  for (let k = 0; k < n * d; k++) {
    scale = Math.max(scale, Math.abs(grad[k]));
    const error = Math.abs(ours.grad[k] - grad[k]);
    gradientError = Number.isNaN(error) ? Infinity : Math.max(gradientError, error);
  }
  gradientError /= scale;
  return {
    rows: n,
    logPiError,
    gradientError,
    logPiTolerance: LOG_PI_TOLERANCE,
    gradientTolerance: GRADIENT_TOLERANCE,
    passed: logPiError <= LOG_PI_TOLERANCE && gradientError <= GRADIENT_TOLERANCE,
  };
}

/** Alternating timings of one batch size. */
async function raceBatch(
  reference: PythonReference,
  flow: OnnxFlow,
  fixture: FixtureName,
  chains: number,
  options: RaceOptions,
): Promise<RaceRow> {
  const times = newCallTimes();
  const stepSize = options.stepSizes[fixture];
  const sampler = await init(instrumentFlow(flow, times), {
    target: tempered({ beta: 1 }),
    chains,
    seed: options.seed,
    warmup: 0,
    stepSize,
    adaptStepSize: false,
  });
  // Both sides start from the same points, so their acceptance rates are comparable.
  await reference.request({
    cmd: 'init',
    target: TEMPERED,
    chains,
    stepSize,
    seed: options.seed,
    z: [...sampler.z],
  });
  const callMs = await warmUp(() => sampler.step(), options.warmup, options.budgetMs);
  const steps = callsForBudget(callMs, options.budgetMs);
  // PyTorch warms up on the same number of steps (its first autograd calls allocate).
  await reference.request({ cmd: 'steps', steps: Math.max(options.warmup, steps) });

  const accepted0 = sumOf(sampler.counters.sampling.localAccepted);
  const proposed0 = sumOf(sampler.counters.sampling.localProposals);
  const ours: number[] = [];
  const pytorch: number[] = [];
  const model: number[] = [];
  const core: number[] = [];
  const pytorchAcceptance: number[] = [];
  const runOurs = async () => {
    resetCallTimes(times);
    const started = performance.now();
    for (let k = 0; k < steps; k++) await sampler.step();
    const ms = performance.now() - started;
    ours.push((1000 * chains * steps) / ms);
    model.push((times.vjpMs + times.forwardMs) / steps);
    core.push((ms - times.vjpMs - times.forwardMs) / steps);
  };
  const runTheirs = async (): Promise<void> => {
    const reply: ReferenceReply = await reference.request({ cmd: 'steps', steps });
    pytorch.push((chains * steps) / Number(reply.seconds));
    pytorchAcceptance.push(Number(reply.acceptance));
  };
  for (let r = 0; r < options.repeats; r++) {
    const order = r % 2 === 0 ? [runOurs, runTheirs] : [runTheirs, runOurs];
    for (const run of order) {
      await run();
      await pause(options.pauseMs);
    }
  }
  const accepted = sumOf(sampler.counters.sampling.localAccepted) - accepted0;
  const proposed = sumOf(sampler.counters.sampling.localProposals) - proposed0;
  return {
    chains,
    stepsPerRepeat: steps,
    ours: spreadOf(ours),
    pytorch: spreadOf(pytorch),
    ratio: spreadOf(ours.map((o, r) => o / pytorch[r])),
    oursModelMs: spreadOf(model),
    oursCoreMs: spreadOf(core),
    loadAverage: loadavg()[0],
    oursAcceptance: proposed > 0 ? accepted / proposed : Number.NaN,
    pytorchAcceptance: pytorchAcceptance.reduce((a, b) => a + b, 0) / pytorchAcceptance.length,
  };
}

/** PyTorch's self CPU time per operator over `profileSteps` MALA steps of `chains` chains. */
async function profilePytorch(
  reference: PythonReference,
  flow: OnnxFlow,
  fixture: FixtureName,
  chains: number,
  options: RaceOptions,
): Promise<OperatorShare[]> {
  const random = new RandomStream(streamState(options.seed, 0));
  const z = new Float32Array(chains * flow.latentDim).map(() => random.normal());
  await reference.request({
    cmd: 'init',
    target: TEMPERED,
    chains,
    stepSize: options.stepSizes[fixture],
    seed: options.seed,
    z: [...z],
  });
  await reference.request({ cmd: 'steps', steps: 1 });
  const reply = await reference.request({ cmd: 'profile', steps: options.profileSteps });
  return reply.operators as OperatorShare[];
}

function sumOf(values: ArrayLike<number>): number {
  let total = 0;
  for (let k = 0; k < values.length; k++) total += values[k];
  return total;
}
