/**
 * Exactness of latent MALA: with a `pullback` target, `x = f(z)` must follow the data-space target
 * exactly, whatever the flow. The target is a 2-D mixture of three Gaussians with unequal weights,
 * pulled back through the analytic coupling flow, whose Jacobian varies across the plane.
 *
 * Every check compares draws with the target's closed-form law: one-sample Kolmogorov-Smirnov
 * tests on both marginals (rejected below p = 1e-3) and the total variation between the share of
 * draws nearest each component and the exact shares (at most 0.03). Draws are the states of many
 * independent chains, thinned, so the tests' iid assumptions hold closely. Seeds are fixed; for a
 * correct sampler each KS test fails at rate 1e-3 over seeds, and the total variation of 4000
 * draws has a standard deviation near 0.007, so 0.03 is more than four deviations away.
 *
 * These checks are sharp enough to catch a wrong acceptance ratio in the sampler itself: with the
 * proposal-density correction of `sampler.ts` dropped, the identity-preconditioner and Geweke
 * tests fail; with the log-determinant term of the jacobian preconditioner's proposal density
 * dropped, every jacobian test fails. The last describe block shows the same on a small
 * reference implementation, where the faults can be switched on.
 */
import {
  type DifferentiableFlow,
  type PreconditionerOption,
  RandomStream,
  couplingFlow2d,
  naive,
  pullback,
  sample,
  streamState,
  tempered,
} from '@latent-langevin/core';
import { finiteDifferenceFlow } from '@latent-langevin/finite-difference';
import { describe, expect, it } from 'vitest';
import {
  KS_LEVEL,
  TV_TOLERANCE,
  drawsAt,
  exactDraws,
  expectMatchesMixture,
  mismatch,
  mixtureLogDensity,
} from './helpers/mixture.js';
import { ksTwoSample } from './helpers/statistics.js';

const exactFlow = couplingFlow2d();
const fdFlow = finiteDifferenceFlow((z, n) => exactFlow.forward(z, n), { latentDim: 2 });
const target = pullback(mixtureLogDensity);

const CONFIGS: {
  preconditioner: PreconditionerOption;
  global: number;
  gradient: 'exact' | 'finite-difference';
}[] = [];
for (const preconditioner of ['identity', 'diagonal', 'jacobian'] as const) {
  for (const global of [0, 0.2]) {
    for (const gradient of ['exact', 'finite-difference'] as const) {
      CONFIGS.push({ preconditioner, global, gradient });
    }
  }
}

describe('latent MALA on a pullback target', () => {
  // 2000 chains, 300 warm-up iterations, draws kept at sampling iterations 50 and 100:
  // 4000 draws per configuration.
  it.each(CONFIGS)(
    'draws x from the target with $preconditioner preconditioner, global moves $global, ' +
      '$gradient gradients',
    async ({ preconditioner, global, gradient }) => {
      const flow: DifferentiableFlow = gradient === 'exact' ? exactFlow : fdFlow;
      const run = await sample(flow, {
        target,
        chains: 2000,
        warmup: 300,
        draws: 100,
        seed: 7,
        preconditioner,
        globalMoveProbability: global,
        keepX: true,
      });
      expectMatchesMixture(drawsAt(run.x as Float32Array, 2000, 100, [49, 99]));
    },
  );

  // Geweke-style: 4000 chains started from exact draws (z = f^-1(x)), fixed step size, no
  // adaptation; after 25 iterations the states must still follow the target.
  it.each(['identity', 'jacobian'] as const)(
    'keeps exact draws exact with the %s preconditioner',
    async (preconditioner) => {
      const chains = 4000;
      const start = exactFlow.inverse(exactDraws(chains, 99), chains);
      for (const globalMoveProbability of [0, 0.3]) {
        const run = await sample(exactFlow, {
          target,
          chains,
          warmup: 0,
          draws: 25,
          seed: 11,
          stepSize: preconditioner === 'identity' ? 0.6 : 1.5,
          preconditioner,
          globalMoveProbability,
          initialZ: start,
          keepX: true,
        });
        expectMatchesMixture(drawsAt(run.x as Float32Array, chains, 25, [24]));
      }
    },
  );
});

describe('latent MALA on the tempered target', () => {
  it('reproduces naive sampling when beta is 0', async () => {
    // 2000 chains after 200 warm-up and 60 sampling iterations against 20,000 naive draws.
    const chains = 2000;
    const run = await sample(exactFlow, {
      target: tempered({ beta: 0 }),
      chains,
      warmup: 200,
      draws: 60,
      seed: 5,
      keepX: true,
    });
    const mcmc = drawsAt(run.x as Float32Array, chains, 60, [59]);
    const reference = (await naive(exactFlow, { count: 20_000, seed: 6 })).x;
    for (const axis of [0, 1]) {
      const a = Array.from({ length: chains }, (_, i) => mcmc[2 * i + axis]);
      const b = Array.from({ length: 20_000 }, (_, i) => reference[2 * i + axis]);
      expect(ksTwoSample(a, b).pValue).toBeGreaterThan(KS_LEVEL);
    }
  });
});

/**
 * A plain MALA on the same pullback target, written from the equations in float64, with two
 * classic bugs that can be switched on: the proposal correction left out, and a drift whose
 * gradient has the wrong sign while the correction is computed as the equations say. The correct
 * version passes the Geweke check, each faulty one fails it. (A sign flipped consistently, in the
 * drift and in both proposal densities, keeps the kernel exact, only slow: exactness holds for
 * any deterministic drift, which is also why finite-difference gradients are safe.)
 */
type Fault = 'none' | 'no-proposal-correction' | 'wrong-sign-drift';

function referenceMala(
  zStart: Float64Array,
  chains: number,
  h: number,
  steps: number,
  fault: Fault,
) {
  const maps = exactFlow.float64;
  const z = Float64Array.from(zStart);
  const evaluate = (point: Float64Array, count: number) => {
    const forward = maps.forward(point, count);
    const density = mixtureLogDensity(forward.x, count);
    const logPi = new Float64Array(count);
    for (let i = 0; i < count; i++) logPi[i] = density.logDensity[i] + forward.logDet[i];
    const grad = maps.vjp(point, count, {
      x: density.gradient,
      logDet: new Float64Array(count).fill(1),
    }).z;
    return { logPi, grad, x: forward.x };
  };
  const random = new RandomStream(streamState(2024, 0));
  let state = evaluate(z, chains);
  const proposal = new Float64Array(2 * chains);
  const logForward = new Float64Array(chains);
  for (let t = 0; t < steps; t++) {
    const sign = fault === 'wrong-sign-drift' ? -1 : 1;
    for (let i = 0; i < chains; i++) {
      logForward[i] = 0;
      for (let j = 0; j < 2; j++) {
        const k = 2 * i + j;
        proposal[k] = z[k] + sign * 0.5 * h * state.grad[k] + Math.sqrt(h) * random.normal();
        // The correction as written in the equations, with the true gradient.
        const mean = z[k] + 0.5 * h * state.grad[k];
        logForward[i] -= (proposal[k] - mean) ** 2 / (2 * h);
      }
    }
    const next = evaluate(proposal, chains);
    for (let i = 0; i < chains; i++) {
      let logReverse = 0;
      for (let j = 0; j < 2; j++) {
        const k = 2 * i + j;
        logReverse -= (z[k] - proposal[k] - 0.5 * h * next.grad[k]) ** 2 / (2 * h);
      }
      const correction = fault === 'no-proposal-correction' ? 0 : logReverse - logForward[i];
      const logAccept = next.logPi[i] - state.logPi[i] + correction;
      if (Math.log(random.uniform()) < logAccept) {
        for (let j = 0; j < 2; j++) z[2 * i + j] = proposal[2 * i + j];
      }
    }
    state = evaluate(z, chains);
  }
  return state.x;
}

describe('the exactness checks', () => {
  const chains = 4000;
  const start = Float64Array.from(exactFlow.inverse(exactDraws(chains, 99), chains));

  it('pass for a correct reference MALA', () => {
    expectMatchesMixture(referenceMala(start, chains, 0.6, 25, 'none'));
  });

  it.each(['no-proposal-correction', 'wrong-sign-drift'] as const)(
    'fail for a MALA with the fault %s',
    (fault) => {
      const { p0, p1, tv } = mismatch(referenceMala(start, chains, 0.6, 25, fault));
      expect(Math.min(p0, p1) < KS_LEVEL || tv > TV_TOLERANCE).toBe(true);
    },
  );
});
