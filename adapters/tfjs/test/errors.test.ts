/**
 * What the adapter does with models and inputs it cannot use as they are: graphs that only
 * `executeAsync` runs, names that are not there, wrong shapes, kernels without a gradient, fused
 * activations tfjs cannot run, non-finite outputs, batching and disposal.
 */
import './helpers/quiet-greeting.js';
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, sample, tempered } from '@latent-langevin/core';
import {
  type AnyGraphModel,
  TfjsFlowError,
  fromFunction,
  fromGraphModel,
  fromLayersModel,
  splitFusedActivations,
  unsupportedFusedActivations,
  useBackend,
} from '@latent-langevin/tfjs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { GraphBuilder, attr } from './helpers/graph-builder.js';
import {
  FIXTURES,
  loadTwoMoonsGraphModel,
  maxRelative,
  reference,
  twoMoonsLayersModel,
} from './helpers/two-moons.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/** The error `fn` throws (synchronously or not), checked to be a `TfjsFlowError` of `code`. */
async function thrown(fn: () => unknown, code: string): Promise<Error> {
  let error: unknown;
  try {
    await fn();
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(Error);
  expect((error as { code?: string }).code).toBe(code);
  return error as Error;
}

const FLOAT = { type: 'DT_FLOAT' };

/**
 * `z -> Switch(z, true) -> Merge -> (x = Identity, logdet = Sum)`: a `tf.cond` as TensorFlow 1
 * graphs and tfjs-converter express it, which only `executeAsync` runs.
 */
function controlFlowModel(): AnyGraphModel {
  const weightData = new ArrayBuffer(5);
  new Uint8Array(weightData)[0] = 1;
  new DataView(weightData).setInt32(1, 1, true);
  const constant = (name: string, dtype: string, dims: number[]) => ({
    name,
    op: 'Const',
    attr: {
      value: { tensor: { dtype, tensorShape: { dim: dims.map((d) => ({ size: String(d) })) } } },
      dtype: { type: dtype },
    },
  });
  const node = [
    {
      name: 'z',
      op: 'Placeholder',
      attr: { dtype: FLOAT, shape: { shape: { dim: [{ size: '-1' }, { size: '2' }] } } },
    },
    constant('pred', 'DT_BOOL', []),
    constant('axis', 'DT_INT32', [1]),
    { name: 'cond/Switch', op: 'Switch', input: ['z', 'pred'], attr: { T: FLOAT } },
    {
      name: 'cond/Merge',
      op: 'Merge',
      input: ['cond/Switch:1', 'cond/Switch'],
      attr: { T: FLOAT, N: { i: '2' } },
    },
    { name: 'x', op: 'Identity', input: ['cond/Merge'], attr: { T: FLOAT } },
    {
      name: 'logdet',
      op: 'Sum',
      input: ['cond/Merge', 'axis'],
      attr: { T: FLOAT, Tidx: { type: 'DT_INT32' }, keep_dims: { b: false } },
    },
  ];
  return tf.loadGraphModelSync({
    modelTopology: { node, library: {}, versions: {} },
    weightSpecs: [
      { name: 'pred', shape: [], dtype: 'bool' },
      { name: 'axis', shape: [1], dtype: 'int32' },
    ],
    weightData,
    format: 'graph-model',
  });
}

/** The fixture's artifacts with `edit` applied to its model.json first. */
function editedModel(
  file: string,
  edit: (json: tf.io.ModelJSON) => tf.io.ModelJSON,
): AnyGraphModel {
  const dir = `${FIXTURES}two-moons-tfjs/`;
  const json = edit(JSON.parse(readFileSync(`${dir}${file}`, 'utf8')) as tf.io.ModelJSON);
  const bin = readFileSync(`${dir}weights.bin`);
  return tf.loadGraphModelSync({
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
    weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
    ...(json.signature === undefined ? {} : { signature: json.signature }),
    format: 'graph-model',
  });
}

/** A graph model of the fixture whose latent input requires a batch of exactly `rows`. */
function fixedBatchModel(rows: number): AnyGraphModel {
  return editedModel('model.json', (json) => {
    const topology = json.modelTopology as { node: { name: string; attr: object }[] };
    const z = topology.node.find((n) => n.name === 'z')!;
    z.attr = { ...z.attr, shape: { shape: { dim: [{ size: String(rows) }, { size: '2' }] } } };
    const signature = json.signature as { inputs: { z: { tensorShape: object } } };
    signature.inputs.z.tensorShape = { dim: [{ size: String(rows) }, { size: '2' }] };
    return json;
  });
}

const z = Float32Array.from(reference.z);
const n = reference.n;

describe('fromGraphModel() on graphs it cannot differentiate', () => {
  it('rejects a graph that only executeAsync runs and points to finite differences', async () => {
    const error = await thrown(() => fromGraphModel(controlFlowModel()), 'ASYNC_ONLY_GRAPH');
    expect(error.message).toContain('fromGraphModel()');
    expect(error.message).toContain('executeAsync');
    expect(error.message).toContain("'Merge'");
    expect(error.message).toContain('@latent-langevin/finite-difference');
  });

  it('splits fused Tanh activations out, and reports which through logger.info', async () => {
    const json = JSON.parse(
      readFileSync(`${FIXTURES}two-moons-tfjs/model-fused-tanh.json`, 'utf8'),
    ) as tf.io.ModelJSON;
    const found = unsupportedFusedActivations(json.modelTopology);
    expect(found).toHaveLength(24);
    expect(found[0]).toEqual({
      node: 'real_nvp/coupling_0/l1/Tanh',
      op: '_FusedMatMul',
      activation: 'Tanh',
      splittable: true,
    });
    const { split } = splitFusedActivations({ modelTopology: json.modelTopology });
    expect(split).toEqual(found.map((f) => f.node));

    const infos: string[] = [];
    const warnings: string[] = [];
    const start = tf.memory().numTensors;
    const flow = fromGraphModel(loadTwoMoonsGraphModel('model-fused-tanh.json'), {
      logger: { info: (m) => infos.push(m), warn: (m) => warnings.push(m) },
    });
    expect(flow.splitActivations).toEqual(split);
    expect(infos).toEqual([
      'fromGraphModel(): split 24 fused node(s) into the nodes they were fused from, which gives ' +
        'the same numbers: tfjs cannot run a fused Tanh.',
    ]);
    // Nothing asks the user to act: the split model computes the same numbers.
    expect(warnings).toEqual([]);
    expect(flow.operators).toContain('_FusedMatMul');
    // Disposing the flow disposes the model it was given and the one rebuilt from it.
    await flow.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it('sends nothing to the logger for a model it runs as it is', async () => {
    const messages: string[] = [];
    const log = (m: string) => messages.push(m);
    const flow = fromGraphModel(loadTwoMoonsGraphModel(), { logger: { info: log, warn: log } });
    await flow.vjp(z, n, { logDet: new Float32Array(n).fill(1) });
    expect(flow.splitActivations).toEqual([]);
    expect(messages).toEqual([]);
    await flow.dispose();
  });

  it('rejects a logger without an info function', async () => {
    const logger = { warn: () => undefined } as unknown as { info(m: string): void };
    for (const create of [
      () => fromGraphModel(loadTwoMoonsGraphModel(), { logger }),
      () => fromLayersModel(twoMoonsLayersModel(), { logger }),
      () => fromFunction((t) => ({ x: t, logDet: tf.sum(t, 1) }), { latentDim: 2, logger }),
    ]) {
      expect(create).toThrow(InvalidArgumentError);
      expect(create).toThrow(/options.logger must have an info\(message\) function/);
    }
  });

  it('names a fused activation it cannot split and says how to convert the model', async () => {
    const gelu = btoa('GeluExact');
    const tanh = btoa('Tanh');
    const model = editedModel('model-fused-tanh.json', (json) =>
      JSON.parse(JSON.stringify(json).replaceAll(`"${tanh}"`, `"${gelu}"`)),
    );
    const error = await thrown(() => fromGraphModel(model), 'UNSUPPORTED_OPERATOR');
    expect(error.message).toContain("GeluExact of _FusedMatMul node 'real_nvp/coupling_0/l1/Tanh'");
    expect(error.message).toContain('TF_ENABLE_ONEDNN_OPTS=0');
  });
});

describe('names and shapes', () => {
  it('lists the inputs there are when the input name is wrong', async () => {
    const error = await thrown(
      () => fromGraphModel(loadTwoMoonsGraphModel(), { input: 'latent' }),
      'NAME_NOT_FOUND',
    );
    expect(error.message).toBe(
      "fromGraphModel(): input 'latent' not found; the model has inputs [z = z: [?, 2]]. Pass " +
        'input: with one of these names.',
    );
  });

  it('lists the outputs there are when an output name is wrong', async () => {
    const error = await thrown(
      () => fromGraphModel(loadTwoMoonsGraphModel(), { outputs: { logDet: 'ldj' } }),
      'NAME_NOT_FOUND',
    );
    expect(error.message).toContain("output 'ldj' not found");
    expect(error.message).toContain('[x = Identity: [?, 2], logdet = Identity_1: [?]]');
    expect(error.message).toContain("Pass outputs: { logDet: '<one of these names>' }");
    const layers = await thrown(
      () => fromLayersModel(twoMoonsLayersModel(), { outputs: { x: 'y' } }),
      'NAME_NOT_FOUND',
    );
    expect(layers.message).toContain('[x: [?, 2], logdet: [?]]');
  });

  it('accepts signature keys, node names and tensor names alike', async () => {
    for (const outputs of [
      { x: 'x', logDet: 'logdet' },
      { x: 'Identity', logDet: 'Identity_1' },
      { x: 'Identity:0', logDet: 'Identity_1:0' },
    ]) {
      const flow = fromGraphModel(loadTwoMoonsGraphModel(), { input: 'z:0', outputs });
      expect(flow.io).toEqual({
        input: 'z',
        x: 'Identity',
        logDet: 'Identity_1',
        latentShape: [2],
      });
      await flow.dispose();
    }
  });

  it('rejects a latentShape or dataShape the model contradicts', async () => {
    await thrown(
      () => fromGraphModel(loadTwoMoonsGraphModel(), { latentShape: [3] }),
      'SHAPE_MISMATCH',
    );
    await thrown(
      () => fromGraphModel(loadTwoMoonsGraphModel(), { dataShape: [3] }),
      'SHAPE_MISMATCH',
    );
  });

  it('rejects functions whose outputs have the wrong shapes, saying what it expected', async () => {
    const wide = await thrown(
      () =>
        fromFunction((t) => ({ x: tf.concat([t, t], 1), logDet: tf.sum(t, 1) }), { latentDim: 2 }),
      'UNSUPPORTED_MODEL',
    );
    expect(wide.message).toContain('x has 4 (shape [4])');
    const logDet = await thrown(
      () => fromFunction((t) => ({ x: t, logDet: t as unknown as tf.Tensor1D }), { latentDim: 2 }),
      'SHAPE_MISMATCH',
    );
    expect(logDet.message).toContain('logDet has shape [1, 2] for 1 rows; expected [1] or [1, 1]');
    await thrown(
      () => fromFunction((t) => ({ x: t }) as never, { latentDim: 2 }),
      'SHAPE_MISMATCH',
    );
  });

  it('rejects malformed arguments with InvalidArgumentError', async () => {
    expect(() => fromGraphModel({} as AnyGraphModel)).toThrow(InvalidArgumentError);
    expect(() => fromFunction((t) => ({ x: t, logDet: tf.sum(t, 1) }), { latentDim: 0 })).toThrow(
      /latentDim must be an integer >= 1; received 0/,
    );
    expect(() => fromGraphModel(loadTwoMoonsGraphModel(), { maxBatch: 0.5 })).toThrow(
      /maxBatch must be an integer >= 1; received 0.5/,
    );
    const flow = fromGraphModel(loadTwoMoonsGraphModel());
    await expect(flow.forward(new Float32Array(3), 2)).rejects.toThrow(
      /TfjsFlow.forward\(\): z must be a Float32Array of length n \* d = 2 \* 2/,
    );
    await expect(flow.vjp(z, n, { logDet: new Float32Array(2) })).rejects.toThrow(
      InvalidArgumentError,
    );
    await flow.dispose();
    await thrown(() => flow.forward(z, n), 'DISPOSED');
  });
});

describe('gradients and values', () => {
  it('names a kernel that has no gradient and says how to wrap the function instead', async () => {
    const error = await thrown(
      () => fromFunction((t) => ({ x: tf.cumprod(t, 1), logDet: tf.sum(t, 1) }), { latentDim: 2 }),
      'UNSUPPORTED_OPERATOR',
    );
    expect(error.message).toContain(
      "fromFunction(): tfjs has no gradient for the kernel 'Cumprod'",
    );
    expect(error.message).toContain("tf.registerGradient({ kernelName: 'Cumprod', ... })");
    // No flow exists to wrap: the message wraps the function itself.
    expect(error.message).toContain(
      'finiteDifferenceFlow(forward, { latentDim: 2 }) from @latent-langevin/finite-difference, ' +
        'where forward = async (z, n) => ({ x, logDet }) reads x and logDet (await ' +
        'tensor.data()) from fn(t) with t = tf.tensor(z, [n, 2]).',
    );
    expect(error.message).not.toContain('flow.forward');
  });

  it('names a graph kernel that has no gradient and says how to wrap model.execute', async () => {
    const g = new GraphBuilder();
    const axis = g.constant('axis', [], [1], 'int32');
    const y = g.op('cumprod', 'Cumprod', [g.placeholder('z', [-1, 2]), axis], {
      Tidx: attr.int32,
      exclusive: attr.bool(false),
      reverse: attr.bool(false),
    });
    const axes = g.constant('axes', [1], [1], 'int32');
    g.op('x', 'Identity', [y]);
    g.op('logdet', 'Sum', [y, axes], { Tidx: attr.int32, keep_dims: attr.bool(false) });
    const error = await thrown(() => fromGraphModel(g.model()), 'UNSUPPORTED_OPERATOR');
    expect(error.message).toContain("kernel 'Cumprod'");
    expect(error.message).toContain("from model.execute({ 'z': t }, ['x', 'logdet']) with t");
    expect(error.message).not.toContain('flow.forward');
  });

  it('names a kernel the backend lacks and the backend to use', async () => {
    // tfjs-backend-wasm has no Einsum kernel.
    await useBackend('wasm');
    try {
      const error = await thrown(
        () =>
          fromFunction(
            (t) => ({ x: tf.einsum('ij,j->ij', t, tf.ones([2])), logDet: tf.sum(t, 1) }),
            {
              latentDim: 2,
            },
          ),
        'UNSUPPORTED_OPERATOR',
      );
      expect(error.message).toContain("the tfjs backend 'wasm' has no kernel 'Einsum'");
      expect(error.message).toContain("await useBackend('cpu')");
    } finally {
      await useBackend('cpu');
    }
  });

  it('returns a zero gradient for a logDet that does not depend on z (NICE)', async () => {
    const flow = fromFunction((t) => ({ x: tf.add(t, 1), logDet: tf.zeros([t.shape[0]]) }), {
      latentDim: 2,
    });
    const out = await flow.vjp(z, n, { logDet: new Float32Array(n).fill(1) });
    expect(Array.from(out.z)).toEqual(new Array(2 * n).fill(0));
  });

  it('passes non-finite outputs through, and the sampler counts them as divergences', async () => {
    // logDet = log(4 - z0^2) is NaN where |z0| > 2.
    const flow = fromFunction(
      (t) => {
        const z0 = tf.squeeze(tf.slice(t, [0, 0], [-1, 1]), [1]);
        return { x: tf.mul(t, 1), logDet: tf.log(tf.sub(4, tf.square(z0))) as tf.Tensor1D };
      },
      { latentDim: 2 },
    );
    const out = await flow.vjp(new Float32Array([0, 0, 3, 0]), 2, {
      logDet: new Float32Array([1, 1]),
    });
    expect(Number.isFinite(out.logDet[0])).toBe(true);
    expect(Number.isNaN(out.logDet[1])).toBe(true);
    expect(Number.isFinite(out.z[0]) && Number.isFinite(out.z[1])).toBe(true);
    const forward = await flow.forward(new Float32Array([0, 0, 3, 0]), 2);
    expect(Number.isNaN(forward.logDet[1])).toBe(true);
    const run = await sample(flow, {
      target: tempered({ beta: 1 }),
      chains: 16,
      warmup: 0,
      draws: 50,
      seed: 4,
      stepSize: 2,
      initialZ: new Float32Array(32),
    });
    const divergences = run.counters.sampling.divergences.reduce((s, v) => s + v, 0);
    expect(divergences).toBeGreaterThan(0);
    // No chain ever moved into the region where logDet is NaN.
    expect(run.z.every((v, k) => k % 2 === 1 || Math.abs(v) < 2)).toBe(true);
  });

  it('never hands back the caller array, even when x is the input itself', async () => {
    const flow = fromFunction((t) => ({ x: t, logDet: tf.zeros([t.shape[0]]) }), { latentDim: 2 });
    const input = Float32Array.from(z);
    const out = await flow.forward(input, n);
    expect(out.x).not.toBe(input);
    input.fill(7);
    expect(Array.from(out.x)).toEqual(Array.from(z));
  });
});

describe('batches', () => {
  it('gives the same rows whatever maxBatch splits the batch into', async () => {
    const cotangent = {
      x: Float32Array.from(reference.cotangentX),
      logDet: Float32Array.from(reference.cotangentLogDet),
    };
    const whole = fromGraphModel(loadTwoMoonsGraphModel());
    const split = fromGraphModel(loadTwoMoonsGraphModel(), { maxBatch: 2 });
    const a = await whole.vjp(z, n, cotangent);
    const b = await split.vjp(z, n, cotangent);
    expect(maxRelative(b.z, a.z)).toBeLessThan(1e-6);
    expect(maxRelative(b.x, a.x)).toBeLessThan(1e-6);
    expect(maxRelative(b.logDet, a.logDet)).toBeLessThan(1e-6);
    await whole.dispose();
    await split.dispose();
  });

  it('pads the last batch of a model with a fixed batch size', async () => {
    const fixed = fromGraphModel(fixedBatchModel(3));
    const forward = await fixed.forward(z, n);
    expect(maxRelative(forward.x, reference.x32)).toBeLessThan(1e-5);
    const out = await fixed.vjp(z, n, { logDet: new Float32Array(n).fill(1) });
    expect(out.z).toHaveLength(2 * n);
    await fixed.dispose();
  });
});

describe('useBackend()', () => {
  it('lists the registered backends when asked for another', async () => {
    const error = await thrown(() => useBackend('tpu'), 'BACKEND_UNAVAILABLE');
    expect(error.message).toMatch(
      /no tfjs backend 'tpu' is registered; the registered ones are \[.*cpu/,
    );
    expect(error).toBeInstanceOf(TfjsFlowError);
  });
});
