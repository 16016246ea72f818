import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  MOONS,
  ROOT,
  hasNumpy,
  numpyLoad,
  readNpy,
  readNpz,
  readPng,
  runCli,
  tempDir,
} from './helpers.js';

/** The 8 x 8 digits Glow, `z` `[batch, 64]` -> `x` `[batch, 1, 8, 8]`. */
const DIGITS = join(ROOT, 'fixtures/digits-glow/model.onnx');

/** Share of the pixels of an RGBA picture's columns `[from, to)` that are dark (luma < 128). */
function darkShare(png: ReturnType<typeof readPng>, from: number, to: number): number {
  let dark = 0;
  for (let y = 0; y < png.height; y++) {
    for (let x = from; x < to; x++) {
      const k = 4 * (y * png.width + x);
      const luma = 0.299 * png.rgba[k] + 0.587 * png.rgba[k + 1] + 0.114 * png.rgba[k + 2];
      if (png.rgba[k + 3] > 0 && luma < 128) dark++;
    }
  }
  return dark / (png.height * (to - from));
}

const NUMPY = hasNumpy();
const SMALL = ['--chains', '3', '--warmup', '60', '--draws', '40', '--seed', '7'];

interface RunJson {
  format: string;
  target: string;
  executionProvider: string;
  gradientSource: string;
  chains: number;
  draws: number;
  latentDim: number;
  dataShape: number[];
  stepSize: number;
  summary: { acceptance: { mean: number } };
  z: number[][][];
  x: number[][][];
  logPi: number[][];
  logDet: number[][];
  accepted: number[][];
  naive: { count: number; z: number[][]; x: number[][]; logDet: number[] };
}

describe('latent-langevin sample', () => {
  it('writes .json, .npz and .npy files with the same values, and prints the summary', async () => {
    const dir = tempDir();
    const result = await runCli(
      ['sample', MOONS, ...SMALL, '--out', 'run.json', '-o', 'run.npz', '-o', 'x.npy'],
      { cwd: dir },
    );

    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^tempered\(beta=1\) on .*model\.onnx \(cpu, autodiff gradients\)/,
    );
    expect(result.stdout).toContain('3 chains x 40 draws');
    expect(result.stdout).toMatch(/R-hat/);
    expect(result.stderr).toMatch(/^warm-up 1\/60: \d+ draws\/s, acceptance/m);
    expect(result.stderr).toMatch(/^sampling 40\/40: /m);
    expect(result.stderr).toContain('wrote run.npz');

    const json = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as RunJson;
    const npz = readNpz(readFileSync(join(dir, 'run.npz')));
    const npy = readNpy(readFileSync(join(dir, 'x.npy')));
    expect(json).toMatchObject({
      format: 'latent-langevin/run@1',
      target: 'tempered(beta=1)',
      executionProvider: 'cpu',
      gradientSource: 'autodiff',
      chains: 3,
      draws: 40,
      latentDim: 2,
      dataShape: [2],
    });
    expect(Object.keys(npz).sort()).toEqual([
      'accepted',
      'draw_offset',
      'log_det',
      'log_pi',
      'naive_log_det',
      'naive_x',
      'naive_z',
      'step_size',
      'x',
      'z',
    ]);
    expect(npz.z).toMatchObject({ descr: '<f4', shape: [3, 40, 2] });
    expect(npz.x).toMatchObject({ descr: '<f4', shape: [3, 40, 2] });
    expect(npz.log_pi).toMatchObject({ descr: '<f8', shape: [3, 40] });
    expect(npz.accepted).toMatchObject({ descr: '|u1', shape: [3, 40] });
    expect(npz.naive_x).toMatchObject({ descr: '<f4', shape: [120, 2] });
    expect(npz.step_size.shape).toEqual([]);
    expect(npz.draw_offset).toMatchObject({ descr: '<i4', shape: [] });
    expect(npz.draw_offset.data[0]).toBe(0);
    expect(Array.from(npz.z.data)).toEqual(json.z.flat(2));
    expect(Array.from(npz.x.data)).toEqual(json.x.flat(2));
    expect(Array.from(npz.log_pi.data)).toEqual(json.logPi.flat());
    expect(Array.from(npz.log_det.data)).toEqual(json.logDet.flat());
    expect(Array.from(npz.accepted.data)).toEqual(json.accepted.flat());
    expect(Array.from(npz.naive_x.data)).toEqual(json.naive.x.flat());
    expect(npz.step_size.data[0]).toBe(json.stepSize);
    expect(Array.from(npy.data)).toEqual(json.x.flat(2));
    const acceptance = json.accepted.flat().reduce((a, b) => a + b, 0) / 120;
    expect(json.summary.acceptance.mean).toBeCloseTo(acceptance, 12);
  });

  it.runIf(NUMPY)('writes an .npz that numpy.load reads with the JSON values', async () => {
    const dir = tempDir();
    const result = await runCli(['sample', MOONS, ...SMALL, '-o', 'run.json', '-o', 'run.npz'], {
      cwd: dir,
    });
    expect(result.code).toBe(0);

    const json = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as RunJson;
    const loaded = numpyLoad(join(dir, 'run.npz'));

    expect(loaded.z).toEqual({ dtype: 'float32', shape: [3, 40, 2], values: json.z.flat(2) });
    expect(loaded.x).toEqual({ dtype: 'float32', shape: [3, 40, 2], values: json.x.flat(2) });
    expect(loaded.log_pi).toEqual({ dtype: 'float64', shape: [3, 40], values: json.logPi.flat() });
    expect(loaded.log_det.values).toEqual(json.logDet.flat());
    expect(loaded.accepted).toEqual({
      dtype: 'uint8',
      shape: [3, 40],
      values: json.accepted.flat(),
    });
    expect(loaded.naive_z.shape).toEqual([120, 2]);
    expect(loaded.step_size).toEqual({ dtype: 'float64', shape: [], values: [json.stepSize] });
  });

  it('gives the same draws for the same seed', async () => {
    const dir = tempDir();
    await runCli(['sample', MOONS, ...SMALL, '-o', 'a.npz'], { cwd: dir });
    await runCli(['sample', MOONS, ...SMALL, '-o', 'b.npz'], { cwd: dir });

    expect(readFileSync(join(dir, 'a.npz'))).toEqual(readFileSync(join(dir, 'b.npz')));
  });

  it('samples a pull-back target from a module with a named logDensity export', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'density.mjs'),
      [
        '// A standard normal in data space, with its gradient.',
        'export function logDensity(x, n) {',
        '  const logDensity = new Float64Array(n);',
        '  const gradient = new Float64Array(x.length);',
        '  for (let k = 0; k < x.length; k++) {',
        '    logDensity[Math.floor(k / 2)] -= 0.5 * x[k] * x[k];',
        '    gradient[k] = -x[k];',
        '  }',
        '  return { logDensity, gradient };',
        '}',
      ].join('\n'),
    );

    const result = await runCli(['sample', MOONS, ...SMALL, '-t', 'pullback:density.mjs'], {
      cwd: dir,
    });

    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^pullback on /);
  });

  it('runs base and tempered:<beta> with a diagonal preconditioner and global moves', async () => {
    for (const target of ['base', 'tempered:0.5']) {
      const result = await runCli([
        'sample',
        MOONS,
        ...SMALL,
        '-t',
        target,
        '-p',
        'diagonal',
        '--global',
        '0.2',
        '--no-progress',
      ]);
      expect(result.code).toBe(0);
      expect(result.stderr).toBe('');
      expect(result.stdout).toMatch(target === 'base' ? /^base\(\) on/ : /^tempered\(beta=0\.5\)/);
    }
  });

  it('plots image grids of the naive and the MALA draws side by side for image data', async () => {
    const dir = tempDir();

    const result = await runCli(
      ['sample', DIGITS, '-c', '2', '-w', '10', '-n', '8', '--no-progress', '--plot', 'run.png'],
      { cwd: dir },
    );

    expect(result.stderr).toBe('wrote run.png\n');
    expect(result.code).toBe(0);
    const png = readPng(readFileSync(join(dir, 'run.png')));
    // Two grids of 8 columns of 8 x 8 images (16 naive draws, 2 x 8 MALA draws), with titles.
    expect(png.width).toBeGreaterThanOrEqual(2 * 8 * 8);
    expect(png.width).toBeLessThanOrEqual(4000);
    expect(png.height).toBeGreaterThanOrEqual(2 * 8);
    expect(png.height).toBeLessThan(png.width);
    // Not blank: dark digit strokes on white in both halves, the naive grid and the MALA grid
    // (10 to 15% of the pixels of either half here).
    for (const share of [
      darkShare(png, 0, png.width >> 1),
      darkShare(png, png.width >> 1, png.width),
    ]) {
      expect(share).toBeGreaterThan(0.05);
      expect(share).toBeLessThan(0.5);
    }
  });

  it('stops with exit status 130 and writes nothing when its signal aborts', async () => {
    const dir = tempDir();
    const controller = new AbortController();
    controller.abort(new Error('test'));

    const result = await runCli(['sample', MOONS, ...SMALL, '-o', 'run.npz'], {
      cwd: dir,
      signal: controller.signal,
    });

    expect(result.code).toBe(130);
    expect(result.stderr.trim().split('\n').at(-1)).toMatch(/interrupted after \d+ iterations/);
    expect(existsSync(join(dir, 'run.npz'))).toBe(false);
  });
});

describe('latent-langevin inspect', () => {
  it('reports the interface, operators, autodiff coverage and providers', async () => {
    const result = await runCli(['inspect', MOONS, '--no-probe']);

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^inputs\s+z float32 \[batch, 2\]$/m);
    expect(result.stdout).toMatch(/^outputs\s+x float32 \[batch, 2\]; logdet float32 \[batch\]$/m);
    expect(result.stdout).toMatch(/^operators\s+Add, Constant, Exp, Gemm, .*Tanh \(8\)$/m);
    expect(result.stdout).toMatch(/^autodiff\s+covers every operator/m);
    expect(result.stdout).toMatch(/^providers\s+cpu \(works\)$/m);
  });

  it('reports the interface, then one line and exit 1, when the input is ambiguous', async () => {
    const model = MOONS.replace('model.onnx', 'model-with-gradients.onnx');

    const result = await runCli(['inspect', model, '--no-probe']);

    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^inputs\s+z float32 \[batch, 2\]; cotangent_x float32/m);
    expect(result.stdout).toMatch(/^sampling\s+not possible as it is: .*3 inputs/m);
    expect(result.stderr.split('\n').filter((line) => line !== '')).toHaveLength(1);
    expect(result.stderr).toMatch(/On the command line: --input <name>, --x-output <name>/);
  });

  it('prints JSON with --json', async () => {
    const result = await runCli(['inspect', MOONS, '--json', '--no-probe']);

    const report = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({
      opset: 17,
      latent: { input: 'z', shape: [2] },
      data: { output: 'x', shape: [2] },
      logDet: 'logdet',
      gradientSource: 'autodiff',
      autodiffCoversModel: true,
      unsupportedOperators: [],
    });
  });
});
