import { describe, expect, it } from 'vitest';

import { InvalidArgumentError, RandomStream, pullback, streamState } from '@latent-langevin/core';
import { TWO_MOONS, twoMoons } from '@latent-langevin/eval';

import { ksOneSample } from '../../../test/helpers/statistics.js';
import { chiSquaredTest } from './chi-squared.js';
import { worstGradientError } from './targets-helpers.js';

/*
 * Statistical checks fix their seeds; KS and chi-squared tests reject below p = 1e-3 (failure
 * rate 1e-3 per test over seeds for a correct sampler), mode shares are held to 5 standard
 * errors.
 */

const moons = twoMoons();

/** Midpoint rule on [-6, 6]^2 with `step`: the grid and the unnormalised density on it. */
function grid(step: number): { centres: Float64Array; density: Float64Array; cells: number } {
  const cells = Math.round(12 / step);
  const centres = new Float64Array(2 * cells * cells);
  for (let a = 0; a < cells; a++) {
    for (let b = 0; b < cells; b++) {
      centres[2 * (a * cells + b)] = -6 + (a + 0.5) * step;
      centres[2 * (a * cells + b) + 1] = -6 + (b + 0.5) * step;
    }
  }
  const logP = moons.logDensity(centres, cells * cells).logDensity;
  return { centres, density: logP.map(Math.exp), cells };
}

describe('twoMoons', () => {
  it('evaluates the fixture formula at points computed by hand', () => {
    // (2, 0): on the circle, at the right centre: 0 + log(1 + exp(-0.5 (4 / 0.6)^2)).
    // (0, 2): on the circle, between the centres: log 2 - 0.5 (2 / 0.6)^2.
    // (0, 3): radial -0.5 (1 / 0.2)^2 = -12.5 on top of the same side term.
    const { logDensity } = moons.logDensity(new Float64Array([2, 0, 0, 2, 0, 3]), 3);
    expect(logDensity[0]).toBeCloseTo(Math.log1p(Math.exp(-0.5 * (4 / 0.6) ** 2)), 14);
    expect(logDensity[1]).toBeCloseTo(Math.log(2) - 0.5 * (2 / 0.6) ** 2, 12);
    expect(logDensity[2]).toBeCloseTo(-12.5 + Math.log(2) - 0.5 * (2 / 0.6) ** 2, 12);
  });

  it('returns gradients that match central differences at points spread over the plane', () => {
    const random = new RandomStream(streamState(7, 0));
    const x = Float64Array.from({ length: 40 }, () => 3 * random.normal());
    expect(worstGradientError(moons, x)).toBeLessThan(1e-6);
  });

  it('takes the radial gradient as 0 at the origin', () => {
    const { gradient } = moons.logDensity(new Float64Array([0, 0]), 1);
    expect(Array.from(gradient)).toEqual([0, 0]);
  });

  it('has the normaliser the fixtures computed when integrated on a grid', () => {
    const step = 0.01;
    const { density } = grid(step);
    const total = density.reduce((s, p) => s + p, 0) * step * step;
    expect(Math.log(total)).toBeCloseTo(TWO_MOONS.logNormaliser, 6);
  });

  it('draws x1 and x2 with the marginal laws of the density when sampled by rejection', () => {
    // Marginal CDFs from the grid (step 0.01); N = 5000 draws; KS rejects below p = 1e-3.
    const N = 5000;
    const draws = moons.sample(N, 11);
    const { centres, density, cells } = grid(0.01);
    for (const axis of [0, 1]) {
      const marginal = new Float64Array(cells);
      for (let k = 0; k < cells * cells; k++) {
        const a = Math.floor(k / cells);
        const b = k % cells;
        marginal[axis === 0 ? a : b] += density[k];
      }
      const cumulative = new Float64Array(cells + 1);
      for (let c = 0; c < cells; c++) cumulative[c + 1] = cumulative[c] + marginal[c];
      const cdf = (t: number) => {
        const position = Math.min(cells, Math.max(0, (t + 6) / 0.01));
        const c = Math.min(cells - 1, Math.floor(position));
        const value = cumulative[c] + (position - c) * marginal[c];
        return value / cumulative[cells];
      };
      const values = Float64Array.from({ length: N }, (_, i) => draws[2 * i + axis]);
      expect(ksOneSample(values, cdf).pValue).toBeGreaterThan(1e-3);
      expect(centres.length).toBe(2 * cells * cells);
    }
  });

  it('draws points with the 2-D law of the density when binned on a grid (chi-squared)', () => {
    // N = 20,000 draws of seed 21 binned into CELLS x CELLS cells of side 0.25 on [-3, 3]^2.
    // Expected counts: the density integrated over each cell by the midpoint rule on a 25 x 25
    // sub-grid (step 0.01), divided by the normaliser. Cells expecting fewer than 5 draws are
    // pooled with the outside of the square into one cell. Pearson's statistic rejects below
    // LEVEL = 1e-3. The same test must reject draws scaled by 1.02 (the radius moved by 0.2
    // radial widths), so that it has the power to see a small error of the sampler.
    const N = 20_000;
    const SEED = 21;
    const LEVEL = 1e-3;
    const CELLS = 24;
    const side = 6 / CELLS;
    const sub = 25;
    const centres = new Float64Array(2 * (CELLS * sub) ** 2);
    const fine = CELLS * sub;
    for (let a = 0; a < fine; a++) {
      for (let b = 0; b < fine; b++) {
        centres[2 * (a * fine + b)] = -3 + (a + 0.5) * (side / sub);
        centres[2 * (a * fine + b) + 1] = -3 + (b + 0.5) * (side / sub);
      }
    }
    const logP = moons.logDensity(centres, fine * fine).logDensity;
    const mass = new Float64Array(CELLS * CELLS);
    const area = (side / sub) ** 2 / Math.exp(TWO_MOONS.logNormaliser);
    for (let a = 0; a < fine; a++) {
      for (let b = 0; b < fine; b++) {
        mass[Math.floor(a / sub) * CELLS + Math.floor(b / sub)] +=
          Math.exp(logP[a * fine + b]) * area;
      }
    }
    const kept = Array.from(mass.keys()).filter((k) => N * mass[k] >= 5);
    const pooled = 1 - kept.reduce((s, k) => s + mass[k], 0);
    expect(N * pooled).toBeGreaterThanOrEqual(5);
    expect(kept.length).toBeGreaterThan(100);

    const test = (draws: Float64Array) => {
      const counts = new Float64Array(CELLS * CELLS);
      let outside = 0;
      for (let i = 0; i < N; i++) {
        const a = Math.floor((draws[2 * i] + 3) / side);
        const b = Math.floor((draws[2 * i + 1] + 3) / side);
        if (a >= 0 && a < CELLS && b >= 0 && b < CELLS) counts[a * CELLS + b]++;
        else outside++;
      }
      const rest = outside + counts.reduce((s, c, k) => s + (N * mass[k] >= 5 ? 0 : c), 0);
      return chiSquaredTest(
        [...kept.map((k) => counts[k]), rest],
        [...kept.map((k) => N * mass[k]), N * pooled],
      );
    };
    const draws = moons.sample(N, SEED);
    expect(test(draws).pValue).toBeGreaterThan(LEVEL);
    expect(test(draws.map((v) => 1.02 * v)).pValue).toBeLessThan(LEVEL);
  });

  it('puts half the draws on each moon', () => {
    // N = 8000: the share has standard error 0.0056; 5 of them is 0.028.
    const N = 8000;
    const modes = moons.modeOf(moons.sample(N, 3), N);
    const left = modes.reduce((s, m) => s + (m === 0 ? 1 : 0), 0) / N;
    expect(Math.abs(left - 0.5)).toBeLessThan(0.028);
    expect(moons.modeWeights).toEqual([0.5, 0.5]);
  });

  it('gives the same draws for the same seed and different ones for another', () => {
    expect(moons.sample(50, 4)).toEqual(moons.sample(50, 4));
    expect(moons.sample(50, 4)).not.toEqual(moons.sample(50, 5));
  });

  it('can be handed to pullback() as it is', () => {
    expect(pullback(moons.logDensity).name).toBe('pullback');
  });

  it.each([
    [
      'x does not hold n rows',
      () => moons.logDensity(new Float64Array(3), 2),
      /hold n \* D = 2 \* 2/,
    ],
    ['n is negative', () => moons.logDensity(new Float64Array(0), -1), /n must be an integer >= 0/],
    ['the count is fractional', () => moons.sample(1.5, 1), /count must be an integer >= 0/],
    ['the seed is negative', () => moons.sample(1, -1), /seed must be an integer in \[0, 2\^53\)/],
  ])('throws an InvalidArgumentError when %s', (_, call, message) => {
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow(message);
  });
});
