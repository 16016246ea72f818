/**
 * A tiny run of the whole benchmark: it must run end to end and write valid RESULTS.json and
 * RESULTS.md. No timing is asserted; the race against PyTorch is skipped cleanly where PyTorch
 * is not installed.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BenchmarkResults,
  REPORT_SECTIONS,
  RESULTS_FORMAT,
  benchmarkConfig,
  checkTorch,
  formatJson,
  isReferenceBlas,
  judgeGrowth,
  runBenchmarks,
  runPytorchRace,
  spreadOf,
  tfjsThroughputRows,
  twoMoonsLogDensity,
  writeResults,
} from '@latent-langevin/bench';

describe('spreadOf', () => {
  it('gives the median, quartiles and range when the values are unsorted', () => {
    expect(spreadOf([3, 1, 2, 5, 4])).toEqual({
      median: 3,
      q1: 2,
      q3: 4,
      min: 1,
      max: 5,
      repeats: 5,
    });
  });

  it('leaves NaN out and reports NaN fields when nothing is left', () => {
    expect(spreadOf([NaN, 2]).median).toBe(2);
    expect(spreadOf([NaN]).repeats).toBe(0);
    expect(spreadOf([]).median).toBeNaN();
  });
});

describe('judgeGrowth', () => {
  it.each([
    ['steady growth of 1 MiB a sample', Array.from({ length: 20 }, (_, k) => 200 + k), true],
    ['one step up that stays', [...Array(10).fill(200), ...Array(10).fill(230)], true],
    [
      'flat samples with 0.5 MiB jitter',
      Array.from({ length: 20 }, (_, k) => 200 + (k % 2) / 2),
      false,
    ],
    ['one step down (memory given back)', [260, 259, ...Array(18).fill(200)], false],
    ['one outlier in the last quarter', [...Array(19).fill(200), 290], false],
    [
      'growth of 1.5 MiB, under the 2 MiB floor',
      [...Array(10).fill(200), ...Array(10).fill(201.5)],
      false,
    ],
  ])('says growth is %s: %j', (_name, rss, grows) => {
    expect(judgeGrowth(rss).growsBeyondNoise).toBe(grows);
  });
});

describe('isReferenceBlas', () => {
  it.each([
    [['/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0'], true],
    [
      [
        '/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3',
        '/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so',
      ],
      false,
    ],
    [['/usr/lib/x86_64-linux-gnu/blis-openmp/libblas.so.3'], false],
    [[], false],
  ])('gives %j -> %s', (paths, reference) => {
    expect(isReferenceBlas(paths)).toBe(reference);
  });
});

describe('formatJson', () => {
  it('lays JSON out exactly as the repository formatter does', async () => {
    const value = {
      empty: { array: [], object: {} },
      short: [1, 2.5, -3e-7, null, NaN, 'x'],
      long: Array.from({ length: 40 }, (_, k) => k * 1000.5),
      strings: Array.from({ length: 12 }, (_, k) => `fixture-number-${k}`),
      nested: [{ a: 1, b: [true, false] }, { c: 'text with "quotes"' }],
    };
    const path = join(process.cwd(), 'bench', 'RESULTS.json');
    const options = { ...(await resolveConfig(path)), filepath: path };
    const text = formatJson(value);
    expect(await format(text, options)).toBe(text);
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
  });
});

describe('twoMoonsLogDensity', () => {
  it('returns a gradient that matches central differences of the log-density', async () => {
    const density = twoMoonsLogDensity();
    const x = new Float32Array([1.5, 0.7, -2.1, -0.3, 0.2, 1.9]);
    const { logDensity, gradient } = await density(x, 3);
    const h = 1e-3;
    for (let k = 0; k < x.length; k++) {
      const up = Float32Array.from(x);
      const down = Float32Array.from(x);
      up[k] += h;
      down[k] -= h;
      const i = Math.floor(k / 2);
      const numeric =
        ((await density(up, 3)).logDensity[i] - (await density(down, 3)).logDensity[i]) /
        (up[k] - down[k]);
      expect(gradient?.[k]).toBeCloseTo(numeric, 2);
    }
    expect(logDensity[0]).toBeGreaterThan(logDensity[2]);
  });
});

describe('runPytorchRace', () => {
  it('skips with the install command when the interpreter cannot import torch', async () => {
    const race = await runPytorchRace(
      {
        ...benchmarkConfig('tiny').race,
        python: '/nonexistent/python3',
        threads: 1,
        stepSizes: {},
        seed: 1,
        warmup: 0,
        repeats: 5,
        budgetMs: 1,
      },
      () => undefined,
    );
    expect(race).toMatchObject({
      status: 'skipped',
      install: expect.stringMatching(/apt-get install -y --no-install-recommends python3-torch/),
    });
  });
});

describe('tfjsThroughputRows', () => {
  it('marks the rows "no tfjs fixture" when the fixture has no tfjs version', async () => {
    const rows = await tfjsThroughputRows({
      ...benchmarkConfig('tiny'),
      fixtures: ['digits-glow'],
      chains: [1, 16],
      target: () => {
        throw new Error('unused: nothing is sampled');
      },
      stepSizes: {},
      flowWarmupMs: 0,
    });
    expect(rows).toHaveLength(4);
    for (const row of rows) {
      expect(row).toMatchObject({ chainStepsPerSecond: null, missing: 'no tfjs fixture' });
    }
  });
});

describe('runBenchmarks (tiny)', () => {
  let dir: string;
  let results: BenchmarkResults;
  let json: unknown;
  let jsonText: string;
  let markdown: string;
  const progress: string[] = [];
  const torch = checkTorch();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'latent-langevin-bench-'));
    results = await runBenchmarks(benchmarkConfig('tiny'), {
      onProgress: (line) => progress.push(line),
    });
    const written = await writeResults(results, dir);
    jsonText = await readFile(written.json, 'utf8');
    json = JSON.parse(jsonText);
    markdown = await readFile(written.markdown, 'utf8');
  }, 110_000);

  afterAll(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('writes RESULTS.json that parses, with its format tag and every figure', () => {
    expect(json).toMatchObject({ format: RESULTS_FORMAT, config: { size: 'tiny' } });
    const parsed = json as Record<string, unknown[]>;
    expect(parsed.overhead).toHaveLength(2);
    expect(parsed.gradientCost.length).toBeGreaterThan(0);
    expect(parsed.efficiency).toHaveLength(3);
    expect(
      (parsed.efficiency as { kernel: string; relocateStuckAfter: number }[]).map(
        (e) => `${e.kernel} ${e.relocateStuckAfter}`,
      ),
    ).toEqual(['mala 0', 'mala 50', 'rwm 0']);
    expect(parsed.throughput.length).toBeGreaterThan(0);
  });

  it('writes RESULTS.json that the repository formatter leaves unchanged', async () => {
    const path = join(process.cwd(), 'bench', 'RESULTS.json');
    const options = { ...(await resolveConfig(path)), filepath: path };
    expect(await format(jsonText, options)).toBe(jsonText);
  });

  it('writes RESULTS.md with every section, in order', () => {
    const headings = [...markdown.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    expect(headings).toEqual([...REPORT_SECTIONS]);
    expect(markdown).toMatch(/VJP-graph time over forward time/);
    expect(markdown).toMatch(/finite differences over autodiff/);
  });

  it('records the machine it ran on', () => {
    expect(results.machine.cores).toBeGreaterThan(0);
    expect(results.machine.node).toBe(process.version);
    expect(results.machine.versions['onnxruntime-node']).toMatch(/^\d+\.\d+/);
  });

  it('measures each figure over at least 5 repeats', () => {
    for (const figure of results.overhead) expect(figure.ratio.repeats).toBeGreaterThanOrEqual(5);
    for (const row of results.throughput) {
      if (row.chainStepsPerSecond !== null) {
        expect(row.chainStepsPerSecond.repeats).toBeGreaterThanOrEqual(5);
      }
    }
  });

  it('measures the tfjs adapter on the cpu and wasm backends', () => {
    const tfjs = results.throughput.filter((row) => row.adapter === 'tfjs');
    expect(new Set(tfjs.map((row) => row.backend))).toEqual(new Set(['tfjs/cpu', 'tfjs/wasm']));
    for (const row of tfjs) expect(row.chainStepsPerSecond?.median).toBeGreaterThan(0);
    expect(markdown).toMatch(/\| tfjs \| tfjs\/wasm \| 1 \| two-moons-realnvp \| \d/);
  });

  it('races PyTorch when it is installed, and skips with the install command when not', () => {
    if (torch.available) {
      expect(results.race.status).toBe('ran');
      if (results.race.status === 'ran') {
        for (const run of results.race.runs) {
          for (const fixture of run.fixtures) expect(fixture.check.passed).toBe(true);
        }
      }
    } else {
      expect(results.race).toMatchObject({ status: 'skipped' });
      expect(markdown).toMatch(/apt-get install -y --no-install-recommends python3-torch/);
    }
  });

  it('reports progress through the callback, one line per figure', () => {
    expect(progress.some((line) => line.startsWith('overhead'))).toBe(true);
    expect(progress.some((line) => line.startsWith('memory'))).toBe(true);
  });
});
