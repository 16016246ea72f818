import { describe, expect, it } from 'vitest';

import {
  InvalidArgumentError,
  base,
  custom,
  describeValue,
  naive,
  pullback,
  sir,
} from '@latent-langevin/core';
import type { DataLogDensity } from '@latent-langevin/core';

import { affineFlow } from '../src/analytic-flows.js';
import { ksOneSample, normalCdf } from '../../../test/helpers/statistics.js';

/*
 * Statistical checks use fixed seeds and hold moments to 5 standard errors (two-sided failure
 * rate 6e-7 per check over random seeds) and KS tests to p > 1e-3 (failure rate 1e-3).
 */
const SE_TOLERANCE = 5;
const KS_MIN_P = 1e-3;
const N_NAIVE = 20_000;
const PROPOSALS = 50_000;
const COUNT = 20_000;

const SCALE = [2, 0.5];
const SHIFT = [1, -1];
const makeFlow = () => affineFlow({ scale: SCALE, shift: SHIFT });

/** Column `j` of a `[n, d]` batch. */
function column(values: ArrayLike<number>, d: number, j: number): Float64Array {
  const out = new Float64Array(values.length / d);
  for (let i = 0; i < out.length; i++) out[i] = values[i * d + j];
  return out;
}

function meanAndSd(values: ArrayLike<number>): { mean: number; sd: number } {
  let sum = 0;
  for (let k = 0; k < values.length; k++) sum += values[k];
  const mean = sum / values.length;
  let squares = 0;
  for (let k = 0; k < values.length; k++) squares += (values[k] - mean) ** 2;
  return { mean, sd: Math.sqrt(squares / (values.length - 1)) };
}

/** Runs `run` and returns the InvalidArgumentError it rejects with. */
async function rejection(run: () => Promise<unknown>): Promise<InvalidArgumentError> {
  const error = await run().then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidArgumentError);
  return error as InvalidArgumentError;
}

describe('naive', () => {
  it('gives x = scale z + shift with the right mean and sd when N = 20000 on an affine flow', async () => {
    // Standard errors: mean sd / sqrt(N), sd sd / sqrt(2 N) (normal data).
    const draws = await naive(makeFlow(), { count: N_NAIVE, seed: 3 });

    expect(draws.count).toBe(N_NAIVE);
    expect(draws.flowRows).toBe(N_NAIVE);
    expect(draws.x).toHaveLength(2 * N_NAIVE);
    expect(draws.z).toHaveLength(2 * N_NAIVE);
    expect(draws.logDet.every((v) => v === 0)).toBe(true); // log 2 + log 0.5
    for (let j = 0; j < 2; j++) {
      const x = column(draws.x, 2, j);
      const { mean, sd } = meanAndSd(x);
      expect(Math.abs(mean - SHIFT[j])).toBeLessThan(
        (SE_TOLERANCE * SCALE[j]) / Math.sqrt(N_NAIVE),
      );
      expect(Math.abs(sd - SCALE[j])).toBeLessThan(
        (SE_TOLERANCE * SCALE[j]) / Math.sqrt(2 * N_NAIVE),
      );
      const standardised = x.map((v) => (v - SHIFT[j]) / SCALE[j]);
      expect(ksOneSample(standardised, normalCdf).pValue).toBeGreaterThan(KS_MIN_P);
    }
  });

  it('gives x = f(z) row by row', async () => {
    const draws = await naive(makeFlow(), { count: 100, seed: 4 });
    for (let k = 0; k < draws.z.length; k++) {
      expect(draws.x[k]).toBe(Math.fround(SCALE[k % 2] * draws.z[k] + SHIFT[k % 2]));
    }
  });

  it('gives the same draws when the seed is the same, and others when it is not', async () => {
    const a = await naive(makeFlow(), { count: 500, seed: 11 });
    const b = await naive(makeFlow(), { count: 500, seed: 11 });
    const c = await naive(makeFlow(), { count: 500, seed: 12 });
    expect(b.x).toEqual(a.x);
    expect(b.z).toEqual(a.z);
    expect(c.z).not.toEqual(a.z);
  });

  it('gives the same draws whatever maxBatch splits the model calls into', async () => {
    const whole = await naive(makeFlow(), { count: 1000, seed: 5 });
    const chunked = await naive(makeFlow(), { count: 1000, seed: 5, maxBatch: 77 });
    expect(chunked.x).toEqual(whole.x);
    expect(chunked.logDet).toEqual(whole.logDet);
  });

  it.each([
    ['count', { count: 0, seed: 1 }, 0],
    ['count', { count: -1, seed: 1 }, -1],
    ['count', { count: 1.5, seed: 1 }, 1.5],
    ['count', { count: Number.NaN, seed: 1 }, Number.NaN],
    ['count', { count: '10', seed: 1 }, '10'],
    ['count', { seed: 1 }, undefined],
    ['seed', { count: 10, seed: -1 }, -1],
    ['seed', { count: 10, seed: 0.5 }, 0.5],
    ['seed', { count: 10, seed: 2 ** 53 }, 2 ** 53],
    ['seed', { count: 10 }, undefined],
    ['maxBatch', { count: 10, seed: 1, maxBatch: 0 }, 0],
    ['maxBatch', { count: 10, seed: 1, maxBatch: 2.5 }, 2.5],
  ])('rejects options.%s = %o, naming it and the value received', async (name, options, value) => {
    const error = await rejection(() =>
      naive(makeFlow(), options as unknown as Parameters<typeof naive>[1]),
    );
    expect(error.message).toMatch(/^naive\(\): /);
    expect(error.message).toContain(`options.${name}`);
    expect(error.message).toContain(`received ${describeValue(value)}`);
  });
});

describe('sir', () => {
  // Target N(mu, s^2) in data space. Through x = scale z + shift its latent pull-back is
  // N((mu - shift) / scale, (s / scale)^2) = N([-0.25, 0.4], diag(0.75^2, 0.8^2)), narrower than
  // the proposal N(0, I), so the weights are bounded. The expected weight ESS fraction is
  // 1 / E_q[(p/q)^2] = 1 / prod_j exp(m_j^2 / (2 - s_j^2)) / (s_j sqrt(2 - s_j^2)) = 0.7141.
  const MU = [0.5, -0.8];
  const S = [1.5, 0.4];
  const EXPECTED_ESS_FRACTION = 0.7140831643531;
  const gaussian: DataLogDensity = (x, n) => {
    const logDensity = new Float64Array(n);
    const gradient = new Float64Array(x.length);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < 2; j++) {
        const u = (x[i * 2 + j] - MU[j]) / S[j];
        logDensity[i] += -0.5 * u * u;
        gradient[i * 2 + j] = -u / S[j];
      }
    }
    return { logDensity, gradient };
  };

  it('resamples draws with the target mean and sd when proposals = 50000 and count = 20000', async () => {
    const draws = await sir(makeFlow(), pullback(gaussian), {
      proposals: PROPOSALS,
      count: COUNT,
      seed: 8,
    });

    expect(draws.count).toBe(COUNT);
    expect(draws.proposals).toBe(PROPOSALS);
    expect(draws.flowRows).toBe(PROPOSALS);
    expect(draws.x).toHaveLength(2 * COUNT);
    // The ESS fraction estimate has a relative standard error well under 1% at this size.
    expect(Math.abs(draws.weightEss / PROPOSALS - EXPECTED_ESS_FRACTION)).toBeLessThan(0.02);
    // Standard errors of SIR estimates add the resampling noise (1 / count) to the weighting
    // noise (1 / ESS): mean s sqrt(1/count + 1/ESS), sd s sqrt((1/count + 1/ESS) / 2).
    const noise = 1 / COUNT + 1 / draws.weightEss;
    for (let j = 0; j < 2; j++) {
      const { mean, sd } = meanAndSd(column(draws.x, 2, j));
      expect(Math.abs(mean - MU[j])).toBeLessThan(SE_TOLERANCE * S[j] * Math.sqrt(noise));
      expect(Math.abs(sd - S[j])).toBeLessThan(SE_TOLERANCE * S[j] * Math.sqrt(noise / 2));
    }
  });

  it('resamples only among its proposals, keeping x and logDet with their z', async () => {
    const proposals = await naive(makeFlow(), { count: 2000, seed: 21 });
    const rows = new Map<string, number>();
    for (let i = 0; i < 2000; i++) rows.set(`${proposals.z[2 * i]},${proposals.z[2 * i + 1]}`, i);

    const draws = await sir(makeFlow(), pullback(gaussian), {
      proposals: 2000,
      count: 500,
      seed: 21,
    });

    for (let r = 0; r < 500; r++) {
      const i = rows.get(`${draws.z[2 * r]},${draws.z[2 * r + 1]}`);
      expect(i).toBeDefined();
      expect([draws.x[2 * r], draws.x[2 * r + 1]]).toEqual([
        proposals.x[2 * i!],
        proposals.x[2 * i! + 1],
      ]);
      expect(draws.logDet[r]).toBe(proposals.logDet[i!]);
    }
  });

  it('never picks a proposal of zero or non-finite weight', async () => {
    // log pi = -Infinity for z_1 < 0, NaN for z_2 > 2, log q_Z elsewhere.
    const halfPlane = custom((z, _x, _logDet, n) => {
      const logPi = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const [z1, z2] = [z[2 * i], z[2 * i + 1]];
        logPi[i] = z1 < 0 ? -Infinity : z2 > 2 ? Number.NaN : -0.5 * (z1 * z1 + z2 * z2);
      }
      return { logPi };
    });
    const draws = await sir(makeFlow(), halfPlane, { proposals: 5000, count: 5000, seed: 2 });
    for (let r = 0; r < 5000; r++) {
      expect(draws.z[2 * r]).toBeGreaterThanOrEqual(0);
      expect(draws.z[2 * r + 1]).toBeLessThanOrEqual(2);
    }
  });

  it('reports weightEss = proposals when the target is the base density', async () => {
    const draws = await sir(makeFlow(), base(), { proposals: 1000, count: 10, seed: 1 });
    expect(draws.weightEss).toBeCloseTo(1000, 6);
  });

  it('reports weightEss near 1 when one proposal dominates the weights', async () => {
    const spike = custom((z, _x, _logDet, n) => ({
      logPi: Float64Array.from({ length: n }, (_, i) => 1e3 * z[2 * i]),
    }));
    const draws = await sir(makeFlow(), spike, { proposals: 1000, count: 10, seed: 1 });
    expect(draws.weightEss).toBeGreaterThanOrEqual(1);
    expect(draws.weightEss).toBeLessThan(1.01);
    expect(new Set(draws.z.filter((_, k) => k % 2 === 0)).size).toBe(1);
  });

  it('gives the same draws when the seed is the same, whatever maxBatch', async () => {
    const options = { proposals: 3000, count: 1000, seed: 6 };
    const a = await sir(makeFlow(), pullback(gaussian), options);
    const b = await sir(makeFlow(), pullback(gaussian), { ...options, maxBatch: 256 });
    expect(b.z).toEqual(a.z);
    expect(b.x).toEqual(a.x);
    expect(b.weightEss).toBeCloseTo(a.weightEss, 9);
  });

  it.each([
    ['proposals', { proposals: 0, count: 10, seed: 1 }, 0],
    ['proposals', { proposals: 2.5, count: 10, seed: 1 }, 2.5],
    ['proposals', { count: 10, seed: 1 }, undefined],
    ['count', { proposals: 10, count: -3, seed: 1 }, -3],
    ['count', { proposals: 10, count: Number.NaN, seed: 1 }, Number.NaN],
    ['seed', { proposals: 10, count: 10, seed: -1 }, -1],
    ['seed', { proposals: 10, count: 10, seed: '1' }, '1'],
    ['maxBatch', { proposals: 10, count: 10, seed: 1, maxBatch: 0 }, 0],
  ])('rejects options.%s = %o, naming it and the value received', async (name, options, value) => {
    const error = await rejection(() =>
      sir(makeFlow(), base(), options as unknown as Parameters<typeof sir>[2]),
    );
    expect(error.message).toMatch(/^sir\(\): /);
    expect(error.message).toContain(`options.${name}`);
    expect(error.message).toContain(`received ${describeValue(value)}`);
  });

  it.each([
    ['-Infinity', -Infinity],
    ['NaN', Number.NaN],
    ['+Infinity', Infinity],
  ])('throws a clear error when every log weight is %s', async (_label, value) => {
    const nowhere = custom((_z, _x, _logDet, n) => ({ logPi: new Float64Array(n).fill(value) }));
    const error = await rejection(() =>
      sir(makeFlow(), nowhere, { proposals: 100, count: 10, seed: 1 }),
    );
    expect(error.message).toContain('every importance weight is zero or not finite over 100');
    expect(error.message).toContain('sample()');
  });
});
