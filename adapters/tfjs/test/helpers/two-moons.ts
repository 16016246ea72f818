/**
 * The two-moons RealNVP of `fixtures/two-moons-realnvp/` in TensorFlow.js, three ways: the graph
 * models of `fixtures/two-moons-tfjs/` (written by `fixtures/scripts/make-two-moons-tfjs.mjs`), a
 * layers model, and a plain function. The last two are built here from `weights.json` in the
 * masked form of `architecture.json`, the form the PyTorch model computes, so they share no code
 * with the graph's sliced form.
 */
import { readFileSync } from 'node:fs';
import type { AnyGraphModel } from '@latent-langevin/tfjs';
import * as tf from '@tensorflow/tfjs';
import {
  FIXTURES,
  type Reference,
  maxRelative,
  readReference,
  relativeL2,
} from '../../../../test/helpers/parity.js';

export { FIXTURES, type Reference, maxRelative, relativeL2 };

export const reference = readReference('two-moons-realnvp');

interface Weight {
  shape: number[];
  data: number[];
}
interface CouplingLayer {
  type: 'masked-affine-coupling';
  mask: number[];
  l1: { weight: { name: string }; bias: { name: string } };
  l2: { weight: { name: string }; bias: { name: string } };
  ls: { weight: { name: string }; bias: { name: string } };
  lt: { weight: { name: string }; bias: { name: string } };
  scale: { name: string };
}
interface AffineLayer {
  type: 'elementwise-affine';
  logScale: { name: string };
  shift: { name: string };
}

const weights = JSON.parse(
  readFileSync(`${FIXTURES}two-moons-realnvp/weights.json`, 'utf8'),
) as Record<string, Weight>;
const architecture = JSON.parse(
  readFileSync(`${FIXTURES}two-moons-realnvp/architecture.json`, 'utf8'),
) as { layers: (CouplingLayer | AffineLayer)[] };
const couplings = architecture.layers.filter(
  (l): l is CouplingLayer => l.type === 'masked-affine-coupling',
);
const affine = architecture.layers.find((l): l is AffineLayer => l.type === 'elementwise-affine')!;

/**
 * Loads `fixtures/two-moons-tfjs/<file>` as a graph model, synchronously from memory (plain tfjs
 * reads no files in Node).
 */
export function loadTwoMoonsGraphModel(file = 'model.json'): AnyGraphModel {
  const dir = `${FIXTURES}two-moons-tfjs/`;
  const json = JSON.parse(readFileSync(`${dir}${file}`, 'utf8')) as tf.io.ModelJSON;
  const bin = readFileSync(`${dir}weights.bin`);
  const weightData = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength);
  return tf.loadGraphModelSync({
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
    weightData,
    ...(json.signature === undefined ? {} : { signature: json.signature }),
    format: json.format,
  });
}

/** A PyTorch `[out, in]` weight as the `[in, out]` matrix of `h @ W^T`. */
const transposed = (name: string) =>
  tf.tidy(() =>
    tf.transpose(tf.tensor2d(weights[name].data, weights[name].shape as [number, number])),
  );
const vector = (name: string) => tf.tensor1d(weights[name].data);

/** The weights of the function version, kept alive until `dispose`. */
export interface TwoMoonsFunction {
  fn: (z: tf.Tensor2D) => { x: tf.Tensor; logDet: tf.Tensor1D };
  dispose: () => void;
}

/**
 * The two-moons RealNVP as a plain tfjs function, in PyTorch's masked form:
 * `u = m y; h = tanh(l2(tanh(l1(u)))); s = scale tanh(ls(h)) (1 - m); t = lt(h) (1 - m);
 * y' = u + (1 - m) y exp(s) + t; logDet += sum(s)`, then `x = y exp(logScale) + shift`.
 */
export function twoMoonsFunction(): TwoMoonsFunction {
  const layers = couplings.map((layer) => ({
    mask: tf.tensor1d(layer.mask),
    complement: tf.tensor1d(layer.mask.map((m) => 1 - m)),
    w1: transposed(layer.l1.weight.name),
    b1: vector(layer.l1.bias.name),
    w2: transposed(layer.l2.weight.name),
    b2: vector(layer.l2.bias.name),
    ws: transposed(layer.ls.weight.name),
    bs: vector(layer.ls.bias.name),
    wt: transposed(layer.lt.weight.name),
    bt: vector(layer.lt.bias.name),
    scale: vector(layer.scale.name),
  }));
  const logScale = vector(affine.logScale.name);
  const shift = vector(affine.shift.name);
  const tensors = [...layers.flatMap((l) => Object.values(l)), logScale, shift];

  const fn = (z: tf.Tensor2D) => {
    let y: tf.Tensor2D = z;
    let logDet = tf.zeros([z.shape[0]]) as tf.Tensor1D;
    for (const l of layers) {
      const u = tf.mul(y, l.mask);
      const h1 = tf.tanh(tf.add(tf.matMul(u, l.w1), l.b1));
      const h2 = tf.tanh(tf.add(tf.matMul(h1, l.w2), l.b2));
      const s = tf.mul(tf.mul(l.scale, tf.tanh(tf.add(tf.matMul(h2, l.ws), l.bs))), l.complement);
      const t = tf.mul(tf.add(tf.matMul(h2, l.wt), l.bt), l.complement);
      y = tf.add(tf.add(u, tf.mul(tf.mul(l.complement, y), tf.exp(s))), t) as tf.Tensor2D;
      logDet = tf.add(logDet, tf.sum(s, 1));
    }
    const x = tf.add(tf.mul(y, tf.exp(logScale)), shift);
    return { x, logDet: tf.add(logDet, tf.sum(logScale)) as tf.Tensor1D };
  };
  return { fn, dispose: () => tensors.forEach((t) => t.dispose()) };
}

/** `y -> y * mask`, a constant mask over the last axis. */
class MaskLayer extends tf.layers.Layer {
  static readonly className = 'LatentLangevinMask';
  constructor(private readonly mask: readonly number[]) {
    super({});
  }
  override computeOutputShape(shape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return shape;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const y = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.mul(y, tf.tensor1d([...this.mask]));
  }
}

/** `[y, squashed, t] -> [y', sum(s)]`: the affine update of a masked coupling. */
class CouplingUpdateLayer extends tf.layers.Layer {
  static readonly className = 'LatentLangevinCouplingUpdate';
  constructor(
    private readonly mask: readonly number[],
    private readonly scale: readonly number[],
  ) {
    super({});
  }
  override computeOutputShape(shape: tf.Shape | tf.Shape[]): tf.Shape[] {
    const [y] = shape as tf.Shape[];
    return [y, [y[0]]];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
    const [y, squashed, shift] = inputs as tf.Tensor[];
    const mask = tf.tensor1d([...this.mask]);
    const complement = tf.tensor1d(this.mask.map((m) => 1 - m));
    const s = tf.mul(tf.mul(tf.tensor1d([...this.scale]), squashed), complement);
    const t = tf.mul(shift, complement);
    const next = tf.add(tf.add(tf.mul(y, mask), tf.mul(tf.mul(complement, y), tf.exp(s))), t);
    return [next, tf.sum(s, 1)];
  }
}

/**
 * `[y, ld_1, ..., ld_K]` to `x = y exp(logScale) + shift` or, with `logDetOnly`, to
 * `logDet = sum_k ld_k + sum(logScale)`.
 */
class OutputLayer extends tf.layers.Layer {
  static readonly className = 'LatentLangevinOutput';
  constructor(
    private readonly logScale: readonly number[],
    private readonly shift: readonly number[],
    private readonly logDetOnly: boolean,
    name: string,
  ) {
    super({ name });
  }
  override computeOutputShape(shape: tf.Shape | tf.Shape[]): tf.Shape {
    const [y, logDet] = shape as tf.Shape[];
    return this.logDetOnly ? logDet : y;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [y, ...logDets] = inputs as tf.Tensor[];
    if (!this.logDetOnly) {
      return tf.add(
        tf.mul(y, tf.exp(tf.tensor1d([...this.logScale]))),
        tf.tensor1d([...this.shift]),
      );
    }
    return tf.add(tf.addN(logDets), tf.sum(tf.tensor1d([...this.logScale])));
  }
}

/**
 * The two-moons RealNVP as a layers model: standard `dense` layers for the conditioners (weights
 * set from `weights.json`) and three small custom layers for the mask and the affine updates.
 * Input `z`, outputs `x` and `logdet`.
 */
export function twoMoonsLayersModel(): tf.LayersModel {
  const z = tf.input({ shape: [2], name: 'z' });
  let y: tf.SymbolicTensor = z;
  const logDets: tf.SymbolicTensor[] = [];
  const dense: { layer: tf.layers.Layer; weight: string; bias: string }[] = [];
  couplings.forEach((layer, k) => {
    const add = (units: number, activation: 'tanh' | 'linear', net: 'l1' | 'l2' | 'ls' | 'lt') => {
      const created = tf.layers.dense({ units, activation, name: `coupling_${k}_${net}` });
      dense.push({ layer: created, weight: layer[net].weight.name, bias: layer[net].bias.name });
      return created;
    };
    const u = new MaskLayer(layer.mask).apply(y) as tf.SymbolicTensor;
    const h1 = add(64, 'tanh', 'l1').apply(u) as tf.SymbolicTensor;
    const h2 = add(64, 'tanh', 'l2').apply(h1) as tf.SymbolicTensor;
    const squashed = add(2, 'tanh', 'ls').apply(h2) as tf.SymbolicTensor;
    const t = add(2, 'linear', 'lt').apply(h2) as tf.SymbolicTensor;
    const update = new CouplingUpdateLayer(layer.mask, weights[layer.scale.name].data);
    const [next, logDet] = update.apply([y, squashed, t]) as tf.SymbolicTensor[];
    y = next;
    logDets.push(logDet);
  });
  const logScale = weights[affine.logScale.name].data;
  const shift = weights[affine.shift.name].data;
  const x = new OutputLayer(logScale, shift, false, 'x').apply([y, ...logDets]);
  const logdet = new OutputLayer(logScale, shift, true, 'logdet').apply([y, ...logDets]);
  const model = tf.model({
    inputs: z,
    outputs: [x as tf.SymbolicTensor, logdet as tf.SymbolicTensor],
  });
  for (const { layer, weight, bias } of dense) {
    tf.tidy(() => layer.setWeights([transposed(weight), vector(bias)]));
  }
  return model;
}
