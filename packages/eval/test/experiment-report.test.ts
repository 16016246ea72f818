import { describe, expect, it } from 'vitest';

import type { ExperimentResults, MethodResults, RunRecord } from '@latent-langevin/eval';

import { markdownReport } from '../src/experiments/report.js';
import { EXPERIMENT_SIZES } from '../src/experiments/sizes.js';
import { pairedDifference, spread } from '../src/experiments/score.js';

/** A method over seeds with the given MMD² values and every other metric null. */
function method(id: string, mmd: number[], floor: number[] | null, extra: Partial<RunRecord> = {}) {
  const runs: RunRecord[] = mmd.map((value, s) => ({
    seed: s + 1,
    scores: { mmd: value, sw2: 0.1, energy: 0, modeTv: null, ood: 0.01 },
    draws: 2000,
    distinctDraws: 2000,
    flowRows: floor === null ? 0 : 59_800,
    forwardRows: 0,
    gradientRows: 0,
    budget: floor === null ? null : 60_000,
    wallTimeMs: 100,
    ...extra,
  }));
  const none = { mmd: null, sw2: null, energy: null, modeTv: null, ood: null };
  return {
    id,
    label: id,
    reference: floor === null,
    runs,
    summary: {
      mmd: spread(mmd),
      sw2: spread(runs.map(() => 0.1)),
      energy: null,
      modeTv: null,
      ood: null,
      versusFloor: floor === null ? none : { ...none, mmd: pairedDifference(mmd, floor, 3) },
      draws: spread(runs.map((r) => r.draws)),
      distinctDraws: spread(runs.map((r) => r.distinctDraws)),
      flowRows: spread(runs.map((r) => r.flowRows)),
      wallTimeMs: spread(runs.map((r) => r.wallTimeMs)),
      acceptance: null,
      stuckChains: null,
    },
  } satisfies MethodResults;
}

function results(methods: MethodResults[]): ExperimentResults {
  return {
    format: 'latent-langevin/experiments@2',
    size: 'default',
    seeds: [1, 2, 3, 4, 5],
    settings: EXPERIMENT_SIZES.default,
    startedAt: '2026-01-01T00:00:00.000Z',
    wallTimeMs: 1000,
    environment: { node: '20', platform: 'linux', cpus: 2 },
    targets: [{ fixture: 'f', target: 't', dimension: 2, methods, picture: null }],
    digits: null,
    skipped: [],
    files: { json: 'results.json', markdown: 'results.md', pictures: [] },
  };
}

describe('markdownReport', () => {
  const floor = [1e-4, -2e-4, 0, 3e-4, -1e-4];

  it('writes mean ± standard error and sets apart, in bold, scores above the floor', () => {
    const far = floor.map((v) => v + 2e-3 + v / 10); // 2e-3 above the floor on every seed
    const near = floor.map((v, s) => v + (s % 2 === 0 ? 1e-4 : -1e-4));
    const markdown = markdownReport(
      results([
        method('exact', floor, null),
        method('far', far, floor),
        method('near', near, floor),
      ]),
    );
    const row = (id: string) => markdown.split('\n').find((l) => l.startsWith(`| ${id} |`))!;
    const s = spread(far)!;
    expect(s.se).toBeCloseTo(s.sd / Math.sqrt(5), 15);
    expect(row('far')).toContain(`| **2.0e-3 ± ${s.se.toExponential(1)}** |`);
    expect(row('near')).not.toContain('**');
    expect(markdown).toContain('mean ± standard error over the 5 seeds');
  });

  it('shows the draws, the distinct draws, the stuck chains and a run over its budget', () => {
    const mcmc = {
      chains: 17,
      plannedIterations: 103,
      warmup: 51,
      samplingIterations: 48,
      acceptance: 0.57,
      globalAcceptance: null,
      stepSize: 0.5,
      divergences: 0,
      stuckChains: 2,
      relocations: 0,
      rhatLogPi: 1.1,
      essBulkLogPi: 40,
    };
    const markdown = markdownReport(
      results([
        method('exact', floor, null),
        method('short', floor, floor, {
          draws: 816,
          distinctDraws: 470,
          flowRows: 61_000,
          notComparable: 'spent 61000 rows, over the budget of 60000',
          mcmc,
        }),
      ]),
    );
    const row = markdown.split('\n').find((l) => l.startsWith('| short (not comparable) |'))!;
    expect(row).toContain('| 816 (470) | 17 × (51 + 48) | 2 | 61k (over by up to 1000) |');
    expect(markdown).toContain('- short: spent 61000 rows, over the budget of 60000');
  });
});
