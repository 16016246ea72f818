/**
 * Sessions are released on every path: by `dispose()`, and when loading fails after the forward
 * session was created (the data-shape probe fails, the sizes do not match, the VJP session does
 * not start). The runtime is the real onnxruntime-node, wrapped to count sessions; one test
 * makes the wrapper refuse the second session, a failure ONNX Runtime gives no easy way to cause.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { onnx } from '../src/autodiff/proto.js';
import { OnnxFlowError } from '../src/errors.js';
import {
  type OnnxFlowOptions,
  type OrtLike,
  type OrtSessionLike,
  type ProviderChoice,
  createOnnxFlow,
} from '../src/onnx-flow.js';
import { FLOAT, INT64, makeModel, node, tensor, value } from './autodiff/helpers.js';

const MOONS = new Uint8Array(
  readFileSync(
    fileURLToPath(new URL('../../../fixtures/two-moons-realnvp/model.onnx', import.meta.url)),
  ),
);
const CPU: ProviderChoice[] = [{ name: 'cpu', config: 'cpu', hint: '' }];

/** onnxruntime-node, counting the sessions it creates and releases. */
function countingRuntime(refuseAttempt?: number) {
  const counts = { attempts: 0, created: 0, released: 0 };
  const runtime: OrtLike = {
    Tensor: ort.Tensor as unknown as OrtLike['Tensor'],
    InferenceSession: {
      async create(model, options): Promise<OrtSessionLike> {
        counts.attempts += 1;
        if (counts.attempts === refuseAttempt) throw new Error('refused by the test runtime');
        const session = await ort.InferenceSession.create(model, options);
        counts.created += 1;
        return {
          run: (feeds, fetches) =>
            session.run(feeds as ort.InferenceSession.FeedsType, [...(fetches ?? [])]),
          async release() {
            counts.released += 1;
            await session.release();
          },
        };
      },
    },
  };
  return { runtime, counts };
}

async function load(
  runtime: OrtLike,
  bytes: Uint8Array,
  options: OnnxFlowOptions,
): Promise<Awaited<ReturnType<typeof createOnnxFlow>>> {
  return createOnnxFlow(runtime, bytes, 'the model bytes', options, CPU, false);
}

/** `x = Reshape(z, [3, -1])` with `x` `[batch, k]`: a probe run on one row of 2 values fails. */
function unprobeableModel(): Uint8Array {
  const model = makeModel({
    opset: 17,
    inputs: [value('z', FLOAT, ['batch', 2])],
    outputs: [value('x', FLOAT, ['batch', 'k']), value('logdet', FLOAT, ['batch'])],
    initializers: [tensor('shape', INT64, [2], [3, -1]), tensor('axes', INT64, [1], [1])],
    nodes: [
      node('Reshape', ['z', 'shape'], ['x']),
      node('ReduceSum', ['z', 'axes'], ['logdet'], { keepdims: 0 }),
    ],
  });
  return onnx.ModelProto.encode(model).finish();
}

async function failure(promise: Promise<unknown>): Promise<OnnxFlowError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OnnxFlowError);
  return error as OnnxFlowError;
}

describe('createOnnxFlow() sessions', () => {
  it('creates two sessions for autodiff and releases both once on dispose', async () => {
    const { runtime, counts } = countingRuntime();
    const flow = await load(runtime, MOONS, { gradient: 'autodiff' });
    expect(counts).toEqual({ attempts: 2, created: 2, released: 0 });
    await flow.dispose();
    await flow.dispose();
    expect(counts.released).toBe(2);
  });

  it('releases the forward session when the data-shape probe fails', async () => {
    const { runtime, counts } = countingRuntime();
    const error = await failure(
      load(runtime, unprobeableModel(), { gradient: 'finite-difference' }),
    );
    expect(error.code).toBe('UNKNOWN_SHAPE');
    expect(error.message).toMatch(/probe run failed.*Pass dataShape/s);
    expect(counts).toEqual({ attempts: 1, created: 1, released: 1 });
  });

  it('releases the forward session when the data size does not match the latent size', async () => {
    const { runtime, counts } = countingRuntime();
    const error = await failure(load(runtime, MOONS, { dataShape: [3] }));
    expect(error.code).toBe('UNSUPPORTED_MODEL');
    expect(error.message).toMatch(/has 2 values a row but output 'x' has 3.*options\.dataShape/);
    expect(counts).toEqual({ attempts: 1, created: 1, released: 1 });
  });

  it('releases the forward session when the VJP session cannot be created', async () => {
    const { runtime, counts } = countingRuntime(2);
    const error = await failure(load(runtime, MOONS, { gradient: 'autodiff' }));
    expect(error.code).toBe('INVALID_MODEL');
    expect(error.message).toMatch(/\(VJP graph\): .*VJP graph built from the model on 'cpu'/);
    expect(error.message).toMatch(/a bug in it.*gradient: 'finite-difference'/);
    expect((error.cause as Error).message).toBe('refused by the test runtime');
    expect(counts).toEqual({ attempts: 2, created: 1, released: 1 });
  });
});
