import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { InvalidArgumentError } from '@latent-langevin/core';
import {
  type ExperimentProgress,
  type ExperimentResults,
  runExperiments,
} from '@latent-langevin/eval';

/*
 * Smoke test of the experiment runner at the `quick` size: the pipeline runs on every fixture
 * present and writes valid JSON, Markdown and PNG files. The numbers are not checked.
 */
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

describe('runExperiments', () => {
  let outDir = '';
  let results: ExperimentResults;
  const progress: ExperimentProgress[] = [];

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'latent-langevin-experiments-'));
    results = await runExperiments({
      size: 'quick',
      outDir,
      seeds: [1, 2],
      onProgress: (p) => progress.push(p),
    });
  });

  afterAll(async () => {
    if (outDir !== '') await rm(outDir, { recursive: true, force: true });
  });

  it('runs every method on each 2-D fixture when run at the quick size', () => {
    const fixtures = results.targets.map((t) => t.fixture);
    expect(fixtures).toEqual(
      expect.arrayContaining(['two-moons-realnvp', 'ring-realnvp', 'two-moons-nice']),
    );
    for (const target of results.targets) {
      expect(target.methods[0].id).toBe('exact');
      expect(target.methods.map((m) => m.id)).toContain('sir-pullback');
      for (const method of target.methods) {
        expect(method.runs).toHaveLength(2);
        for (const run of method.runs) expect(run.error).toBeUndefined();
      }
    }
  });

  it('records the draws scored, the rows spent and the stuck chains of every run', () => {
    for (const target of results.targets) {
      for (const method of target.methods) {
        for (const run of method.runs) {
          expect(run.draws).toBeGreaterThan(0);
          expect(run.distinctDraws).toBeLessThanOrEqual(run.draws);
          if (run.budget !== null && run.notComparable === undefined) {
            expect(run.flowRows).toBeLessThanOrEqual(run.budget);
          }
          if (run.mcmc !== undefined) {
            expect(Number.isInteger(run.mcmc.stuckChains)).toBe(true);
            expect(run.mcmc.stuckChains).toBeLessThanOrEqual(run.mcmc.chains);
            expect(run.draws % run.mcmc.chains).toBe(0);
          }
        }
        const mmd = method.summary.mmd;
        if (mmd !== null) expect(mmd.se).toBeCloseTo(mmd.sd / Math.sqrt(mmd.n), 14);
      }
      expect(target.methods.map((m) => m.id)).toContain('mala-pullback-identity-relocate');
    }
  });

  it('writes JSON that parses back to the returned results', async () => {
    const json = JSON.parse(await readFile(join(outDir, 'results.json'), 'utf8'));
    expect(json.format).toBe('latent-langevin/experiments@2');
    expect(json.seeds).toEqual([1, 2]);
    expect(json.targets).toHaveLength(results.targets.length);
  });

  it('writes a Markdown report with one table per target', async () => {
    const markdown = await readFile(join(outDir, 'results.md'), 'utf8');
    expect(markdown.startsWith('# latent-langevin experiments')).toBe(true);
    for (const target of results.targets) expect(markdown).toContain(`### ${target.fixture}`);
    expect(markdown).toContain('| method | MMD² | SW2 |');
    expect(markdown).toContain('| draws | chains × iterations | stuck chains | flow rows |');
    expect(markdown).toContain('mean ± standard error over the 2 seeds');
  });

  it('writes a valid PNG for each 2-D target and for the digits', async () => {
    const planar = results.targets.filter((target) => target.dimension === 2).length;
    const digits = results.digits === null ? 0 : 1;
    expect(results.files.pictures.length).toBe(planar + digits);
    for (const name of results.files.pictures) {
      const png = await readFile(join(outDir, name));
      expect(Array.from(png.subarray(0, 8))).toEqual(PNG_SIGNATURE);
      expect(png.length).toBeGreaterThan(2000);
    }
  });

  it('notes the fixtures it skips and reports progress up to the planned total', () => {
    for (const skip of results.skipped) expect(skip.reason).toMatch(/not found|failed/);
    const last = progress.filter((p) => p.step !== 'write').at(-1)!;
    expect(progress.at(-1)!.done).toBe(progress.at(-1)!.total);
    expect(last.total).toBeGreaterThan(0);
  });

  it('throws an InvalidArgumentError for an unknown size', async () => {
    await expect(
      runExperiments({ size: 'huge' as 'quick', outDir: join(outDir, 'never') }),
    ).rejects.toThrow(InvalidArgumentError);
  });
});
