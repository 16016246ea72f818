/**
 * Gradients through the fused kernels the converter emits (`_FusedMatMul`, `_FusedConv2D`,
 * `FusedDepthwiseConv2dNative`), for every activation tfjs runs fused and for Tanh (which the
 * adapter splits out), through small graph models, against central finite differences of the
 * same graph, on cpu and wasm.
 *
 * Under `tf.grad`, tfjs runs a fused node with an activation other than linear as separate
 * kernels (matmul or convolution, bias, activation), each with its gradient, and a linear one as
 * the fused kernel with its own custom gradient; the finite differences run the fused forward
 * kernel. So each case checks the gradient against the kernel that computes the forward values.
 *
 * `L(x) = sum(w * y(x))` with fixed random weights `w`, accumulated in float64; central
 * differences with step h = 1e-2 (truncation error near h^2 = 1e-4 of the second-order terms,
 * float32 rounding near 1e-6 / h). The start point is chosen so that every piecewise-linear
 * activation sees both sides of each kink and no pre-activation lies within the reach of one
 * step of a kink, where a difference would straddle it. Tolerance: 1e-3 of the gradient's scale.
 */
import './helpers/quiet-greeting.js';
import { RandomStream, streamState } from '@latent-langevin/core';
import { type AnyGraphModel, splitFusedActivations, useBackend } from '@latent-langevin/tfjs';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { GraphBuilder, attr } from './helpers/graph-builder.js';

const STEP = 1e-3;
const TOLERANCE = 1e-3;

/** Activations of the fused kernels, as the graph names them, and where they have kinks. */
const ACTIVATIONS: readonly { name: string; kinks: readonly number[] }[] = [
  { name: 'linear', kinks: [] },
  { name: 'Relu', kinks: [0] },
  { name: 'Relu6', kinks: [0, 6] },
  { name: 'Elu', kinks: [0] },
  { name: 'Sigmoid', kinks: [] },
  { name: 'LeakyRelu', kinks: [0] },
  { name: 'Prelu', kinks: [0] },
  { name: 'Tanh', kinks: [] },
];

/** `count` normal draws times `scale`, from a seeded stream. */
function normals(count: number, seed: number, scale = 1): number[] {
  const random = new RandomStream(streamState(seed, 0));
  return Array.from({ length: count }, () => scale * random.normal());
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** A fused node: its operator, attributes, and the shapes of input, weight and output. */
interface FusedCase {
  readonly label: string;
  readonly op: '_FusedMatMul' | '_FusedConv2D' | 'FusedDepthwiseConv2dNative';
  /** Shape of the input `x` (the differentiated operand). */
  readonly x: readonly number[];
  /** Shape of the weight (`b` of the matmul, the filter of a convolution). */
  readonly weight: readonly number[];
  /** Output channels: the length of the bias and of the prelu weights. */
  readonly channels: number;
  readonly bias: boolean;
  readonly attributes: Record<string, unknown>;
  /** Kernels the gradient needs beyond those every backend has. */
  readonly kernels: readonly string[];
}

const conv = (strides: number, padding: 'SAME' | 'VALID') => ({
  strides: attr.ints([1, strides, strides, 1]),
  padding: attr.string(padding),
  data_format: attr.string('NHWC'),
  dilations: attr.ints([1, 1, 1, 1]),
});

const CASES: readonly FusedCase[] = [
  ...[
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ].flatMap(([ta, tb]): FusedCase[] =>
    [true, false].map((bias) => ({
      label:
        '_FusedMatMul' +
        `${ta ? ' transpose_a' : ''}${tb ? ' transpose_b' : ''}${bias ? '' : ' without bias'}`,
      op: '_FusedMatMul',
      x: ta ? [4, 3] : [3, 4],
      weight: tb ? [5, 4] : [4, 5],
      channels: 5,
      bias,
      attributes: { transpose_a: attr.bool(ta), transpose_b: attr.bool(tb) },
      kernels: ['BatchMatMul'],
    })),
  ),
  {
    label: '_FusedConv2D 3x3 SAME stride 1',
    op: '_FusedConv2D',
    x: [2, 4, 4, 2],
    weight: [3, 3, 2, 3],
    channels: 3,
    bias: true,
    attributes: conv(1, 'SAME'),
    kernels: ['Conv2D', 'Conv2DBackpropInput'],
  },
  {
    label: '_FusedConv2D 2x2 VALID stride 2',
    op: '_FusedConv2D',
    x: [2, 5, 5, 2],
    weight: [2, 2, 2, 3],
    channels: 3,
    bias: true,
    attributes: conv(2, 'VALID'),
    kernels: ['Conv2D', 'Conv2DBackpropInput'],
  },
  {
    label: 'FusedDepthwiseConv2dNative 3x3 SAME stride 1, multiplier 2',
    op: 'FusedDepthwiseConv2dNative',
    x: [2, 4, 4, 2],
    weight: [3, 3, 2, 2],
    channels: 4,
    bias: true,
    attributes: conv(1, 'SAME'),
    kernels: ['DepthwiseConv2dNative', 'DepthwiseConv2dNativeBackpropInput'],
  },
];

/**
 * `x -> fused(x, weight, bias) -> y` as a graph model, with the activation fused (Tanh split
 * out as the adapter does), and the same graph without activation, which gives the
 * pre-activation values.
 */
function fusedModels(
  c: FusedCase,
  activation: string,
  seed: number,
): {
  fused: AnyGraphModel;
  preActivation: AnyGraphModel;
  reach: number;
  /** The graph as the converter wrote it, without the adapter's splits. */
  unsplit: () => AnyGraphModel;
} {
  // Weights scaled so that pre-activations spread over about [-7, 7]: relu6 sees both kinks.
  const fanIn = c.op === '_FusedMatMul' ? 4 : size(c.weight.slice(0, 3));
  const weight = normals(size(c.weight), seed, 3.5 / Math.sqrt(fanIn));
  const bias = normals(c.channels, seed + 1, 0.5);
  const alpha = normals(c.channels, seed + 2, 0.2).map((a) => a + 0.3);
  const build = (ops: string[], split = true) => {
    const g = new GraphBuilder();
    const x = g.placeholder('x', c.x);
    const args = [
      ...(c.bias ? [g.constant('bias', [c.channels], bias)] : []),
      ...(ops.includes('Prelu') ? [g.constant('alpha', [c.channels], alpha)] : []),
    ];
    const w = g.constant('weight', c.weight, weight);
    const y = g.op('fused', c.op, [x, w, ...args], {
      ...c.attributes,
      fused_ops: attr.strings(ops),
      num_args: attr.int(args.length),
      epsilon: attr.number(0),
      leakyrelu_alpha: attr.number(0.2),
    });
    g.op('Identity', 'Identity', [y]);
    // As fromGraphModel() runs it: with the fused nodes tfjs mishandles split.
    const artifacts = g.artifacts();
    return tf.loadGraphModelSync(split ? splitFusedActivations(artifacts).artifacts : artifacts);
  };
  const head = c.bias ? ['BiasAdd'] : [];
  const ops = activation === 'linear' ? head : [...head, activation];
  // How far one step of one input moves a pre-activation, at most.
  const reach = STEP * Math.max(...weight.map(Math.abs));
  return { fused: build(ops), preActivation: build(head), reach, unsplit: () => build(ops, false) };
}

/** The graph's output `y` for an input `x` of `shape`, flat. */
const run = (model: AnyGraphModel, x: Float32Array, shape: readonly number[]): Float32Array =>
  tf.tidy(() =>
    Float32Array.from(
      (model.execute(tf.tensor(x, [...shape]), 'Identity') as tf.Tensor).dataSync(),
    ),
  );

/**
 * A start point where the pre-activations lie on both sides of every kink and at least `margin`
 * from each; the first such draw of seeds `seed`, `seed + 1000`, ...
 */
function startPoint(
  preActivation: AnyGraphModel,
  shape: readonly number[],
  kinks: readonly number[],
  margin: number,
  seed: number,
): Float32Array {
  for (let attempt = 0; attempt < 200; attempt++) {
    const x = Float32Array.from(normals(size(shape), seed + 1000 * attempt));
    const p = run(preActivation, x, shape);
    const clear = kinks.every((k) => p.every((v) => Math.abs(v - k) > margin));
    const sides = kinks.every((k) => p.some((v) => v < k) && p.some((v) => v > k));
    if (clear && sides) return x;
  }
  throw new Error('no start point clear of the kinks in 200 draws; change the case');
}

/**
 * The largest difference between `tf.grad` of `L = sum(w * y)` through `gradientModel` and the
 * central differences of L through `model` (the same graph unless a test says otherwise),
 * relative to the largest difference.
 */
function compare(
  model: AnyGraphModel,
  x0: Float32Array,
  shape: readonly number[],
  seed: number,
  gradientModel = model,
): { scale: number; relative: number } {
  const outSize = run(model, x0, shape).length;
  const w = normals(outSize, seed + 5);
  const loss = (x: Float32Array) => run(model, x, shape).reduce((sum, y, k) => sum + w[k] * y, 0);
  const exact = tf.tidy(() => {
    const weights = tf.tensor(w, [outSize]);
    const f = (x: tf.Tensor) =>
      tf.sum(tf.mul(tf.reshape(gradientModel.execute(x, 'Identity') as tf.Tensor, [-1]), weights));
    return tf
      .grad(f)(tf.tensor(x0, [...shape]))
      .dataSync()
      .slice();
  });
  let scale = 0;
  let worst = 0;
  for (let k = 0; k < x0.length; k++) {
    const plus = Float32Array.from(x0);
    const minus = Float32Array.from(x0);
    plus[k] += STEP;
    minus[k] -= STEP;
    const numeric = (loss(plus) - loss(minus)) / (plus[k] - minus[k]);
    scale = Math.max(scale, Math.abs(numeric));
    worst = Math.max(worst, Math.abs(exact[k] - numeric));
  }
  return { scale, relative: worst / scale };
}

const TABLE = CASES.flatMap((c, i) =>
  ACTIVATIONS.filter((a) => c.bias || a.name === 'linear').map((a, j) => ({
    label: c.label,
    activation: a.name,
    kinks: a.kinks,
    c,
    seed: 100 * i + 10 * j + 1,
  })),
);

/** Cases each backend cannot differentiate for want of a kernel (see `FusedCase.kernels`). */
const MISSING: Readonly<Record<string, readonly string[]>> = {
  cpu: [],
  wasm: ['FusedDepthwiseConv2dNative 3x3 SAME stride 1, multiplier 2'],
};

describe.each(['cpu', 'wasm'])('fused kernels on %s', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  const runs = (c: FusedCase) => c.kernels.every((k) => tf.getKernel(k, backend) !== undefined);

  it('lacks kernels for the cases listed, and only those', () => {
    expect(CASES.filter((c) => !runs(c)).map((c) => c.label)).toEqual(MISSING[backend]);
  });

  it.each(TABLE.filter((t) => runs(t.c)))(
    '$label with $activation matches finite differences',
    ({ c, activation, kinks, seed }) => {
      const { fused, preActivation, reach } = fusedModels(c, activation, seed);
      const x0 = startPoint(preActivation, c.x, kinks, 2 * reach, seed);
      const { scale, relative } = compare(fused, x0, c.x, seed);
      expect(scale).toBeGreaterThan(0);
      expect(relative).toBeLessThan(TOLERANCE);
      fused.dispose();
      preActivation.dispose();
    },
  );
});

describe('the finite-difference check', () => {
  it('tells the gradient of one activation from that of another', async () => {
    await useBackend('cpu');
    const c = CASES[0];
    const relu = fusedModels(c, 'Relu', 7);
    const leaky = fusedModels(c, 'LeakyRelu', 7);
    const x0 = startPoint(relu.preActivation, c.x, [0], 2 * relu.reach, 7);

    expect(compare(leaky.fused, x0, c.x, 7).relative).toBeLessThan(TOLERANCE);
    // LeakyRelu differs from Relu by 0.2 times the pre-activation where it is negative.
    expect(compare(leaky.fused, x0, c.x, 7, relu.fused).relative).toBeGreaterThan(10 * TOLERANCE);
    for (const m of [relu.fused, relu.preActivation, leaky.fused, leaky.preActivation]) {
      m.dispose();
    }
  });
});

/**
 * What tfjs 4.22 does with the fused nodes that `splitFusedActivations()` splits, and that the
 * split graph is right. Each test fails once tfjs fixes its bug, so that the split can go.
 */
describe('splitFusedActivations() works around tfjs', () => {
  const byLabel = (label: string) => CASES.find((c) => c.label === label) as FusedCase;
  const difference = (a: ArrayLike<number>, b: ArrayLike<number>) =>
    Array.from(a).reduce((worst, v, k) => Math.max(worst, Math.abs(v - b[k])), 0);

  it('splits each kind of node it must, and says why', () => {
    const kinds = [
      [byLabel('_FusedMatMul'), 'Tanh', /cannot run a fused Tanh/],
      [byLabel('_FusedMatMul transpose_b'), 'Relu', /transposed fused matmul/],
      [byLabel('_FusedConv2D 3x3 SAME stride 1'), 'linear', /Conv2DBackpropFilter/],
      [CASES[CASES.length - 1], 'LeakyRelu', /drops the alpha of a LeakyRelu/],
    ] as const;
    for (const [c, activation, reason] of kinds) {
      const ops = activation === 'linear' ? ['BiasAdd'] : ['BiasAdd', activation];
      const g = new GraphBuilder();
      const args = [g.constant('bias', [c.channels], new Array<number>(c.channels).fill(0))];
      g.op('fused', c.op, [g.placeholder('x', c.x), g.constant('w', c.weight, []), ...args], {
        ...c.attributes,
        fused_ops: attr.strings(ops),
        num_args: attr.int(1),
      });
      const { split, reasons } = splitFusedActivations(g.artifacts());
      expect(split).toEqual(['fused']);
      expect(reasons.join('; ')).toMatch(reason);
    }
    // A fused matmul with bias and relu, untransposed, runs right as it is.
    const c = byLabel('_FusedMatMul');
    const g = new GraphBuilder();
    g.op('fused', c.op, [g.placeholder('x', c.x), g.constant('w', c.weight, []), 'b'], {
      ...c.attributes,
      fused_ops: attr.strings(['BiasAdd', 'Relu']),
      num_args: attr.int(1),
    });
    expect(splitFusedActivations(g.artifacts()).split).toEqual([]);
  });

  it('a bias fused into a transposed matmul is added wrongly on wasm', async () => {
    const c = byLabel('_FusedMatMul transpose_a transpose_b');
    const models = fusedModels(c, 'linear', 3);
    const x = Float32Array.from(normals(size(c.x), 4));
    await useBackend('cpu');
    const expected = run(models.fused, x, c.x);
    await useBackend('wasm');
    const unsplit = models.unsplit();
    expect(difference(run(unsplit, x, c.x), expected)).toBeGreaterThan(0.05);
    expect(difference(run(models.fused, x, c.x), expected)).toBeLessThan(1e-5);
    for (const m of [unsplit, models.fused, models.preActivation]) m.dispose();
  });

  it('a LeakyRelu fused into a depthwise convolution gives NaN', async () => {
    await useBackend('cpu');
    const c = CASES[CASES.length - 1];
    const models = fusedModels(c, 'LeakyRelu', 5);
    const x = Float32Array.from(normals(size(c.x), 6));
    const unsplit = models.unsplit();
    expect(run(unsplit, x, c.x).some(Number.isNaN)).toBe(true);
    const p = run(models.preActivation, x, c.x);
    const y = run(models.fused, x, c.x);
    expect(
      difference(
        y,
        p.map((v) => (v > 0 ? v : 0.2 * v)),
      ),
    ).toBeLessThan(1e-5);
    for (const m of [unsplit, models.fused, models.preActivation]) m.dispose();
  });

  it('a fused convolution without activation has no gradient on wasm', async () => {
    await useBackend('wasm');
    const c = byLabel('_FusedConv2D 3x3 SAME stride 1');
    const models = fusedModels(c, 'linear', 9);
    const unsplit = models.unsplit();
    const x = tf.tensor(normals(size(c.x), 10), [...c.x]);
    const gradient = (model: AnyGraphModel) =>
      tf.tidy(() =>
        tf.grad((t: tf.Tensor) => tf.sum(model.execute(t, 'Identity') as tf.Tensor))(x),
      );
    expect(() => gradient(unsplit)).toThrow(/Conv2DBackpropFilter/);
    expect(gradient(models.fused).shape).toEqual(c.x);
    x.dispose();
    for (const m of [unsplit, models.fused, models.preActivation]) m.dispose();
  });
});
