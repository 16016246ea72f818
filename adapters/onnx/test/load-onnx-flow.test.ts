/**
 * `loadOnnxFlow()` on bad input: every case ends in a clear error (or a logged fallback), and
 * none crashes the process or hangs.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from '@latent-langevin/core';
import { OnnxAutodiffError, OnnxFlowError, decodeModel, loadOnnxFlow } from '@latent-langevin/onnx';
import { loadOnnxFlow as loadWebOnnxFlow } from '@latent-langevin/onnx/web';
import { describe, expect, it } from 'vitest';
import { makeTensor, onnx } from '../src/autodiff/proto.js';

const MOONS = fileURLToPath(
  new URL('../../../fixtures/two-moons-realnvp/model.onnx', import.meta.url),
);
const WITH_GRADIENTS = fileURLToPath(
  new URL('../../../fixtures/two-moons-realnvp/model-with-gradients.onnx', import.meta.url),
);
const bytes = new Uint8Array(readFileSync(MOONS));

async function failure(promise: Promise<unknown>): Promise<OnnxFlowError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return error as OnnxFlowError;
}

/**
 * A model `z [batch, 2] -> (x [batch, 2], logdet [batch])` from its nodes, at `opset` (default
 * 17); `axes` ([1], int64) is an initializer, for ReduceSum.
 */
function flowModel(spec: {
  nodes: onnx.INodeProto[];
  initializers?: onnx.ITensorProto[];
  opset?: number;
}): Uint8Array {
  const tensor = (name: string, dims: (number | string)[]) =>
    onnx.ValueInfoProto.create({
      name,
      type: {
        tensorType: {
          elemType: onnx.TensorProto.DataType.FLOAT,
          shape: {
            dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
          },
        },
      },
    });
  const model = onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: '', version: spec.opset ?? 17 }],
    graph: {
      name: 'flow',
      input: [tensor('z', ['batch', 2])],
      output: [tensor('x', ['batch', 2]), tensor('logdet', ['batch'])],
      initializer: [
        makeTensor([1], onnx.TensorProto.DataType.INT64, [1], 'axes'),
        ...(spec.initializers ?? []),
      ],
      node: spec.nodes,
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** A one-node model `y = op(z)`, `z` `[batch, 2]`, with `logdet = ReduceSum(z)`. */
function oneOperatorModel(op: string): Uint8Array {
  return flowModel({
    nodes: [
      { opType: op, input: ['z'], output: ['x'] },
      {
        opType: 'ReduceSum',
        input: ['z', 'axes'],
        output: ['logdet'],
        attribute: [{ name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 0 }],
      },
    ],
  });
}

describe('loadOnnxFlow() with bad input', () => {
  it('says a truncated file is truncated or not ONNX', async () => {
    const error = await failure(loadOnnxFlow(bytes.subarray(0, 200)));
    expect(error.code).toBe('INVALID_MODEL');
    expect(error.message).toMatch(/truncated or is not ONNX/);
  });

  it('says a file that is not ONNX is not ONNX', async () => {
    const text = new TextEncoder().encode('{"this": "is JSON, not a model"}');
    const error = await failure(loadOnnxFlow(text));
    expect(error.code).toBe('INVALID_MODEL');
    expect(error.message).toMatch(/not an ONNX model|not ONNX/);
  });

  it('says which file it could not read', async () => {
    const error = await failure(loadOnnxFlow('/nonexistent/flow.onnx'));
    expect(error.message).toMatch(/cannot read the model from \/nonexistent\/flow\.onnx/);
  });

  it('asks for the input name when the model has several inputs', async () => {
    const error = await failure(loadOnnxFlow(WITH_GRADIENTS));
    expect(error.code).toBe('AMBIGUOUS_NAME');
    expect(error.message).toMatch(/3 inputs \[z: \[batch, 2\], cotangent_x/);
    expect(error.message).toMatch(/Pass input:/);
  });

  it('lists the outputs there are when an output name does not exist', async () => {
    const error = await failure(loadOnnxFlow(MOONS, { outputs: { logDet: 'ldj' } }));
    expect(error.code).toBe('NAME_NOT_FOUND');
    expect(error.message).toMatch(/output 'ldj' not found; the model has outputs \[x: .*logdet/);
  });

  it('names an operator without a rule, or falls back to finite differences', async () => {
    const model = oneOperatorModel('LpNormalization');
    const error = await failure(loadOnnxFlow(model, { gradient: 'autodiff' }));
    expect(error.code).toBe('UNSUPPORTED_OPERATOR');
    expect(error.message).toMatch(/operator\(s\) LpNormalization/);

    const warnings: string[] = [];
    const flow = await loadOnnxFlow(model, { logger: { warn: (m) => warnings.push(m) } });
    expect(flow.gradientSource).toBe('finite-difference');
    expect(flow.unsupportedOperators).toEqual(['LpNormalization']);
    expect(warnings.join('\n')).toMatch(/LpNormalization.*finite differences/);
    await flow.dispose();
  });

  it('reports a graph that the CPU rejects as INVALID_MODEL, with its message', async () => {
    const model = oneOperatorModel('NoSuchOperator');
    for (const options of [{}, { gradient: 'finite-difference' as const }]) {
      const error = await failure(loadOnnxFlow(model, options));
      expect(error).toBeInstanceOf(OnnxFlowError);
      expect(error.code).toBe('INVALID_MODEL');
      expect(error.message).toMatch(
        /cannot load the model on 'cpu': This is an invalid model.*NoSuchOperator.*check_model/,
      );
      expect(error.message).not.toMatch(/no execution provider/);
      expect(error.cause).toBeInstanceOf(Error);
      expect((error.cause as Error).message).toMatch(/No Op registered for NoSuchOperator/);
    }

    // The same on wasm in the web entry.
    const web = await failure(loadWebOnnxFlow(model, { executionProviders: ['wasm'] }));
    expect(web.code).toBe('INVALID_MODEL');
    expect(web.message).toMatch(/cannot load the model on 'wasm': .*NoSuchOperator/);

    // The same when CPU is the fallback of an unavailable CUDA provider.
    const warnings: string[] = [];
    const error = await failure(
      loadOnnxFlow(model, {
        executionProvider: 'cuda',
        fallbackToCpu: true,
        logger: { warn: (m) => warnings.push(m) },
      }),
    );
    expect(error.code).toBe('INVALID_MODEL');
    expect(warnings.join('\n')).toMatch(/'cuda' is unavailable.*falling back to 'cpu'/);
  });

  // Exp, with ReduceSum's axes as an attribute (an input from opset 13).
  const opset12 = flowModel({
    opset: 12,
    nodes: [
      { opType: 'Exp', input: ['z'], output: ['x'] },
      {
        opType: 'ReduceSum',
        input: ['z'],
        output: ['logdet'],
        attribute: [
          { name: 'axes', type: onnx.AttributeProto.AttributeType.INTS, ints: [1] },
          { name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 0 },
        ],
      },
    ],
  });

  it('falls back to finite differences at opset 12 under auto, asking for opset 13', async () => {
    const warnings: string[] = [];
    const flow = await loadOnnxFlow(opset12, { logger: { warn: (m) => warnings.push(m) } });
    expect(flow.opset).toBe(12);
    expect(flow.gradientSource).toBe('finite-difference');
    expect(flow.unsupportedOperators).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^loadOnnxFlow\(\): the model imports default-domain opset 12, .* needs 13 or above/,
    );
    expect(warnings[0]).toMatch(/using finite differences.*Re-export it at opset 13 or above/);
    expect(warnings[0]).toMatch(/opset_version=17/);

    // d x / d z = exp(z) on the diagonal, d logdet / d z = 1.
    const z = Float32Array.of(0.5, -1);
    const vjp = await flow.vjp(z, 1, { x: Float32Array.of(1, 2), logDet: Float32Array.of(1) });
    expect(vjp.z[0]).toBeCloseTo(Math.exp(0.5) + 1, 3);
    expect(vjp.z[1]).toBeCloseTo(2 * Math.exp(-1) + 1, 3);
    await flow.dispose();
  });

  it("refuses an opset 12 model under gradient: 'autodiff' with an OnnxFlowError", async () => {
    const error = await failure(loadOnnxFlow(opset12, { gradient: 'autodiff' }));
    expect(error).toBeInstanceOf(OnnxFlowError);
    expect(error.code).toBe('UNSUPPORTED_MODEL');
    expect(error.message).toMatch(/^loadOnnxFlow\(\): the model imports default-domain opset 12/);
    expect(error.message).toMatch(/opset_version=17.*or pass gradient: 'auto' or 'finite-diff/);
    expect(error.message).not.toMatch(/unsupportedOperators\(\)/);
    expect(error.cause).toBeInstanceOf(OnnxAutodiffError);
    expect((error.cause as OnnxAutodiffError).code).toBe('UNSUPPORTED_OPSET');
  });

  // x = z @ DequantizeLinear(w8, scale): no rank inference for DequantizeLinear (off the path),
  // so the MatMul rule fails when it needs the rank of the weight.
  const opaqueWeight = flowModel({
    nodes: [
      { opType: 'DequantizeLinear', input: ['w8', 'scale'], output: ['w'] },
      { opType: 'MatMul', input: ['z', 'w'], output: ['x'], name: 'matmul' },
      {
        opType: 'ReduceSum',
        input: ['z', 'axes'],
        output: ['logdet'],
        attribute: [{ name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 0 }],
      },
    ],
    initializers: [
      makeTensor([2, -1, 3, 4], onnx.TensorProto.DataType.INT8, [2, 2], 'w8'),
      makeTensor([0.5], onnx.TensorProto.DataType.FLOAT, [], 'scale'),
    ],
  });

  it('names the operator whose rule failed when building the VJP falls back', async () => {
    const warnings: string[] = [];
    const flow = await loadOnnxFlow(opaqueWeight, { logger: { warn: (m) => warnings.push(m) } });
    expect(flow.gradientSource).toBe('finite-difference');
    expect(flow.unsupportedOperators).toEqual([
      "MatMul (the rank of tensor 'w' could not be inferred, and a gradient rule needs it)",
    ]);
    expect(warnings.join('\n')).toMatch(/MatMul rule failed at node 'matmul'.*finite differences/);
    await flow.dispose();

    const error = await failure(loadOnnxFlow(opaqueWeight, { gradient: 'autodiff' }));
    expect(error).toBeInstanceOf(OnnxFlowError);
    expect(error.code).toBe('UNSUPPORTED_MODEL');
    expect((error.cause as OnnxAutodiffError).code).toBe('RANK_INFERENCE');
  });

  it('rejects a latent batch of the wrong length', async () => {
    const flow = await loadOnnxFlow(MOONS);
    await expect(flow.forward(new Float32Array(5), 3)).rejects.toThrow(InvalidArgumentError);
    await expect(flow.vjp(new Float32Array(6), 3, {})).resolves.toBeDefined();
    await expect(flow.vjp(new Float32Array(6), 3, { x: new Float32Array(2) })).rejects.toThrow(
      /cotangent\.x must have length 6/,
    );
    await flow.dispose();
    await expect(flow.forward(new Float32Array(2), 1)).rejects.toThrow(/was disposed/);
  });

  it('explains how to get the CUDA provider when it is unavailable, or falls back', async () => {
    const error = await failure(loadOnnxFlow(MOONS, { executionProvider: 'cuda' }));
    expect(error.code).toBe('PROVIDER_UNAVAILABLE');
    expect(error.message).toMatch(/no execution provider could run the model:\n {2}- cuda: /);
    expect(error.message).toMatch(/CUDA 12 and cuDNN runtime libraries/);
    expect(error.message).toMatch(/installed with 'skip' or offline/);
    expect(error.message).toMatch(/network access and ONNXRUNTIME_NODE_INSTALL=cuda12/);
    expect(error.message).not.toMatch(/downloads no GPU libraries/);
    expect(error.cause).toBeInstanceOf(Error);

    const warnings: string[] = [];
    const flow = await loadOnnxFlow(MOONS, {
      executionProvider: 'cuda',
      fallbackToCpu: true,
      logger: { warn: (m) => warnings.push(m) },
    });
    expect(flow.executionProvider).toBe('cpu');
    expect(warnings.join('\n')).toMatch(/'cuda' is unavailable.*falling back to 'cpu'/);
    await flow.dispose();
  });

  it('falls back from WebGPU to wasm in the web entry where there is no WebGPU', async () => {
    const warnings: string[] = [];
    const flow = await loadWebOnnxFlow(bytes, { logger: { warn: (m) => warnings.push(m) } });
    expect(flow.executionProvider).toBe('wasm');
    expect(warnings.join('\n')).toMatch(/'webgpu' is unavailable/);
    await flow.dispose();
    await expect(loadWebOnnxFlow(bytes, { executionProviders: ['webgpu'] })).rejects.toThrow(
      /'webgpu' is unavailable/,
    );
  });
});

describe('loadOnnxFlow() on a model with a fixed batch', () => {
  it('splits and pads batches to the model batch and gives the dynamic model rows', async () => {
    const model = decodeModel(bytes, 'test', 'two-moons');
    const graph = model.graph as InstanceType<typeof onnx.GraphProto>;
    for (const value of [...(graph.input ?? []), ...(graph.output ?? [])]) {
      const dims = value.type?.tensorType?.shape?.dim;
      if (dims && dims.length > 0)
        dims[0] = onnx.TensorShapeProto.Dimension.create({ dimValue: 3 });
    }
    const fixed = await loadOnnxFlow(onnx.ModelProto.encode(model).finish());
    const dynamic = await loadOnnxFlow(MOONS);
    expect(fixed.io.fixedBatch).toBe(3);
    const z = Float32Array.from({ length: 14 }, (_, k) => Math.sin(k));
    const a = await fixed.vjp(z, 7, { logDet: new Float32Array(7).fill(1) });
    const b = await dynamic.vjp(z, 7, { logDet: new Float32Array(7).fill(1) });
    for (let k = 0; k < 14; k++) expect(a.x[k]).toBeCloseTo(b.x[k], 5);
    for (let k = 0; k < 14; k++) expect(a.z[k]).toBeCloseTo(b.z[k], 4);
    await fixed.dispose();
    await dynamic.dispose();
  });
});
