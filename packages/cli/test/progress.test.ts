/**
 * The progress display of `sample`: a live bar on a terminal, plain lines at a bounded rate
 * elsewhere, nothing when switched off. Streams are fakes that record what is written.
 */
import type { SampleProgress } from '@latent-langevin/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createProgress, formatDuration } from '../src/progress.js';

/** A stream that records writes; a terminal of `columns` columns when `isTTY`. */
function fakeStream(isTTY: boolean, columns?: number) {
  const stream = {
    isTTY,
    ...(columns === undefined ? {} : { columns }),
    text: '',
    write(chunk: string) {
      stream.text += chunk;
      return true;
    },
  };
  return stream;
}

/** Terminal control sequences: CSI (cursor moves, clearing, modes) and cursor save/restore. */
const CONTROL = /\x1b(?:\[[0-9;?]*[A-Za-z]|[78])/g; // eslint-disable-line no-control-regex

/** The lines a terminal shows, in the order they were drawn: the text between controls. */
const frames = (text: string) =>
  text
    .split(CONTROL)
    .map((part) => part.replace(/\n/g, ''))
    .filter((part) => part !== '');

const RUN = { chains: 4, warmup: 100, draws: 100 };

const at = (
  phase: SampleProgress['phase'],
  iteration: number,
  acceptance: number,
  stepSize: number,
  elapsedMs: number,
): SampleProgress => ({ phase, iteration, total: 100, acceptance, stepSize, elapsedMs });

describe('createProgress on a terminal', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('draws a bar with draws per second, acceptance, step size and time left', () => {
    const stream = fakeStream(true, 120);
    const progress = createProgress(stream, RUN);

    // 1 of 200 iterations in 10 ms: 4 chains / 10 ms = 400 draws/s, 199 x 10 ms = 2 s left.
    progress.update(at('warmup', 1, 0.5, 0.25, 10));
    // 50 iterations in 1000 ms: 200 draws/s, 150 x 20 ms = 3 s left, acceptance (0.5 + 0.7) / 2.
    progress.update(at('warmup', 50, 0.7, 0.125, 1000));
    vi.advanceTimersByTime(150); // the bar redraws on its own clock, 10 times a second
    // The sampling phase restarts the mean acceptance; 200 iterations in 2 s: 400 draws/s.
    progress.update(at('sampling', 100, 0.6, 0.125, 2000));
    progress.stop();

    const drawn = frames(stream.text);
    expect(drawn[0]).toMatch(
      /^warm-up {2}█*░+ 0% 400 draws\/s, acceptance 0\.50, step 0\.250, 2s left$/,
    );
    expect(drawn).toContainEqual(
      expect.stringMatching(
        /^warm-up {2}█{8}░{22} 25% 200 draws\/s, acceptance 0\.60, step 0\.125, 3s left$/,
      ),
    );
    expect(drawn.at(-1)).toMatch(
      /^sampling █{30} 100% 400 draws\/s, acceptance 0\.60, step 0\.125, 0s left$/,
    );
    expect(stream.text).toContain('\x1b[?25l'); // the cursor is hidden while the bar runs
    expect(stream.text.lastIndexOf('\x1b[?25h')).toBeGreaterThan(stream.text.indexOf('█'));
    expect(stream.text.endsWith('\n')).toBe(true); // what follows starts on a line of its own
  });

  it.each([80, 100, 200])('keeps every line shorter than a %i-column terminal', (columns) => {
    const stream = fakeStream(true, columns);
    const progress = createProgress(stream, { chains: 8192, warmup: 10_000, draws: 1000 });

    // The widest figures it is sized for: a 5-digit rate (8192 chains, 1 iteration in 100 ms),
    // a step size in exponent form, then 91 hours left (30 s an iteration).
    progress.update({ ...at('warmup', 1, 0.5, 1.5e-5, 100), total: 10_000 });
    vi.advanceTimersByTime(150);
    progress.update({ ...at('warmup', 2, 0.5, 1.5e-5, 60_000), total: 10_000 });
    vi.advanceTimersByTime(150);
    progress.stop();

    const drawn = frames(stream.text);
    expect(drawn[0]).toMatch(/ 81920 draws\/s, acceptance 0\.50, step 1\.50e-5, 18m20s left$/);
    expect(drawn.at(-1)).toMatch(/ 273 draws\/s, .* 91h39m left$/);
    expect(Math.max(...drawn.map((line) => line.length))).toBeLessThan(columns);
  });

  it('writes nothing when stopped before the first report', () => {
    const stream = fakeStream(true, 120);

    createProgress(stream, RUN).stop();

    expect(stream.text).toBe('');
  });
});

describe('createProgress on a pipe or file', () => {
  it('prints plain lines at most every intervalMs, and at the end of each phase', () => {
    const stream = fakeStream(false);
    let now = 0;
    const progress = createProgress(stream, RUN, { intervalMs: 2000, now: () => now });

    // 200 iterations of 100 ms each: 20 s, so one line every 2 s and one per phase end.
    for (const phase of ['warmup', 'sampling'] as const) {
      for (let k = 1; k <= 100; k++) {
        now += 100;
        const done = phase === 'warmup' ? k : 100 + k;
        progress.update(at(phase, k, 0.6, 0.5, done * 100));
      }
    }
    progress.stop();

    const lines = stream.text.split('\n').filter((line) => line !== '');
    expect(stream.text).not.toMatch(CONTROL);
    expect(lines.length).toBeGreaterThanOrEqual(4);
    expect(lines.length).toBeLessThanOrEqual(20_000 / 2000 + 2);
    for (const line of lines) {
      expect(line).toMatch(
        /^(warm-up|sampling) \d+\/100: 40 draws\/s, acceptance 0\.60, step size 0\.500, \d+s left$/,
      );
    }
    expect(lines[0]).toBe('warm-up 1/100: 40 draws/s, acceptance 0.60, step size 0.500, 20s left');
    expect(lines).toContain(
      'warm-up 100/100: 40 draws/s, acceptance 0.60, step size 0.500, 10s left',
    );
    expect(lines.at(-1)).toBe(
      'sampling 100/100: 40 draws/s, acceptance 0.60, step size 0.500, 0s left',
    );
  });

  it.each([true, false])('prints nothing when disabled (terminal: %s)', (isTTY) => {
    const stream = fakeStream(isTTY, 120);
    const progress = createProgress(stream, RUN, { enabled: false });

    progress.update(at('warmup', 100, 0.6, 0.5, 1000));
    progress.stop();

    expect(stream.text).toBe('');
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [42.4, '42s'],
    [185, '3m05s'],
    [3720, '1h02m'],
    [-1, '?'],
    [Number.NaN, '?'],
    [Number.POSITIVE_INFINITY, '?'],
  ])('formats %d seconds as %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});
