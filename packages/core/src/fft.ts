/**
 * Autocovariance of a series by a radix-2 real fast Fourier transform, for the effective sample
 * sizes of `diagnostics.ts`. Internal to the core: not part of the public API.
 *
 * By the Wiener-Khinchin theorem the circular autocovariance of a series is the inverse transform
 * of its power spectrum; zero-padding the centred series of length `n` to `m >= 2n - 1` points
 * makes the circular sums equal the linear ones, so all `n` lags cost O(m log m) instead of
 * O(n^2). The real transform of `m` points is one complex transform of `m / 2` points, with the
 * even samples as real parts and the odd samples as imaginary parts (Press et al., Numerical
 * Recipes, section 12.3).
 */

/**
 * Biased autocovariance of `series` at every lag, by FFT.
 *
 * @param series `[n]`, finite values, `n >= 1`
 * @returns `[n]`: entry `k` is `(1 / n) * sum_{t < n - k} (x_t - mean) * (x_{t + k} - mean)`
 * @example
 * ```ts
 * const acov = autocovariance(new Float64Array([1, 2, 3, 4]));
 * const lag1Correlation = acov[1] / acov[0];
 * ```
 */
export function autocovariance(series: Float64Array): Float64Array {
  const n = series.length;
  let m = 2;
  while (m < 2 * n - 1) m *= 2;

  let mean = 0;
  for (let t = 0; t < n; t++) mean += series[t];
  mean /= n;
  const padded = new Float64Array(m);
  for (let t = 0; t < n; t++) padded[t] = series[t] - mean;

  const spectrum = realFft(padded);
  const half = m / 2;
  for (let k = 0; k <= half; k++) {
    spectrum.re[k] = spectrum.re[k] * spectrum.re[k] + spectrum.im[k] * spectrum.im[k];
    spectrum.im[k] = 0;
  }
  const circular = inverseRealFft(spectrum.re, spectrum.im);

  const out = new Float64Array(n);
  for (let k = 0; k < n; k++) out[k] = circular[k] / n;
  return out;
}

/** Half spectrum of a real series: bins `0..m/2`, the others being their complex conjugates. */
interface HalfSpectrum {
  readonly re: Float64Array;
  readonly im: Float64Array;
}

/**
 * Discrete Fourier transform `X_k = sum_j x_j e^{-2 pi i jk / m}` of a real series whose length
 * `m` is a power of two, at least 2; returns bins `0..m/2`.
 */
function realFft(x: Float64Array): HalfSpectrum {
  const m = x.length;
  const half = m / 2;
  const zRe = new Float64Array(half);
  const zIm = new Float64Array(half);
  for (let k = 0; k < half; k++) {
    zRe[k] = x[2 * k];
    zIm[k] = x[2 * k + 1];
  }
  complexFftInPlace(zRe, zIm, -1);

  // With Z the transform of z_k = x_{2k} + i x_{2k+1}, the transforms of the even and odd
  // samples are E_k = (Z_k + conj Z_{h-k}) / 2 and O_k = (Z_k - conj Z_{h-k}) / 2i, and
  // X_k = E_k + e^{-2 pi i k / m} O_k for k = 0..h, indices of Z taken modulo h.
  const re = new Float64Array(half + 1);
  const im = new Float64Array(half + 1);
  for (let k = 0; k <= half; k++) {
    const j = k % half;
    const l = (half - k) % half;
    const dRe = zRe[j] - zRe[l];
    const dIm = zIm[j] + zIm[l];
    const evenRe = (zRe[j] + zRe[l]) / 2;
    const evenIm = (zIm[j] - zIm[l]) / 2;
    const oddRe = dIm / 2;
    const oddIm = -dRe / 2;
    const angle = (-2 * Math.PI * k) / m;
    const wRe = Math.cos(angle);
    const wIm = Math.sin(angle);
    re[k] = evenRe + wRe * oddRe - wIm * oddIm;
    im[k] = evenIm + wRe * oddIm + wIm * oddRe;
  }
  return { re, im };
}

/**
 * Inverse of {@link realFft}: the real series `x_j = (1 / m) sum_k X_k e^{2 pi i jk / m}` of
 * length `m = 2 * (re.length - 1)` from the bins `0..m/2` of a Hermitian spectrum.
 */
function inverseRealFft(re: Float64Array, im: Float64Array): Float64Array {
  const half = re.length - 1;
  const m = 2 * half;

  // Undo the butterfly of realFft: E_k = (X_k + conj X_{h-k}) / 2,
  // O_k = e^{2 pi i k / m} (X_k - conj X_{h-k}) / 2, then Z_k = E_k + i O_k.
  const zRe = new Float64Array(half);
  const zIm = new Float64Array(half);
  for (let k = 0; k < half; k++) {
    const l = half - k;
    const evenRe = (re[k] + re[l]) / 2;
    const evenIm = (im[k] - im[l]) / 2;
    const dRe = (re[k] - re[l]) / 2;
    const dIm = (im[k] + im[l]) / 2;
    const angle = (2 * Math.PI * k) / m;
    const wRe = Math.cos(angle);
    const wIm = Math.sin(angle);
    const oddRe = dRe * wRe - dIm * wIm;
    const oddIm = dRe * wIm + dIm * wRe;
    zRe[k] = evenRe - oddIm;
    zIm[k] = evenIm + oddRe;
  }
  complexFftInPlace(zRe, zIm, 1);

  const x = new Float64Array(m);
  for (let k = 0; k < half; k++) {
    x[2 * k] = zRe[k] / half;
    x[2 * k + 1] = zIm[k] / half;
  }
  return x;
}

/**
 * Unnormalised complex transform `Z_k = sum_j z_j e^{sign 2 pi i jk / n}` in place, by the
 * iterative radix-2 Cooley-Tukey algorithm; `n` is a power of two.
 */
function complexFftInPlace(re: Float64Array, im: Float64Array, sign: 1 | -1): void {
  const n = re.length;

  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      const tRe = re[i];
      re[i] = re[j];
      re[j] = tRe;
      const tIm = im[i];
      im[i] = im[j];
      im[j] = tIm;
    }
  }

  // Twiddles come from cos and sin of each angle, not a recurrence, to keep rounding at 1 ulp.
  for (let size = 2; size <= n; size *= 2) {
    const span = size / 2;
    const step = (sign * 2 * Math.PI) / size;
    for (let k = 0; k < span; k++) {
      const wRe = Math.cos(step * k);
      const wIm = Math.sin(step * k);
      for (let a = k; a < n; a += size) {
        const b = a + span;
        const tRe = re[b] * wRe - im[b] * wIm;
        const tIm = re[b] * wIm + im[b] * wRe;
        re[b] = re[a] - tRe;
        im[b] = im[a] - tIm;
        re[a] += tRe;
        im[a] += tIm;
      }
    }
  }
}
