import { describe, expect, it } from 'vitest';

import { couplingFlow2d, pullback, sample, stuckChains, summarize } from '@latent-langevin/core';
import {
  energyDistance,
  gaussianMixture,
  gaussianRing,
  mmdSquared,
  twoMoons,
} from '@latent-langevin/eval';

import {
  MIN_CHAINS,
  MIN_CHAIN_ITERATIONS,
  SYNTHETIC_METHODS,
  identicalRowGroups,
  planChains,
  rowsPerIteration,
  runMethod,
  thin,
} from '../src/experiments/methods.js';
import { formatNumber } from '../src/experiments/report.js';
import { pairedDifference, score, spread } from '../src/experiments/score.js';
import { stickyChains } from './targets-helpers.js';

describe('thin', () => {
  // 2 chains x 4 draws of width 1: chain 0 holds 0..3, chain 1 holds 10..13.
  const values = Float32Array.from([0, 1, 2, 3, 10, 11, 12, 13]);

  it('takes draws round-robin over the chains, each chain from its last draw back', () => {
    // 4 rows: 2 a chain, at draws 3 and 1 (evenly spaced, ending at the last one).
    const { x, chain } = thin(values, 2, 4, 1, 4);
    expect(Array.from(x)).toEqual([3, 13, 1, 11]);
    expect(Array.from(chain)).toEqual([0, 1, 0, 1]);
  });

  it('takes the same number from every chain when the count does not divide', () => {
    // 3 asked, 2 chains: floor(3 / 2) = 1 a chain, so 2 rows, not one chain's extra row.
    expect(Array.from(thin(values, 2, 4, 1, 3).x)).toEqual([3, 13]);
  });

  it('returns every row when asked for more than there are', () => {
    const { x, chain } = thin(values, 2, 4, 1, 20);
    expect(Array.from(x).sort((a, b) => a - b)).toEqual(Array.from(values));
    expect(Array.from(chain)).toEqual([0, 1, 0, 1, 0, 1, 0, 1]);
  });

  it('returns one row a chain when asked for fewer rows than chains', () => {
    expect(Array.from(thin(values, 2, 4, 1, 1).x)).toEqual([3, 13]);
  });

  it('copies whole rows when the width is above 1', () => {
    const wide = Float32Array.from([0, 0, 1, 1, 5, 5, 6, 6]); // 2 chains x 2 draws x 2
    expect(Array.from(thin(wide, 2, 2, 2, 2).x)).toEqual([1, 1, 6, 6]);
  });
});

describe('planChains', () => {
  it.each([
    // budget, rows a chain and iteration, chains asked -> chains, iterations, comparable
    [60_000, 2, 100, 100, 300, true], // pull-back MALA in 2-D
    [60_000, 4, 100, 100, 150, true], // jacobian in 2-D
    [60_000, 10, 100, 60, 100, true], // jacobian in 8-D: 100 chains would get 60 iterations
    [60_000, 34, 100, 17, 103, true], // jacobian in 32-D: 100 chains would get 17 iterations
    [4000, 34, 20, MIN_CHAINS, 29, false], // quick size, 32-D: not even 4 chains of 100 fit
    [4000, 1, 20, 20, 200, true],
  ])(
    'gives budget %i at %i rows a step and %i chains asked %i chains of %i iterations',
    (budget, rows, asked, chains, iterations, comparable) => {
      const plan = planChains(budget, rows, asked);
      expect(plan).toEqual({
        chains,
        iterations,
        warmup: Math.floor(iterations / 2),
        comparable,
      });
      if (comparable) expect(plan.iterations).toBeGreaterThanOrEqual(MIN_CHAIN_ITERATIONS);
      expect(plan.chains * plan.iterations * rows).toBeLessThanOrEqual(budget);
    },
  );
});

describe('runMethod', () => {
  const moons = twoMoons();
  const context = {
    flow: couplingFlow2d(),
    logDensity: moons.logDensity,
    draws: 200,
    budget: 4000,
    chains: 10,
    seed: 3,
  };

  it.each(SYNTHETIC_METHODS.filter((m) => m.kind === 'mcmc').map((m) => [m.id, m] as const))(
    'keeps %s within its budget of flow rows and labels every draw with its chain',
    async (_, method) => {
      const run = await runMethod(method, context);
      const mcmc = run.mcmc!;
      const rows = run.forwardRows + run.gradientRows;
      const perIteration = mcmc.chains * rowsPerIteration(method, 2);

      // Within the budget, and short of it by less than one more iteration would cost.
      expect(rows).toBeLessThanOrEqual(context.budget);
      expect(rows + perIteration).toBeGreaterThan(context.budget);
      expect(run.notComparable).toBeUndefined();
      expect(mcmc.warmup + mcmc.samplingIterations).toBeLessThanOrEqual(mcmc.plannedIterations);
      // The same number of draws from every chain, labelled with it.
      const perChain = run.count / mcmc.chains;
      expect(Number.isInteger(perChain)).toBe(true);
      expect(perChain).toBe(Math.min(mcmc.samplingIterations, context.draws / mcmc.chains));
      const counts = new Array<number>(mcmc.chains).fill(0);
      for (const c of run.groups!) counts[c]++;
      expect(counts).toEqual(new Array<number>(mcmc.chains).fill(perChain));
      expect(mcmc.stuckChains).toBeGreaterThanOrEqual(0);
      expect(run.distinctCount).toBeLessThanOrEqual(run.count);
    },
  );

  it('reports a stuck chain, and frees it only for the method with relocateStuckAfter', async () => {
    // Two modes of standard deviation 0.1 at (-3, 0) and (3, 0) through the coupling flow: with
    // seed 3 one of 10 chains starts where every proposal overshoots and never moves.
    const narrow = gaussianMixture({
      dimension: 2,
      weights: [0.5, 0.5],
      means: [-3, 0, 3, 0],
      stds: [0.1, 0.1],
    });
    const on = { ...context, logDensity: narrow.logDensity };
    const plain = SYNTHETIC_METHODS.find((m) => m.id === 'mala-pullback-identity')!;
    const relocating = SYNTHETIC_METHODS.find((m) => m.id === 'mala-pullback-identity-relocate')!;
    const stuck = (await runMethod(plain, on)).mcmc!;
    const freed = (await runMethod(relocating, on)).mcmc!;
    expect(stuck).toMatchObject({ stuckChains: 1, relocations: 0 });
    expect(freed.stuckChains).toBe(0);
    expect(freed.relocations).toBeGreaterThan(0);

    // The count is the core's stuckChains(): the chains summarize() lists as stuck.
    const run = await sample(context.flow, {
      target: pullback(narrow.logDensity),
      chains: 10,
      seed: 3,
      warmup: 100,
      draws: 97,
    });
    expect(summarize(run).stuckChains.length).toBeGreaterThan(0);
    expect(stuckChains(run.counters.sampling)).toEqual(summarize(run).stuckChains);
  });

  it('marks a run not comparable when fewer than MIN_CHAINS chains of 100 iterations fit', async () => {
    const method = SYNTHETIC_METHODS.find((m) => m.id === 'mala-pullback-jacobian')!;
    const run = await runMethod(method, { ...context, budget: 1000 });
    expect(run.mcmc!.chains).toBe(MIN_CHAINS);
    expect(run.notComparable).toMatch(/fewer than 4 chains of 100 iterations fit 1000 rows/);
  });

  it('labels SIR draws resampled from one proposal as one group', async () => {
    const method = SYNTHETIC_METHODS.find((m) => m.id === 'sir-pullback')!;
    const run = await runMethod(method, { ...context, budget: 300 });
    expect(run.forwardRows).toBe(300);
    expect(run.count).toBe(200);
    // 200 draws resampled from 300 proposals must repeat some.
    expect(run.distinctCount).toBeLessThan(200);
    expect(new Set(run.groups!).size).toBe(run.distinctCount);
  });
});

describe('score', () => {
  it('leaves pairs of one chain out of MMD² and energy when given the chains, and drops NaN rows', () => {
    const ring = gaussianRing();
    const reference = {
      target: ring,
      draws: ring.sample(500, 1),
      logDensity: ring.logDensity(ring.sample(500, 1), 500).logDensity,
      bandwidth: 1,
      seed: 1,
      projections: 16,
    };
    // 20 chains x 10 draws with repeats, then one diverged row (NaN) in chain 20.
    const { draws, chain } = stickyChains(20, 10, 0.5, 4);
    const x = Float64Array.from([...draws, Number.NaN, 0]);
    const groups = Int32Array.from([...chain, 20]);
    const grouped = score(x, reference, groups);
    const plain = score(x, reference);
    const options = { dimension: 2, bandwidth: 1, xGroups: chain };
    expect(grouped.mmd).toBeCloseTo(mmdSquared(draws, reference.draws, options).value, 14);
    expect(grouped.energy).toBeCloseTo(
      energyDistance(draws, reference.draws, { dimension: 2, xGroups: chain }),
      14,
    );
    expect(plain.mmd).toBeGreaterThan(grouped.mmd);
    expect(grouped.sw2).toBe(plain.sw2);
    expect(grouped.ood).toBe(plain.ood);
    expect(grouped.ood).toBeGreaterThanOrEqual(1 / 201);
  });
});

describe('identicalRowGroups', () => {
  it('gives identical rows one label, numbered in order of first appearance', () => {
    const rows = Float32Array.from([1, 2, 3, 4, 1, 2, 0, 0, 3, 4]);
    expect(Array.from(identicalRowGroups(rows, 2))).toEqual([0, 1, 0, 2, 1]);
  });
});

describe('rowsPerIteration', () => {
  it.each([
    ['naive', 2, 1],
    ['mala-tempered-1', 2, 1],
    ['mala-pullback-identity', 2, 2],
    ['mala-pullback-identity-relocate', 2, 2],
    ['mala-pullback-jacobian', 2, 4],
    ['mala-pullback-jacobian', 8, 10],
    ['rwm-pullback', 2, 1],
  ])('counts the flow rows of %s per chain and iteration in dimension %i', (id, d, rows) => {
    const method = SYNTHETIC_METHODS.find((m) => m.id === id)!;
    expect(rowsPerIteration(method, d)).toBe(rows);
  });
});

describe('spread', () => {
  it('gives the mean, the sample standard deviation and the standard error', () => {
    // {1, 2, 3, 4, 5}: mean 3, variance 10 / 4 = 2.5, standard error sqrt(2.5 / 5).
    const s = spread([1, 2, null, 3, 4, 5, Number.NaN])!;
    expect(s.n).toBe(5);
    expect(s.mean).toBe(3);
    expect(s.sd).toBeCloseTo(Math.sqrt(2.5), 14);
    expect(s.se).toBeCloseTo(Math.sqrt(0.5), 14);
  });

  it('returns null when no value is finite', () => {
    expect(spread([null, Number.NaN])).toBeNull();
  });
});

describe('pairedDifference', () => {
  it('sets apart a difference of more than k standard errors, paired by seed', () => {
    // Differences 1, 1.1, 0.9, 1, 1: mean 1, standard error 0.0316.
    const floor = [0.5, -0.2, 0.3, 0, 0.1];
    const method = [1.5, 0.9, 1.2, 1, 1.1];
    const result = pairedDifference(method, floor, 3)!;
    expect(result.mean).toBeCloseTo(1, 14);
    expect(result.se).toBeCloseTo(Math.sqrt(0.005 / 5), 14);
    expect(result.differs).toBe(true);
    // Differences 0.1, -0.1, 0.2, -0.2, 0: mean 0, not set apart.
    expect(pairedDifference([0.6, -0.3, 0.5, -0.2, 0.1], floor, 3)!.differs).toBe(false);
  });

  it('returns null with fewer than 3 pairs', () => {
    expect(pairedDifference([1, 2, null], [0, 0, 0], 3)).toBeNull();
  });
});

describe('formatNumber', () => {
  it.each([
    [0, '0'],
    [0.123456, '0.123'],
    [12.3456, '12.3'],
    [0.0012345, '1.2e-3'],
    [-0.0012345, '-1.2e-3'],
    [123456, '1.2e+5'],
  ])('writes %d as %s', (value, text) => {
    expect(formatNumber(value)).toBe(text);
  });
});
