/**
 * The analytic coupling flow of the core (`couplingFlow2d()`) as tfjs operations, from its
 * weights: `x2 = z2 exp(s1(z1)) + t1(z1)`, `x1 = z1 exp(s2(x2)) + t2(x2)`, `logDet = s1 + s2`,
 * each network `h = tanh(w u + c)`, `s = bound tanh(v . h + scaleBias)`, `t = r . h + shiftBias`.
 * The columns are taken with strided slices, so the registered StridedSlice gradient is used.
 */
import type { CouplingNetwork } from '@latent-langevin/core';
import { type FunctionFlow, type FunctionFlowOptions, fromFunction } from '@latent-langevin/tfjs';
import * as tf from '@tensorflow/tfjs';

/**
 * The coupling flow with `layers` and `bound` (from `couplingFlow2d()`) as a tfjs function flow.
 *
 * @param options passed on to `fromFunction()` (`maxBatch`, for one)
 */
export function tfjsCouplingFlow(
  layers: readonly [CouplingNetwork, CouplingNetwork],
  bound: number,
  options: Omit<FunctionFlowOptions, 'latentDim' | 'dispose'> = {},
): FunctionFlow {
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
  return fromFunction(fn, { ...options, latentDim: 2, dispose });
}
