/**
 * The two-moons density of the fixtures (`fixtures/scripts/common.py`): the "U1" energy of
 * Rezende and Mohamed (2015) with radial width 0.2 instead of their 0.4,
 *
 *     log p(x) = -0.5 ((|x| - 2) / 0.2)^2
 *                + log(exp(-0.5 ((x1 - 2) / 0.6)^2) + exp(-0.5 ((x1 + 2) / 0.6)^2)),
 *
 * unnormalised, with `log Z = 1.2302446635558246` (midpoint rule, step 0.004 on [-6, 6]^2, as
 * the fixture script computes it).
 */
import { RandomStream, streamState } from '@latent-langevin/core';

import {
  type ModalTarget,
  type TargetDensity,
  checkBatch,
  checkSampleArguments,
} from './synthetic-target.js';

/** Parameters of the two-moons density, exactly as the fixtures define them. */
export const TWO_MOONS = {
  radius: 2,
  radialWidth: 0.2,
  centre: 2,
  sideWidth: 0.6,
  /** Standard deviation of `x2` in the rejection sampler's proposal. */
  proposalWidth: 1.5,
  logNormaliser: 1.2302446635558246,
} as const;

/**
 * The two-moons target of the fixtures `two-moons-realnvp` and `two-moons-nice`, with its
 * gradient, exact draws by rejection sampling, and two modes: the left moon (`x1 < 0`, mode 0)
 * and the right one, of weight 1/2 each by the symmetry `x1 -> -x1`.
 *
 * The sampler proposes `x1 ~ 0.5 N(-2, 0.6^2) + 0.5 N(2, 0.6^2)` and `x2 ~ N(0, 1.5^2)` and
 * accepts with probability `R(x) exp(x2^2 / (2 * 1.5^2)) / S`, where `R` is the radial factor
 * and `S` its supremum (see `two_moons_rejection_bound` in the fixture script); about 12% of
 * proposals are accepted.
 *
 * @returns the target; its `logDensity` is unnormalised (see `logNormaliser`) and its gradient
 *   at the origin, where `|x|` has none, takes the radial part as 0
 * @example
 * ```ts
 * const moons = twoMoons();
 * const exact = moons.sample(2000, 1); // [2000, 2]
 * const target = pullback(moons.logDensity);
 * ```
 */
export function twoMoons(): ModalTarget {
  const { radius, radialWidth: w, centre, sideWidth: s, proposalWidth: s2 } = TWO_MOONS;
  const logBound = rejectionLogBound();

  const logDensity = (x: ArrayLike<number>, n: number): TargetDensity => {
    checkBatch('twoMoons().logDensity()', x, n, 2);
    const out = new Float64Array(n);
    const gradient = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) {
      const x1 = x[2 * i];
      const x2 = x[2 * i + 1];
      const r = Math.sqrt(x1 * x1 + x2 * x2);
      const u = (r - radius) / w;
      const a = -0.5 * ((x1 - centre) / s) ** 2;
      const b = -0.5 * ((x1 + centre) / s) ** 2;
      const m = Math.max(a, b);
      const ea = Math.exp(a - m);
      const eb = Math.exp(b - m);
      out[i] = -0.5 * u * u + m + Math.log(ea + eb);
      const radial = r > 0 ? -u / (w * r) : 0;
      const side = (ea * -(x1 - centre) + eb * -(x1 + centre)) / ((ea + eb) * s * s);
      gradient[2 * i] = radial * x1 + side;
      gradient[2 * i + 1] = radial * x2;
    }
    return { logDensity: out, gradient };
  };

  const sample = (count: number, seed: number): Float64Array => {
    checkSampleArguments('twoMoons().sample()', count, seed);
    const random = new RandomStream(streamState(seed, 0));
    const out = new Float64Array(2 * count);
    let have = 0;
    while (have < count) {
      const side = random.uniform() < 0.5 ? -1 : 1;
      const x1 = side * centre + s * random.normal();
      const x2 = s2 * random.normal();
      const r = Math.sqrt(x1 * x1 + x2 * x2);
      const logAccept = -0.5 * ((r - radius) / w) ** 2 + (x2 * x2) / (2 * s2 * s2) - logBound;
      if (Math.log(random.uniform()) < logAccept) {
        out[2 * have] = x1;
        out[2 * have + 1] = x2;
        have++;
      }
    }
    return out;
  };

  const modeOf = (x: ArrayLike<number>, n: number): Int32Array => {
    checkBatch('twoMoons().modeOf()', x, n, 2);
    const modes = new Int32Array(n);
    for (let i = 0; i < n; i++) modes[i] = x[2 * i] < 0 ? 0 : 1;
    return modes;
  };

  return {
    name: 'two-moons',
    dimension: 2,
    logDensity,
    sample,
    logNormaliser: TWO_MOONS.logNormaliser,
    extent: [
      [-3, 3],
      [-3, 3],
    ],
    modeWeights: [0.5, 0.5],
    modeOf,
  };
}

/**
 * `log S`, `S = sup_y exp(-0.5 ((y - 2)_+ / w)^2 + y^2 / (2 s2^2))` over `y = |x2| >= 0`: the
 * radial factor is at most `exp(-0.5 ((|x2| - 2)_+ / w)^2)` because `|x| >= |x2|`. Above 2 the
 * exponent peaks at `y* = (2 / w^2) / (1 / w^2 - 1 / s2^2)`; below 2 it peaks at `y = 2`.
 */
function rejectionLogBound(): number {
  const { radius, radialWidth: w, proposalWidth: s2 } = TWO_MOONS;
  const yStar = radius / w ** 2 / (1 / w ** 2 - 1 / s2 ** 2);
  const above = -0.5 * ((yStar - radius) / w) ** 2 + yStar ** 2 / (2 * s2 ** 2);
  const atTwo = radius ** 2 / (2 * s2 ** 2);
  return Math.max(above, atTwo);
}
