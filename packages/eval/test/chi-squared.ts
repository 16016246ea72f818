/**
 * The chi-squared distribution's survival function, for goodness-of-fit tests of the samplers:
 * `P(X > x)` for `X ~ chi^2(k)` is the regularised upper incomplete gamma function
 * `Q(k / 2, x / 2)`, computed by its power series below `a + 1` and by its continued fraction
 * above (the split of Numerical Recipes, 3rd ed., section 6.2, where each converges fast).
 */

/** `log Gamma(a)` for `a > 0`, by the Lanczos approximation (g = 7, 9 terms; ~1e-15 relative). */
export function logGamma(a: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
    -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  if (a < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * a)) - logGamma(1 - a);
  const x = a - 1;
  let sum = c[0];
  for (let k = 1; k < 9; k++) sum += c[k] / (x + k);
  const t = x + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** `Q(a, x) = Gamma(a, x) / Gamma(a)` for `a > 0`, `x >= 0`. */
export function upperGammaRegularised(a: number, x: number): number {
  if (x <= 0) return 1;
  const prefix = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    // P(a, x) = exp(prefix) * sum_n x^n / (a (a + 1) ... (a + n)).
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 10_000 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= x / (a + n);
      sum += term;
    }
    return 1 - Math.exp(prefix) * sum;
  }
  // Q(a, x) = exp(prefix) / (x + 1 - a - 1 (1 - a) / (x + 3 - a - ...)), modified Lentz.
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let n = 1; n < 10_000; n++) {
    const an = -n * (n - a);
    b += 2;
    d = an * d + b;
    d = Math.abs(d) < tiny ? tiny : d;
    c = b + an / c;
    c = Math.abs(c) < tiny ? tiny : c;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(prefix) * h;
}

/**
 * `P(X > x)` for `X ~ chi^2(dof)`.
 *
 * @param x the statistic, >= 0
 * @param dof degrees of freedom, > 0
 */
export function chiSquaredSurvival(x: number, dof: number): number {
  return upperGammaRegularised(dof / 2, x / 2);
}

/** Pearson's statistic `sum (observed - expected)^2 / expected` and its p-value. */
export function chiSquaredTest(
  observed: ArrayLike<number>,
  expected: ArrayLike<number>,
): { statistic: number; dof: number; pValue: number } {
  let statistic = 0;
  for (let k = 0; k < observed.length; k++) {
    statistic += (observed[k] - expected[k]) ** 2 / expected[k];
  }
  const dof = observed.length - 1;
  return { statistic, dof, pValue: chiSquaredSurvival(statistic, dof) };
}
