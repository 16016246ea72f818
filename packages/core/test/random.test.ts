import { describe, expect, it } from 'vitest';

import { RandomStream, createStreams, streamState } from '@latent-langevin/core';
import type { RandomStreamState } from '@latent-langevin/core';

import { erfc, ksOneSample, normalCdf } from '../../../test/helpers/statistics.js';

/*
 * Statistical tests here use fixed seeds, so they are deterministic; the tolerances say how often
 * they would fail over random seeds for a correct generator. Moments are held to 5 standard
 * errors (two-sided failure rate 6e-7 per check) and KS tests to p > 1e-3 (failure rate 1e-3).
 */

const SEED = 20240611;
const N_UNIFORM = 200_000;
const N_NORMAL = 200_000;
const N_PAIRS = 100_000;
const N_SHAPE = 2_000_000;
const N_TAIL = 20_000_000;
const MOMENT_TOLERANCE_SE = 5;
const KS_MIN_P = 1e-3;
/** Wilson-Hilferty z-score of a chi-square statistic: one-sided failure rate 3e-7 above 5. */
const CHI_SQUARE_MAX_Z = 5;
/** Where the ziggurat's tail layer starts. */
const TAIL_START = 3.654152885361009;

function draw(count: number, next: () => number): Float64Array {
  const values = new Float64Array(count);
  for (let k = 0; k < count; k++) values[k] = next();
  return values;
}

function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let k = 0; k < values.length; k++) sum += values[k];
  return sum / values.length;
}

/** Central moment of the given order about the sample mean. */
function centralMoment(values: ArrayLike<number>, order: number): number {
  const m = mean(values);
  let sum = 0;
  for (let k = 0; k < values.length; k++) sum += (values[k] - m) ** order;
  return sum / values.length;
}

function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const ma = mean(a);
  const mb = mean(b);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let k = 0; k < a.length; k++) {
    ab += (a[k] - ma) * (b[k] - mb);
    aa += (a[k] - ma) ** 2;
    bb += (b[k] - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

/** A mixed sequence of every kind of draw, so that state restoration is checked for all. */
function mixedSequence(stream: RandomStream, length: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < length; k++) {
    if (k % 3 === 0) out.push(stream.normal());
    else if (k % 3 === 1) out.push(stream.uniform());
    else out.push(stream.nextUint32());
  }
  return out;
}

describe('RandomStream', () => {
  it('reproduces the xoshiro128** reference output when started from state [1, 2, 3, 4]', () => {
    // Output of the reference C implementation (prng.di.unimi.it/xoshiro128starstar.c).
    const stream = new RandomStream({ words: [1, 2, 3, 4] });
    const expected = [
      11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849, 3729100597,
      4258142804,
    ];
    expect(draw(10, () => stream.nextUint32())).toEqual(Float64Array.from(expected));
  });

  it('draws uniforms in [0, 1) with mean 1/2 and variance 1/12 when N = 200000', () => {
    // Standard errors: mean sqrt(1/12 / N) = 6.5e-4; variance sqrt((1/80 - 1/144) / N) = 1.7e-4.
    const [stream] = createStreams(SEED, 1);
    const u = draw(N_UNIFORM, () => stream.uniform());

    expect(u.every((value) => value >= 0 && value < 1)).toBe(true);
    const meanSe = Math.sqrt(1 / 12 / N_UNIFORM);
    const varianceSe = Math.sqrt((1 / 80 - 1 / 144) / N_UNIFORM);
    expect(Math.abs(mean(u) - 0.5)).toBeLessThan(MOMENT_TOLERANCE_SE * meanSe);
    expect(Math.abs(centralMoment(u, 2) - 1 / 12)).toBeLessThan(MOMENT_TOLERANCE_SE * varianceSe);
    expect(ksOneSample(u, (x) => Math.min(1, Math.max(0, x))).pValue).toBeGreaterThan(KS_MIN_P);
  });

  it('draws uniforms with 53 random bits when built from two 32-bit outputs', () => {
    const [a] = createStreams(SEED, 1);
    const [b] = createStreams(SEED, 1);
    for (let k = 0; k < 1000; k++) {
      const high = b.nextUint32() >>> 5;
      const low = b.nextUint32() >>> 6;
      expect(a.uniform()).toBe((high * 2 ** 26 + low) / 2 ** 53);
    }
  });

  it('draws normals with mean 0, variance 1, excess kurtosis 0 and a normal CDF when N = 200000', () => {
    // Standard errors: mean 1/sqrt(N) = 2.2e-3, variance sqrt(2/N) = 3.2e-3, excess kurtosis
    // sqrt(24/N) = 1.1e-2.
    const [stream] = createStreams(SEED, 1, 3);
    const z = draw(N_NORMAL, () => stream.normal());

    const variance = centralMoment(z, 2);
    const excessKurtosis = centralMoment(z, 4) / variance ** 2 - 3;
    expect(Math.abs(mean(z))).toBeLessThan(MOMENT_TOLERANCE_SE / Math.sqrt(N_NORMAL));
    expect(Math.abs(variance - 1)).toBeLessThan(MOMENT_TOLERANCE_SE * Math.sqrt(2 / N_NORMAL));
    expect(Math.abs(excessKurtosis)).toBeLessThan(MOMENT_TOLERANCE_SE * Math.sqrt(24 / N_NORMAL));
    expect(ksOneSample(z, normalCdf).pValue).toBeGreaterThan(KS_MIN_P);
  });

  it('gives successive normals no correlation when N = 100000 pairs', () => {
    // |r| < 5 / sqrt(N): r has standard error 1/sqrt(N) under independence.
    const [stream] = createStreams(SEED, 1, 5);
    const first = new Float64Array(N_PAIRS);
    const second = new Float64Array(N_PAIRS);
    for (let k = 0; k < N_PAIRS; k++) {
      first[k] = stream.normal();
      second[k] = stream.normal();
    }
    expect(Math.abs(correlation(first, second))).toBeLessThan(5 / Math.sqrt(N_PAIRS));
    expect(
      Math.abs(
        correlation(
          first.map((v) => v * v),
          second.map((v) => v * v),
        ),
      ),
    ).toBeLessThan(5 / Math.sqrt(N_PAIRS));
  });

  it('gives normals the normal shape in 180 bins of width 0.05 when N = 2000000', () => {
    // Bins this narrow resolve single ziggurat layers (their edges are 0.01 to 0.3 apart), so a
    // wedge accepted without its test, or a wrong table, shows as a chi-square far above its
    // 181 degrees of freedom.
    const [stream] = createStreams(SEED, 1, 13);
    const width = 0.05;
    const bins = 180;
    const lower = -(bins / 2) * width;
    const counts = new Float64Array(bins + 2); // with one bin for each side beyond the range
    for (let k = 0; k < N_SHAPE; k++) {
      const bin = Math.floor((stream.normal() - lower) / width);
      counts[bin < 0 ? 0 : bin >= bins ? bins + 1 : bin + 1] += 1;
    }
    let chiSquare = 0;
    for (let b = 0; b < bins + 2; b++) {
      const from = b === 0 ? -Infinity : lower + (b - 1) * width;
      const to = b === bins + 1 ? Infinity : lower + b * width;
      const expected = N_SHAPE * (normalCdf(to) - normalCdf(from));
      chiSquare += (counts[b] - expected) ** 2 / expected;
    }
    const df = bins + 1;
    const z = ((chiSquare / df) ** (1 / 3) - (1 - 2 / (9 * df))) / Math.sqrt(2 / (9 * df));
    expect(z).toBeLessThan(CHI_SQUARE_MAX_Z);
  });

  it('draws the tail beyond the last layer at the normal rate and shape when N = 20000000', () => {
    // P(|Z| > R) = erfc(R / sqrt 2) = 2.58e-4: about 5160 draws, standard deviation 72. So many
    // are needed to tell the tail from the exponential that its rejection step corrects, whose
    // mean is 0.274 beyond R against the normal's 0.245 (6 standard errors apart here).
    const [stream] = createStreams(SEED, 1, 14);
    const tail: number[] = [];
    let negative = 0;
    for (let k = 0; k < N_TAIL; k++) {
      const z = stream.normal();
      if (Math.abs(z) > TAIL_START) {
        tail.push(Math.abs(z));
        if (z < 0) negative += 1;
      }
    }
    const probability = erfc(TAIL_START / Math.SQRT2);
    const expected = N_TAIL * probability;
    const sd = Math.sqrt(N_TAIL * probability * (1 - probability));
    expect(Math.abs(tail.length - expected)).toBeLessThan(MOMENT_TOLERANCE_SE * sd);
    expect(Math.abs(negative - tail.length / 2)).toBeLessThan(
      MOMENT_TOLERANCE_SE * Math.sqrt(tail.length / 4),
    );
    // Beyond R, |Z| has the survival function erfc(x / sqrt 2) / erfc(R / sqrt 2).
    const tailCdf = (x: number): number => 1 - erfc(x / Math.SQRT2) / erfc(TAIL_START / Math.SQRT2);
    expect(ksOneSample(tail, tailCdf).pValue).toBeGreaterThan(KS_MIN_P);
    // Mean and variance of Z given Z > R: lambda and 1 + R lambda - lambda^2, with lambda the
    // inverse Mills ratio phi(R) / P(Z > R).
    const lambda = Math.exp(-0.5 * TAIL_START ** 2) / Math.sqrt(2 * Math.PI) / (probability / 2);
    const tailVariance = 1 + TAIL_START * lambda - lambda ** 2;
    expect(Math.abs(mean(tail) - lambda)).toBeLessThan(
      MOMENT_TOLERANCE_SE * Math.sqrt(tailVariance / tail.length),
    );
  });

  it('gives successive uniforms no lag-1 correlation when N = 100000 pairs', () => {
    const [stream] = createStreams(SEED, 1, 6);
    const u = draw(N_PAIRS + 1, () => stream.uniform());
    expect(Math.abs(correlation(u.subarray(0, N_PAIRS), u.subarray(1)))).toBeLessThan(
      5 / Math.sqrt(N_PAIRS),
    );
  });

  it.each([0, 1, 42, 2 ** 32, 2 ** 53 - 1])(
    'gives the same sequence when created twice from seed %s',
    (seed) => {
      const [a] = createStreams(seed, 1);
      const [b] = createStreams(seed, 1);
      expect(mixedSequence(a, 300)).toEqual(mixedSequence(b, 300));
    },
  );

  it('gives different sequences when the seeds differ by one', () => {
    const [a] = createStreams(SEED, 1);
    const [b] = createStreams(SEED + 1, 1);
    const ua = draw(100, () => a.nextUint32());
    const ub = draw(100, () => b.nextUint32());
    expect(ua.filter((value, k) => value === ub[k]).length).toBeLessThan(2);
  });

  it.each([
    [0, 1],
    [1, 2],
    [0, 7],
    [3, 1000],
  ])(
    'gives streams %i and %i of one seed uncorrelated uniforms and normals when N = 100000',
    (i, j) => {
      // |r| < 5 / sqrt(N) = 0.016: r has standard error 1/sqrt(N) under independence.
      const [a] = createStreams(SEED, 1, i);
      const [b] = createStreams(SEED, 1, j);
      const ua = draw(N_PAIRS, () => a.uniform());
      const ub = draw(N_PAIRS, () => b.uniform());
      const za = draw(N_PAIRS, () => a.normal());
      const zb = draw(N_PAIRS, () => b.normal());
      expect(Math.abs(correlation(ua, ub))).toBeLessThan(5 / Math.sqrt(N_PAIRS));
      expect(Math.abs(correlation(za, zb))).toBeLessThan(5 / Math.sqrt(N_PAIRS));
    },
  );

  it('gives stream k the same draws whatever the number of streams created beside it', () => {
    const fromFour = createStreams(SEED, 4)[2];
    const alone = createStreams(SEED, 1, 2)[0];
    expect(fromFour.getState()).toEqual(alone.getState());
    expect(fromFour.getState()).toEqual(streamState(SEED, 2));
    expect(mixedSequence(fromFour, 300)).toEqual(mixedSequence(alone, 300));
  });

  it('starts every stream with four unsigned 32-bit words', () => {
    for (const stream of createStreams(SEED, 16)) {
      const state = stream.getState();
      expect(state.words).toHaveLength(4);
      for (const word of state.words) {
        expect(Number.isInteger(word) && word >= 0 && word < 2 ** 32).toBe(true);
      }
      expect(state.words.some((word) => word !== 0)).toBe(true);
    }
  });

  it.each([
    ['a fresh stream', 0],
    ['four normals', 4],
    ['five normals', 5],
    ['a mixed sequence ending on a normal', 7],
  ])('continues bit for bit from getState() after %s', (_label, warm) => {
    const [original] = createStreams(SEED, 1, 9);
    for (let k = 0; k < warm; k++) {
      if (warm === 7 && k % 2 === 0) original.uniform();
      else original.normal();
    }
    const copy = new RandomStream(original.getState());
    const expected = mixedSequence(original, 500);
    const actual = mixedSequence(copy, 500);
    for (let k = 0; k < expected.length; k++) expect(Object.is(actual[k], expected[k])).toBe(true);
  });

  it('continues bit for bit when the state goes through JSON', () => {
    const [original] = createStreams(SEED, 1, 11);
    original.normal();
    original.uniform();
    const saved: RandomStreamState = JSON.parse(JSON.stringify(original.getState()));

    const restored = new RandomStream(saved);
    expect(restored.getState()).toEqual(original.getState());
    expect(mixedSequence(restored, 500)).toEqual(mixedSequence(original, 500));
  });

  it('leaves the stream untouched when getState() is called', () => {
    const [a] = createStreams(SEED, 1);
    const [b] = createStreams(SEED, 1);
    a.normal();
    b.normal();
    a.getState();
    a.getState();
    expect(mixedSequence(a, 50)).toEqual(mixedSequence(b, 50));
  });
});
