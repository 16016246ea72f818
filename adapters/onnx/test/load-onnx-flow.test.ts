/**
 * `loadOnnxFlow()` on bad input: every case ends in a clear error (or a logged fallback), and
 * none crashes the process or hangs.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from '@latent-langevin/core';
import type { OnnxFlowError } from '@latent-langevin/onnx';
import { decodeModel, loadOnnxFlow } from '@latent-langevin/onnx';
import { loadOnnxFlow as loadWebOnnxFlow } from '@latent-langevin/onnx/web';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';

const { onnx } = onnxProto;
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

/** A one-node model `y = op(z)`, `z` `[batch, 2]`, with `logdet = ReduceSum(z)`. */
function oneOperatorModel(op: string): Uint8Array {
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
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'one-operator',
      input: [tensor('z', ['batch', 2])],
      output: [tensor('x', ['batch', 2]), tensor('logdet', ['batch'])],
      initializer: [
        onnx.TensorProto.create({
          name: 'axes',
          dataType: onnx.TensorProto.DataType.INT64,
          dims: [1],
          int64Data: [1],
        }),
      ],
      node: [
        { opType: op, input: ['z'], output: ['x'] },
        {
          opType: 'ReduceSum',
          input: ['z', 'axes'],
          output: ['logdet'],
          attribute: [{ name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 0 }],
        },
      ],
    },
  });
  return onnx.ModelProto.encode(model).finish();
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

  it('names an operator without an autodiff rule, or falls back to finite differences', async () => {
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
    expect(error.message).toMatch(/cuda: .*ONNXRUNTIME_NODE_INSTALL=cuda12/);

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

  it('rejects an unknown execution provider and bad options', async () => {
    await expect(loadOnnxFlow(MOONS, { executionProvider: 'tpu' as 'cpu' })).rejects.toThrow(
      /executionProvider must be 'cpu', 'cuda' or 'webgpu'.*"tpu"/,
    );
    await expect(loadOnnxFlow(MOONS, { maxBatch: 0 })).rejects.toThrow(/maxBatch.*received 0/);
    await expect(loadOnnxFlow(MOONS, { gradient: 'magic' as 'auto' })).rejects.toThrow(
      /options\.gradient/,
    );
    await expect(loadOnnxFlow(MOONS, { gradient: 'exported' })).rejects.toThrow(
      /options\.exported is missing/,
    );
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
