/**
 * Progress of a sampling run on standard error: a live bar on a terminal (cli-progress), plain
 * lines every few seconds otherwise (CI logs, pipes), and nothing when switched off.
 */
import type { SampleProgress } from '@latent-langevin/core';
import cliProgress from 'cli-progress';
import type { OutputStream } from './io.js';

/** Receives the sampler's progress; `stop` ends the display. */
export interface ProgressReporter {
  update(progress: SampleProgress): void;
  stop(): void;
}

/** Seconds as `42s`, `3m05s` or `1h02m`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** What both displays show, computed from one progress report. */
interface Figures {
  readonly done: number;
  readonly total: number;
  readonly drawsPerSecond: number;
  readonly secondsLeft: number;
  /** Mean acceptance probability over this phase's iterations so far. */
  readonly acceptance: number;
}

/**
 * Tracks iterations over both phases: a run's rate and time left count warm-up and sampling
 * iterations alike, since each costs one batched model call.
 */
class RateTracker {
  private lastPhase: SampleProgress['phase'] | null = null;
  private acceptanceSum = 0;
  private acceptanceCount = 0;

  constructor(
    private readonly chains: number,
    private readonly warmup: number,
    private readonly draws: number,
  ) {}

  figures(progress: SampleProgress): Figures {
    if (progress.phase !== this.lastPhase) {
      this.lastPhase = progress.phase;
      this.acceptanceSum = 0;
      this.acceptanceCount = 0;
    }
    if (Number.isFinite(progress.acceptance)) {
      this.acceptanceSum += progress.acceptance;
      this.acceptanceCount += 1;
    }
    const done =
      progress.phase === 'warmup' ? progress.iteration : this.warmup + progress.iteration;
    const total = this.warmup + this.draws;
    const perIteration = progress.elapsedMs / Math.max(1, done);
    return {
      done,
      total,
      drawsPerSecond: (1000 * this.chains) / Math.max(perIteration, 1e-9),
      secondsLeft: ((total - done) * perIteration) / 1000,
      acceptance: this.acceptanceSum / this.acceptanceCount,
    };
  }
}

const number = (value: number, digits: number) =>
  Number.isFinite(value) ? value.toFixed(digits) : 'n/a';

const stepSize = (value: number) =>
  !Number.isFinite(value)
    ? 'n/a'
    : value >= 1e-3 && value < 1e4
      ? value.toPrecision(3)
      : value.toExponential(2);

/**
 * Characters of a bar line other than the bar, at most: phase 9, percentage 6, a rate of up to
 * 5 digits 15, acceptance 17, step size 14, and up to 99 hours left 11.
 */
const TEXT_WIDTH = 72;

/**
 * The bar's width on a terminal of `columns` columns (80 when unknown): what the text leaves
 * of the line, so that it stays short of the last column down to 80 columns. The terminal does
 * not wrap the line while the bar runs: on a narrower one the end of the line is cut off.
 */
function barSize(columns: number | undefined): number {
  return Math.max(5, Math.min(30, (columns ?? 80) - TEXT_WIDTH - 1));
}

/**
 * A progress display for `sample()`: a cli-progress bar when `stream` is a terminal, otherwise a
 * plain line at most every `intervalMs` milliseconds (and at the end of each phase).
 *
 * @param stream where to draw, normally standard error
 * @param run chains, warm-up and draws of the run, to compute rates and the time left
 * @param options.enabled false gives a reporter that prints nothing
 * @param options.intervalMs least time between plain lines; default 2000
 * @example
 * ```ts
 * const progress = createProgress(process.stderr, { chains: 4, warmup: 500, draws: 1000 });
 * const run = await sample(flow, { ...options, onProgress: (p) => progress.update(p) });
 * progress.stop();
 * ```
 */
export function createProgress(
  stream: OutputStream,
  run: { chains: number; warmup: number; draws: number },
  options: { enabled?: boolean; intervalMs?: number; now?: () => number } = {},
): ProgressReporter {
  if (options.enabled === false) return { update() {}, stop() {} };
  const tracker = new RateTracker(run.chains, run.warmup, run.draws);

  if (stream.isTTY === true) {
    const bar = new cliProgress.SingleBar({
      stream: stream as unknown as NodeJS.WritableStream,
      format:
        '{phase} {bar} {percentage}% {rate} draws/s, acceptance {acceptance}, step {step}, ' +
        '{left} left',
      barsize: barSize(stream.columns),
      barCompleteChar: '\u2588',
      barIncompleteChar: '\u2591',
      hideCursor: true,
      clearOnComplete: false,
      fps: 10,
    });
    let started = false;
    return {
      update(progress) {
        const f = tracker.figures(progress);
        const payload = {
          phase: progress.phase === 'warmup' ? 'warm-up ' : 'sampling',
          rate: f.drawsPerSecond.toFixed(0),
          acceptance: number(f.acceptance, 2),
          step: stepSize(progress.stepSize),
          left: formatDuration(f.secondsLeft),
        };
        if (!started) {
          bar.start(f.total, f.done, payload);
          started = true;
        } else {
          bar.update(f.done, payload);
        }
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }

  const now = options.now ?? (() => performance.now());
  const interval = options.intervalMs ?? 2000;
  let last = -Infinity;
  return {
    update(progress) {
      const f = tracker.figures(progress);
      const phaseEnd = progress.iteration === progress.total;
      if (!phaseEnd && now() - last < interval) return;
      last = now();
      const phase = progress.phase === 'warmup' ? 'warm-up' : 'sampling';
      stream.write(
        `${phase} ${progress.iteration}/${progress.total}: ` +
          `${f.drawsPerSecond.toFixed(0)} draws/s, acceptance ${number(f.acceptance, 2)}, ` +
          `step size ${stepSize(progress.stepSize)}, ${formatDuration(f.secondsLeft)} left\n`,
      );
    },
    stop() {},
  };
}
