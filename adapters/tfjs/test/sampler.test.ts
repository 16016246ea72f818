/**
 * Latent MALA through tfjs flows: exactness on a pullback target (the checks of the core's
 * `test/exactness.test.ts`, on a tfjs version of its analytic coupling flow) and no tensor left
 * behind by a thousand sampler steps.
 */
import {
  type CouplingNetwork,
  RandomStream,
  couplingFlow2d,
  init,
  pullback,
  sample,
  streamState,
  tempered,
} from '@latent-langevin/core';
import { fromFunction, fromGraphModel, useBackend } from '@latent-langevin/tfjs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { drawsAt, expectMatchesMixture, mixtureLogDensity } from '../../../test/helpers/mixture.js';
import { loadTwoMoonsGraphModel, maxRelative } from './helpers/two-moons.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/**
 * The analytic coupling flow of the core as tfjs operations, from its weights (`flow.layers`):
 * `x2 = z2 exp(s1(z1)) + t1(z1)`, `x1 = z1 exp(s2(x2)) + t2(x2)`, `logDet = s1 + s2`, each
 * network `h = tanh(w u + c)`, `s = bound tanh(v . h + scaleBias)`, `t = r . h + shiftBias`.
 * The columns are taken with strided slices, so the registered StridedSlice gradient is used.
 */
function tfjsCouplingFlow(layers: readonly [CouplingNetwork, CouplingNetwork], bound: number) {
  const nets = layers.map((net) => ({
    w: tf.tensor2d([...net.hiddenWeights], [1, net.hiddenWeights.length]),
    c: tf.tensor1d([...net.hiddenBiases]),
    v: tf.tensor2d([...net.scaleWeights], [net.scaleWeights.length, 1]),
    r: tf.tensor2d([...net.shiftWeights], [net.shiftWeights.length, 1]),
    scaleBias: net.scaleBias,
    shiftBias: net.shiftBias,
  }));
  const apply = (net: (typeof nets)[number], u: tf.Tensor2D) => {
    const h = tf.tanh(tf.add(tf.matMul(u, net.w), net.c));
    const s = tf.mul(bound, tf.tanh(tf.add(tf.matMul(h, net.v), net.scaleBias)));
    const t = tf.add(tf.matMul(h, net.r), net.shiftBias);
    return { s, t };
  };
  const fn = (z: tf.Tensor2D) => {
    const z1 = tf.stridedSlice(z, [0, 0], [0, 1], [1, 1], 1, 1) as tf.Tensor2D;
    const z2 = tf.stridedSlice(z, [0, 1], [0, 2], [1, 1], 1, 1) as tf.Tensor2D;
    const first = apply(nets[0], z1);
    const x2 = tf.add(tf.mul(z2, tf.exp(first.s)), first.t) as tf.Tensor2D;
    const second = apply(nets[1], x2);
    const x1 = tf.add(tf.mul(z1, tf.exp(second.s)), second.t);
    return {
      x: tf.concat([x1, x2], 1),
      logDet: tf.reshape(tf.add(first.s, second.s), [-1]) as tf.Tensor1D,
    };
  };
  const dispose = () =>
    nets.forEach((net) => [net.w, net.c, net.v, net.r].forEach((t) => t.dispose()));
  return fromFunction(fn, { latentDim: 2, dispose });
}

describe('latent MALA through a tfjs flow', () => {
  const analytic = couplingFlow2d();

  it('computes the analytic coupling flow and its VJPs within 1e-5', async () => {
    const flow = tfjsCouplingFlow(analytic.layers, analytic.scaleBound);
    const random = new RandomStream(streamState(3, 0));
    const n = 64;
    const z = Float32Array.from({ length: 2 * n }, () => 2 * random.normal());
    const cotangent = {
      x: Float32Array.from({ length: 2 * n }, () => random.normal()),
      logDet: Float32Array.from({ length: n }, () => random.normal()),
    };
    const a = await flow.vjp(z, n, cotangent);
    const b = await analytic.vjp(z, n, cotangent);
    expect(maxRelative(a.x, b.x)).toBeLessThan(1e-5);
    expect(maxRelative(a.logDet, b.logDet)).toBeLessThan(1e-5);
    expect(maxRelative(a.z, b.z)).toBeLessThan(1e-5);
    await flow.dispose();
  });

  // As in test/exactness.test.ts: 2000 chains, 300 warm-up iterations, draws kept at sampling
  // iterations 50 and 100 (4000 draws); both marginal KS p-values above 1e-3, region-share total
  // variation below 0.03 (more than four standard deviations). On cpu only: tfjs is the same
  // arithmetic on wasm, which the parity table checks.
  it('draws x from the pullback target with the identity preconditioner', async () => {
    const flow = tfjsCouplingFlow(analytic.layers, analytic.scaleBound);
    const run = await sample(flow, {
      target: pullback(mixtureLogDensity),
      chains: 2000,
      warmup: 300,
      draws: 100,
      seed: 7,
      preconditioner: 'identity',
      keepX: true,
    });
    await flow.dispose();
    expectMatchesMixture(drawsAt(run.x as Float32Array, 2000, 100, [49, 99]));
  });
});

describe('tensor lifetime', () => {
  // Every call runs in tf.tidy: a leak would grow by the same count at every step, so 1000 steps
  // on a small flow and 100 on the two-moons graph model (15 ms a step on cpu) both show it.
  it.each([
    [
      'a function with a pullback target (forward, then VJP)',
      1000,
      () => {
        const analytic = couplingFlow2d();
        return tfjsCouplingFlow(analytic.layers, analytic.scaleBound);
      },
    ],
    [
      'the two-moons graph model with a tempered target (VJP)',
      100,
      () => fromGraphModel(loadTwoMoonsGraphModel()),
    ],
  ] as const)(
    'leaves no tensor behind on %s after %i sampler steps',
    async (name, steps, create) => {
      const start = tf.memory().numTensors;
      const flow = create();
      const sampler = await init(flow, {
        target: name.includes('pullback') ? pullback(mixtureLogDensity) : tempered({ beta: 1 }),
        chains: 4,
        warmup: 500,
        seed: 2,
        stepSize: 0.2,
      });
      const before = tf.memory().numTensors;
      for (let t = 0; t < steps; t++) await sampler.step();
      expect(tf.memory().numTensors).toBe(before);
      await flow.dispose();
      expect(tf.memory().numTensors).toBe(start);
    },
  );
});
