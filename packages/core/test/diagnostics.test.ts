import { describe, expect, it } from 'vitest';

import type { DrawsLayout } from '../src/diagnostics.js';
import { ess, essBulk, essTail, normalQuantile, splitRhat } from '../src/diagnostics.js';
import { InvalidArgumentError } from '../src/errors.js';
import { autocovariance } from '../src/fft.js';
import { createStreams } from '../src/random.js';

/** `[chains, draws]` draws of x_t = phi x_{t-1} + sqrt(1 - phi^2) e_t, started at stationarity. */
function ar1Chains(seed: number, chains: number, draws: number, phi: number): Float64Array {
  const values = new Float64Array(chains * draws);
  const innovationScale = Math.sqrt(1 - phi * phi);
  createStreams(seed, chains).forEach((stream, c) => {
    let x = stream.normal();
    values[c * draws] = x;
    for (let t = 1; t < draws; t++) {
      x = phi * x + innovationScale * stream.normal();
      values[c * draws + t] = x;
    }
  });
  return values;
}

/** Classic split R-hat of the raw draws, no ranks and no folding; odd middle draws left out. */
function classicSplitRhat(values: Float64Array, chains: number, draws: number): number {
  const half = Math.floor(draws / 2);
  const halves: Float64Array[] = [];
  for (let c = 0; c < chains; c++) {
    halves.push(values.slice(c * draws, c * draws + half));
    halves.push(values.slice((c + 1) * draws - half, (c + 1) * draws));
  }
  const means = halves.map((h) => h.reduce((sum, v) => sum + v, 0) / half);
  const variances = halves.map(
    (h, i) => h.reduce((sum, v) => sum + (v - means[i]) ** 2, 0) / (half - 1),
  );
  const within = variances.reduce((sum, v) => sum + v, 0) / halves.length;
  const grandMean = means.reduce((sum, m) => sum + m, 0) / means.length;
  const between =
    (half * means.reduce((sum, m) => sum + (m - grandMean) ** 2, 0)) / (means.length - 1);
  return Math.sqrt((between / within + half - 1) / half);
}

function relativeError(actual: number, expected: number): number {
  return Math.abs(actual - expected) / Math.abs(expected);
}

describe('autocovariance', () => {
  const LENGTHS = [1, 2, 3, 5, 16, 17, 100];

  it.each(LENGTHS)('equals the direct O(n^2) sums when the series has %i points', (n) => {
    const [stream] = createStreams(11, 1);
    const series = Float64Array.from({ length: n }, () => 3 + stream.normal());
    const mean = series.reduce((sum, v) => sum + v, 0) / n;

    const acov = autocovariance(series);

    expect(acov).toHaveLength(n);
    for (let k = 0; k < n; k++) {
      let direct = 0;
      for (let t = 0; t + k < n; t++) direct += (series[t] - mean) * (series[t + k] - mean);
      expect(Math.abs(acov[k] - direct / n)).toBeLessThan(1e-12);
    }
  });
});

describe('normalQuantile', () => {
  // Reference values from scipy.special.ndtri, rounded to 16 significant digits.
  const KNOWN = [
    { p: 0.5, z: 0 },
    { p: 0.975, z: 1.959963984540054 },
    { p: 0.025, z: -1.959963984540054 },
    { p: 0.3, z: -0.5244005127080409 },
    { p: 0.999, z: 3.090232306167813 },
    { p: 1e-5, z: -4.264890793922825 },
    { p: 1e-10, z: -6.361340902404056 },
    { p: 1 - 1e-10, z: 6.361340889697422 },
    { p: 1e-300, z: -37.0470962993612 },
  ];
  const RELATIVE_TOLERANCE = 1e-13;

  it.each(KNOWN)('returns $z when p = $p', ({ p, z }) => {
    const tolerance = RELATIVE_TOLERANCE * Math.max(1, Math.abs(z));

    expect(Math.abs(normalQuantile(p) - z)).toBeLessThanOrEqual(tolerance);
  });

  it.each([
    { p: 0, z: -Infinity },
    { p: 1, z: Infinity },
    { p: -0.1, z: NaN },
    { p: 1.1, z: NaN },
    { p: NaN, z: NaN },
  ])('returns $z when p = $p is an edge or outside [0, 1]', ({ p, z }) => {
    expect(normalQuantile(p)).toBe(z);
  });
});

describe('essBulk', () => {
  // 4 chains of 64,000 draws, N = 256,000. Over 200 replications at N = 100,000, an independent
  // numpy implementation gave relative standard deviations of the bulk ESS of 1.0%, 2.0%, 3.7%
  // and 1.8% for phi = 0, 0.5, 0.9 and -0.3, with biases under 0.6%; scaled by 1 / sqrt(N) they
  // are 0.6%, 1.2%, 2.3% and 1.1% here, so the 10% tolerance is at least 4.3 standard
  // deviations and a seed fails with probability below 1e-4.
  const CHAINS = 4;
  const DRAWS = 64_000;
  const N = CHAINS * DRAWS;
  const TOLERANCE = 0.1;

  it.each([0, 0.5, 0.9, -0.3])(
    'is within 10%% of N (1 - phi) / (1 + phi) when the chains are AR(1) with phi = %s',
    (phi) => {
      const draws = ar1Chains(2021, CHAINS, DRAWS, phi);
      const expected = (N * (1 - phi)) / (1 + phi);

      const bulk = essBulk(draws, { chains: CHAINS, draws: DRAWS });

      expect(relativeError(bulk, expected)).toBeLessThan(TOLERANCE);
    },
  );

  it('is unchanged when the draws go through a strictly increasing map', () => {
    const draws = ar1Chains(5, 4, 500, 0.7);
    const layout = { chains: 4, draws: 500 };

    expect(essBulk(draws.map(Math.exp), layout)).toBe(essBulk(draws, layout));
  });

  it('reads coordinate j of [chains, draws, d] draws when given stride d and offset j', () => {
    const chains = 3;
    const draws = 200;
    const d = 3;
    const [stream] = createStreams(8, 1);
    const interleaved = Float64Array.from({ length: chains * draws * d }, () => stream.normal());

    for (let j = 0; j < d; j++) {
      const coordinate = interleaved.filter((_, i) => i % d === j);
      const view = { chains, draws, stride: d, offset: j };
      const contiguous = { chains, draws };

      expect(essBulk(interleaved, view)).toBe(essBulk(coordinate, contiguous));
      expect(essTail(interleaved, view)).toBe(essTail(coordinate, contiguous));
      expect(ess(interleaved, view)).toBe(ess(coordinate, contiguous));
      expect(splitRhat(interleaved, view)).toBe(splitRhat(coordinate, contiguous));
    }
  });
});

/**
 * Tail ESS of a stationary Gaussian AR(1) with coefficient phi, from the autocorrelation of the
 * indicator `I(x_t <= q)` of the p-quantile q: with `Phi2(q, q; r)` the bivariate normal CDF at
 * correlation `r = phi^k`, Plackett's identity `d Phi2 / dr = phi2(q, q; r)` gives
 *
 *     rho_I(k) = (Phi2(q, q; phi^k) - p^2) / (p (1 - p))
 *              = int_0^{phi^k} exp(-q^2 / (1 + s)) / (2 pi sqrt(1 - s^2)) ds / (p (1 - p)),
 *
 * and ESS = N / (1 + 2 sum_k rho_I(k)). By symmetry the 5% and 95% indicators agree. Integrals by
 * Simpson's rule on 2,000 intervals (phi^k <= 0.9 keeps the integrand smooth).
 */
function ar1TailEss(total: number, phi: number, p = 0.05): number {
  const q = normalQuantile(p);
  const density = (s: number) =>
    Math.exp((-q * q) / (1 + s)) / (2 * Math.PI * Math.sqrt(1 - s * s));
  const integral = (r: number) => {
    const m = 2000;
    const h = r / m;
    let sum = density(0) + density(r);
    for (let i = 1; i < m; i++) sum += (i % 2 === 1 ? 4 : 2) * density(i * h);
    return (sum * h) / 3;
  };
  let tau = 1;
  for (let k = 1; Math.abs(phi ** k) > 1e-12; k++) tau += (2 * integral(phi ** k)) / (p * (1 - p));
  return total / tau;
}

describe('essTail', () => {
  // 4 chains of 64,000 draws, N = 256,000. Over 60 replications (seeds 7919 k) the relative
  // error against ar1TailEss had mean -0.7%, -0.6% and -2.1% and standard deviation 0.5%, 1.3%
  // and 3.5% for phi = 0, 0.5 and 0.9 (the 5% tail indicator is a rare event, hence the spread).
  // The 15% tolerance is 3.7 standard deviations away for phi = 0.9 and further for the others:
  // a seed fails with probability about 1e-4.
  const CHAINS = 4;
  const DRAWS = 64_000;
  const N = CHAINS * DRAWS;
  const TOLERANCE = 0.15;

  it('has a reference of N for independent draws', () => {
    expect(ar1TailEss(N, 0)).toBe(N);
  });

  it.each([0, 0.5, 0.9])(
    'is within 15%% of the indicator-autocorrelation value when the chains are AR(1), phi = %s',
    (phi) => {
      const draws = ar1Chains(77, CHAINS, DRAWS, phi);

      const tail = essTail(draws, { chains: CHAINS, draws: DRAWS });

      expect(relativeError(tail, ar1TailEss(N, phi))).toBeLessThan(TOLERANCE);
    },
  );

  it('is above the bulk ESS of the same AR(1) chains, whose indicators decorrelate faster', () => {
    // For phi = 0.9 the reference tail ESS is 29,876 against a bulk ESS of N / 19 = 13,474.
    const draws = ar1Chains(78, CHAINS, DRAWS, 0.9);
    const layout = { chains: CHAINS, draws: DRAWS };

    expect(essTail(draws, layout)).toBeGreaterThan(1.5 * essBulk(draws, layout));
  });
});

describe('splitRhat', () => {
  // 4 chains of 1,000 draws. Over 1,000 replications of an independent numpy implementation the
  // R-hat of one law had mean 1.0003 and sd 0.0005; a 1 sd shift of one chain gave 1.101 (sd
  // 0.007), a 2 sd shift 1.320 (sd 0.010), and 3 times the scale 1.145 (sd 0.010), with the
  // classic split R-hat at 1.0000 (sd 0.0008). Each threshold below is at least 6 sd away.
  const CHAINS = 4;
  const DRAWS = 1_000;
  const layout = { chains: CHAINS, draws: DRAWS };

  it('stays below 1.01 when all chains draw from one law', () => {
    const draws = ar1Chains(31, CHAINS, DRAWS, 0);

    expect(splitRhat(draws, layout)).toBeLessThan(1.01);
  });

  it.each([
    { shift: 1, above: 1.05 },
    { shift: 2, above: 1.2 },
  ])('exceeds $above when one chain is shifted by $shift sd', ({ shift, above }) => {
    const draws = ar1Chains(32, CHAINS, DRAWS, 0);
    for (let t = 0; t < DRAWS; t++) draws[t] += shift;

    expect(splitRhat(draws, layout)).toBeGreaterThan(above);
  });

  it('exceeds 1.08 when one chain has 3 times the scale, which the classic R-hat misses', () => {
    const draws = ar1Chains(33, CHAINS, DRAWS, 0);
    for (let t = 0; t < DRAWS; t++) draws[t] *= 3;

    expect(classicSplitRhat(draws, CHAINS, DRAWS)).toBeLessThan(1.01);
    expect(splitRhat(draws, layout)).toBeGreaterThan(1.08);
  });

  it('exceeds 1.1 when a single chain drifts', () => {
    const draws = ar1Chains(34, 1, DRAWS, 0).map((x, t) => x + (2 * t) / DRAWS);

    expect(splitRhat(draws, { chains: 1, draws: DRAWS })).toBeGreaterThan(1.1);
  });
});

describe('rank normalisation', () => {
  it('gives tied draws their average rank, so binary draws keep their R-hat and ESS', () => {
    // With average ranks the z-scores of 0/1 draws are an affine map of the draws, and R-hat and
    // ESS do not change under affine maps; any other tie-breaking would spread the z-scores.
    // With 30% ones the median is 0, so the folded draws are the draws themselves.
    const chains = 4;
    const draws = 300;
    const [stream] = createStreams(3, 1);
    const binary = Float64Array.from({ length: chains * draws }, () =>
      stream.uniform() < 0.3 ? 1 : 0,
    );
    const layout = { chains, draws };

    expect(
      relativeError(splitRhat(binary, layout), classicSplitRhat(binary, chains, draws)),
    ).toBeLessThan(1e-12);
    expect(relativeError(essBulk(binary, layout), ess(binary, layout))).toBeLessThan(1e-9);
  });
});

describe('diagnostics', () => {
  it('match an independent implementation on a fixed series with ties and odd draw count', () => {
    // 3 chains of 15 draws, rounded to one decimal (18 ties), the last chain shifted by 0.5.
    // Expected values from an independent numpy implementation of Vehtari et al. (2021) with
    // scipy's rankdata (average ties) and ndtri, numpy's type-7 quantiles and FFT.
    // prettier-ignore
    const draws = new Float64Array([
      -0.1, 0.9, 0.4, -1.1, 0.3, 0.3, 0.3, 0.3, -0.2, 1.9, -0.1, 2.3, 1.2, 0.1, 0.1,
      -0.7, -0.4, -2.4, -0.8, -0.1, -0.7, -0.9, -0.5, -0.9, -0.4, 0.6, -1.0, -1.0, 0.2, -0.6,
      -0.3, -0.3, -0.6, -0.4, -1.0, -0.4, 0.7, -0.6, 0.8, -1.3, -1.2, 0.4, 0.0, -0.4, 1.6,
    ]);
    const layout = { chains: 3, draws: 15 };
    const RELATIVE_TOLERANCE = 1e-12;

    expect(relativeError(splitRhat(draws, layout), 1.131738966218441)).toBeLessThan(
      RELATIVE_TOLERANCE,
    );
    expect(relativeError(essBulk(draws, layout), 21.49274753438514)).toBeLessThan(
      RELATIVE_TOLERANCE,
    );
    expect(relativeError(essTail(draws, layout), 32.835237744194615)).toBeLessThan(
      RELATIVE_TOLERANCE,
    );
    expect(relativeError(ess(draws, layout), 18.515211963834453)).toBeLessThan(RELATIVE_TOLERANCE);
  });

  const DIAGNOSTICS = [
    { name: 'splitRhat', diagnostic: splitRhat },
    { name: 'essBulk', diagnostic: essBulk },
    { name: 'essTail', diagnostic: essTail },
    { name: 'ess', diagnostic: ess },
  ];

  it.each(DIAGNOSTICS)(
    '$name returns NaN when chains have fewer than 4 draws',
    ({ diagnostic }) => {
      const draws = new Float64Array([0.1, 0.5, -0.3, 1.2, -0.7, 0.4]);

      expect(diagnostic(draws, { chains: 2, draws: 3 })).toBeNaN();
    },
  );

  it.each(DIAGNOSTICS)('$name returns NaN when every draw is equal', ({ diagnostic }) => {
    expect(diagnostic(new Float64Array(40).fill(2.5), { chains: 4, draws: 10 })).toBeNaN();
  });

  it.each(
    DIAGNOSTICS.flatMap((entry) => [NaN, Infinity, -Infinity].map((bad) => ({ ...entry, bad }))),
  )('$name returns NaN when a draw is $bad', ({ diagnostic, bad }) => {
    const draws = ar1Chains(9, 2, 50, 0);
    draws[17] = bad;

    expect(diagnostic(draws, { chains: 2, draws: 50 })).toBeNaN();
  });

  it('leaves out the middle draw of odd-length chains when splitting', () => {
    const layout = { chains: 2, draws: 101 };
    const draws = ar1Chains(10, 2, 101, 0.3);
    const changed = draws.slice();
    changed[50] = 1e6;
    changed[101 + 50] = -1e6;

    expect(ess(changed, layout)).toBe(ess(draws, layout));
    expect(essBulk(changed, layout)).toBe(essBulk(draws, layout));
  });

  const GOOD = new Float64Array(24);
  const INVALID: { layout: DrawsLayout; values?: unknown; message: RegExp }[] = [
    { layout: { chains: 0, draws: 8 }, message: /chains must be a positive integer; received 0\./ },
    { layout: { chains: 2.5, draws: 8 }, message: /chains must .*; received 2\.5\./ },
    { layout: { chains: 3, draws: -1 }, message: /draws must .*; received -1\./ },
    { layout: { chains: 3, draws: NaN }, message: /draws must .*; received NaN\./ },
    { layout: { chains: 3, draws: 8, stride: 0 }, message: /stride must .*; received 0\./ },
    {
      layout: { chains: 2, draws: 4, stride: 3, offset: 3 },
      message: /offset must be an integer in \[0, stride\) = \[0, 3\); received 3\./,
    },
    {
      layout: { chains: 2, draws: 4 },
      message: /values must hold .* = 8 numbers; received Float64Array\(24\)\./,
    },
    { layout: { chains: 2, draws: 4 }, values: null, message: /values must be .*received null/ },
    {
      layout: undefined as unknown as DrawsLayout,
      message: /layout must be an object .*; received undefined\./,
    },
  ];

  it.each(DIAGNOSTICS.flatMap((entry) => INVALID.map((bad) => ({ ...entry, ...bad }))))(
    '$name throws InvalidArgumentError matching $message when the arguments are invalid',
    ({ name, diagnostic, layout, values, message }) => {
      const call = () =>
        diagnostic((values === undefined ? GOOD : values) as ArrayLike<number>, layout);

      expect(call).toThrow(InvalidArgumentError);
      expect(call).toThrow(message);
      expect(call).toThrow(`${name}(): `);
    },
  );

  it('lists every invalid argument at once when several are wrong', () => {
    let error: unknown;
    try {
      essBulk(GOOD, { chains: 0, draws: 0, stride: -1 });
    } catch (caught) {
      error = caught;
    }

    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).issues).toHaveLength(3);
  });
});
