import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MOONS, readNpz, runCli, tempDir } from './helpers.js';

const SAVED = ['--chains', '3', '--warmup', '60', '--seed', '7', '--no-progress'];

interface RunJson {
  draws: number;
  drawOffset: number;
  z: number[][][];
  logPi: number[][];
  accepted: number[][];
  checkpoint: { iteration: number };
}

function readRun(path: string): RunJson {
  return JSON.parse(readFileSync(path, 'utf8')) as RunJson;
}

/** The last `count` draws of each chain of a `[chains][draws]...` array. */
function lastDraws<T>(perChain: T[][], count: number): T[][] {
  return perChain.map((chain) => chain.slice(chain.length - count));
}

/** The failure lines a run printed on standard error. */
function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line !== '');
}

/**
 * A signal that turns aborted on its `reads`-th look: `sample()` looks once an iteration, so
 * the run stops at a known point without timers.
 */
function abortAfter(reads: number): AbortSignal {
  const controller = new AbortController();
  let count = 0;
  Object.defineProperty(controller.signal, 'aborted', {
    get: () => {
      count += 1;
      if (count >= reads && !controller.signal.reason) controller.abort(new Error('test'));
      return count >= reads;
    },
  });
  return controller.signal;
}

describe('latent-langevin sample --resume', () => {
  it('continues a 40-draw run to 80 draws, bit for bit equal to one 80-draw run', async () => {
    const dir = tempDir();
    const first = await runCli(['sample', MOONS, ...SAVED, '--draws', '40', '-o', 'a.json'], {
      cwd: dir,
    });
    expect(first.code).toBe(0);

    // Only --resume and the new total: the other options come from a.json.
    const resumed = await runCli(
      ['sample', MOONS, '--resume', 'a.json', '--draws', '80', '--no-progress'].concat([
        '-o',
        'b.json',
        '-o',
        'b.npz',
      ]),
      { cwd: dir },
    );
    const whole = await runCli(['sample', MOONS, ...SAVED, '--draws', '80', '-o', 'c.json'], {
      cwd: dir,
    });

    expect(resumed.stderr).not.toMatch(/\n\s+at /);
    expect(resumed.code).toBe(0);
    expect(whole.code).toBe(0);
    expect(resumed.stdout).toContain('3 chains x 40 draws');
    const b = readRun(join(dir, 'b.json'));
    const c = readRun(join(dir, 'c.json'));
    expect(readRun(join(dir, 'a.json')).checkpoint.iteration).toBe(100);
    expect(b).toMatchObject({ draws: 40, drawOffset: 40 });
    expect(c.drawOffset).toBe(0);
    expect(b.z).toEqual(lastDraws(c.z, 40));
    expect(b.logPi).toEqual(lastDraws(c.logPi, 40));
    expect(b.accepted).toEqual(lastDraws(c.accepted, 40));
    // Equal but for the wall times the counters record.
    expect({ ...b.checkpoint, counters: null }).toEqual({ ...c.checkpoint, counters: null });
    const npz = readNpz(readFileSync(join(dir, 'b.npz')));
    expect(npz.draw_offset.data[0]).toBe(40);
    expect(Array.from(npz.z.data)).toEqual(b.z.flat(2));
  });

  it('ends with one line naming the option and exit 2 when --chains differs', async () => {
    const dir = tempDir();
    await runCli(['sample', MOONS, ...SAVED, '--draws', '10', '-o', 'a.json'], { cwd: dir });

    const result = await runCli(
      ['sample', MOONS, '--resume', 'a.json', '--draws', '20', '--chains', '4'],
      { cwd: dir },
    );

    expect(result.code).toBe(2);
    expect(errorLines(result.stderr)).toEqual([
      'latent-langevin sample: --resume a.json: --chains 4 (the saved run has --chains 3); a ' +
        'resumed run keeps the options it was started with. Drop these flags or pass the saved ' +
        'values.',
    ]);
  });

  it('ends with one line and exit 2 when --draws does not extend the run', async () => {
    const dir = tempDir();
    await runCli(['sample', MOONS, ...SAVED, '--draws', '10', '-o', 'a.json'], { cwd: dir });

    const result = await runCli(['sample', MOONS, '--resume', 'a.json'], { cwd: dir });

    expect(result.code).toBe(2);
    expect(errorLines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toMatch(/already holds 10 draws per chain .* --draws 20, to extend it/);
  });

  it('ends with one line and exit 2 when the target differs from the saved run', async () => {
    const dir = tempDir();
    await runCli(['sample', MOONS, ...SAVED, '--draws', '10', '-o', 'a.json'], { cwd: dir });

    const result = await runCli(
      ['sample', MOONS, '--resume', 'a.json', '--draws', '20', '-t', 'base'],
      { cwd: dir },
    );

    expect(result.code).toBe(2);
    expect(errorLines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toMatch(/target was "tempered\(beta=1\)" in the saved run/);
  });

  it.each([
    ['a missing file', null, /cannot read '.*missing\.json' \(no such file\)/],
    ['a file that is not JSON', '{"format": ', /not valid JSON/],
    ['a JSON file of another kind', '{"format": "other"}', /not a run file \(format "other"/],
    [
      'a run file without a checkpoint',
      '{"format": "latent-langevin/run@1", "options": {}}',
      /holds no usable checkpoint/,
    ],
  ])('ends with one line and exit 1 for %s', async (_, content, message) => {
    const dir = tempDir();
    if (content !== null) writeFileSync(join(dir, 'missing.json'), content);

    const result = await runCli(['sample', MOONS, '--resume', 'missing.json', '-n', '20'], {
      cwd: dir,
    });

    expect(result.code).toBe(1);
    expect(errorLines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toMatch(/^latent-langevin sample: --resume missing\.json: /);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(/Pass a run\.json written by 'latent-langevin sample --out/);
  });

  it('writes the partial run with its checkpoint to --out JSON on an interrupt', async () => {
    const dir = tempDir();

    const result = await runCli(
      ['sample', MOONS, ...SAVED, '-n', '1000000', '--naive', '10', '-o', 'a.json', '-o', 'a.npz'],
      { cwd: dir, signal: abortAfter(60 + 25) },
    );

    expect(result.code).toBe(130);
    expect(errorLines(result.stderr).at(-1)).toMatch(
      new RegExp(
        'interrupted after \\d+ iterations; wrote a\\.json with \\d+ draws per chain and a ' +
          'checkpoint\\. Continue the run with --resume a\\.json\\.$',
      ),
    );
    const partial = readRun(join(dir, 'a.json'));
    expect(partial.draws).toBeGreaterThanOrEqual(20);
    expect(existsSync(join(dir, 'a.npz'))).toBe(false);
    expect(partial.checkpoint.iteration).toBe(60 + partial.draws);

    const resumed = await runCli(
      ['sample', MOONS, '--resume', 'a.json', '-n', String(partial.draws + 10), '-o', 'b.json'],
      { cwd: dir },
    );
    const whole = await runCli(
      ['sample', MOONS, ...SAVED, '-n', String(partial.draws + 10), '-o', 'c.json'],
      { cwd: dir },
    );
    expect(resumed.code).toBe(0);
    expect(whole.code).toBe(0);
    const c = readRun(join(dir, 'c.json'));
    expect(partial.z).toEqual(c.z.map((chain) => chain.slice(0, partial.draws)));
    expect(readRun(join(dir, 'b.json')).z).toEqual(lastDraws(c.z, 10));
  });
});
