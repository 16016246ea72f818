/**
 * Options of both `loadOnnxFlow()` entries are checked at the boundary, before the model is
 * read: each problem is one line naming the option, the value received, what is expected and
 * the fix, and a misspelt key is refused with the closest valid name instead of being ignored.
 */
import { InvalidArgumentError } from '@latent-langevin/core';
import { type NodeOnnxFlowOptions, loadOnnxFlow } from '@latent-langevin/onnx';
import {
  type WebOnnxFlowOptions,
  loadOnnxFlow as loadWebOnnxFlow,
} from '@latent-langevin/onnx/web';
import { describe, expect, it } from 'vitest';

/** No file is read when the options are invalid, so a missing path shows that too. */
const NOWHERE = '/nonexistent/flow.onnx';

async function refusal(promise: Promise<unknown>): Promise<InvalidArgumentError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidArgumentError);
  const invalid = error as InvalidArgumentError;
  expect(invalid.code).toBe('INVALID_ARGUMENT');
  expect(invalid.message).toMatch(/^loadOnnxFlow\(\): /);
  return invalid;
}

/** Options of the wrong type on purpose. */
const node = (options: Record<string, unknown>) =>
  loadOnnxFlow(NOWHERE, options as NodeOnnxFlowOptions);
const web = (options: Record<string, unknown>) =>
  loadWebOnnxFlow(new Uint8Array(8), options as WebOnnxFlowOptions);

describe('loadOnnxFlow() options (Node entry)', () => {
  it.each([
    [
      'maxbatch',
      1024,
      /options\.maxbatch is not an option \(received 1024\)\. Did you mean maxBatch\?/,
    ],
    ['gradients', 'auto', /options\.gradients is not an option.*Did you mean gradient\?/],
    ['executionProviders', ['cuda'], /Did you mean executionProvider\?/],
    ['deviceID', 1, /Did you mean deviceId\?/],
    ['fallbackToCPU', true, /Did you mean fallbackToCpu\?/],
    [
      'colour',
      'blue',
      /options\.colour is not an option.*Valid names are input, outputs, .*deviceId\./,
    ],
  ])('refuses the unknown key %s, naming the closest valid one', async (key, value, message) => {
    const error = await refusal(node({ [key]: value }));
    expect(error.issues).toHaveLength(1);
    expect(error.message).toMatch(message);
  });

  it('refuses an unknown key inside outputs and exported, naming the closest field', async () => {
    const error = await refusal(
      node({
        outputs: { logdet: 'ld' },
        gradient: 'exported',
        exported: { gradient: 'g', cotangentX: 'cx', cotangentLogdet: 'cl' },
      }),
    );
    expect(error.issues).toEqual([
      expect.stringMatching(
        /^options\.outputs\.logdet is not a field of options\.outputs .*Did you mean logDet\?$/,
      ),
      expect.stringMatching(/^options\.exported\.cotangentLogDet is missing; it must be a non-e/),
      expect.stringMatching(/^options\.exported\.cotangentLogdet .*Did you mean cotangentLogDet\?/),
    ]);
  });

  it.each([
    ['executionProvider', 'tpu', /executionProvider must be 'cpu', 'cuda' or 'webgpu'.*"tpu"/],
    ['deviceId', -1, /options\.deviceId must be an integer >= 0.*; received -1\. Pass e\.g\./],
    ['deviceId', 0.5, /options\.deviceId must be an integer >= 0.*received 0\.5/],
    ['deviceId', '0', /options\.deviceId must be an integer >= 0.*received "0"/],
    ['fallbackToCpu', 'yes', /options\.fallbackToCpu must be true or false; received "yes"/],
    ['maxBatch', 0, /options\.maxBatch must be an integer >= 1; received 0\. Pass e\.g\./],
    ['maxBatch', Number.NaN, /options\.maxBatch .*received NaN/],
    ['gradient', 'magic', /options\.gradient must be 'autodiff', 'exported', .*received "magic"/],
    ['finiteDifferenceStep', 2, /finiteDifferenceStep must be a number in \[1e-6, 0\.5\].*2\./],
    ['dataShape', [1, 0], /options\.dataShape\.1 must be an integer >= 1.*received 0/],
    ['dataShape', '8x8', /options\.dataShape must be an array of integers.*"8x8"/],
    ['input', '', /options\.input must be a non-empty string.*received ""/],
    ['outputs', { x: 3 }, /options\.outputs\.x must be a non-empty string.*received 3/],
    ['logger', { log: () => {} }, /options\.logger must be an object with a warn\(message\)/],
    ['logger', (message: string) => message, /options\.logger must be .*received a function/],
    ['sessionOptions', 'fast', /options\.sessionOptions must be an object.*"fast"/],
  ])('refuses %s = %o, saying what is expected', async (key, value, message) => {
    const error = await refusal(node({ [key]: value }));
    expect(error.issues).toHaveLength(1);
    expect(error.message).toMatch(message);
  });

  it('lists every problem at once, one line each', async () => {
    const error = await refusal(node({ maxBatch: -2, deviceId: 'a', maxbatch: 3 }));
    expect(error.issues).toHaveLength(3);
    expect(error.message.split('\n')).toHaveLength(4);
  });

  it('asks for the exported names when gradient is exported', async () => {
    const error = await refusal(node({ gradient: 'exported' }));
    expect(error.message).toMatch(/options\.exported is missing.*Pass e\.g\. exported: \{/);
  });

  it('refuses options that are not an object', async () => {
    const error = await refusal(loadOnnxFlow(NOWHERE, 'cuda' as unknown as NodeOnnxFlowOptions));
    expect(error.message).toMatch(/options must be an object; received "cuda"/);
  });

  it('accepts every valid option and then reads the source', async () => {
    const options: NodeOnnxFlowOptions = {
      input: 'z',
      outputs: { x: 'x', logDet: 'logdet' },
      dataShape: [2],
      gradient: 'auto',
      maxBatch: 16,
      finiteDifferenceStep: 1e-3,
      logger: { warn: () => {} },
      sessionOptions: { intraOpNumThreads: 1 },
      executionProvider: 'cpu',
      fallbackToCpu: false,
      deviceId: 0,
    };
    await expect(loadOnnxFlow(NOWHERE, options)).rejects.toThrow(/cannot read the model from/);
  });
});

describe('loadOnnxFlow() options (web entry)', () => {
  it.each([
    ['executionProvider', 'wasm', /options\.executionProvider is not .*executionProviders\?/],
    ['deviceId', 0, /options\.deviceId is not an option.*Valid names are/],
  ])('refuses the unknown key %s', async (key, value, message) => {
    const error = await refusal(web({ [key]: value }));
    expect(error.message).toMatch(message);
  });

  it.each([
    [['cpu'], /options\.executionProviders\.0 must be 'webgpu' or 'wasm'; received "cpu"/],
    [[], /options\.executionProviders must be a non-empty array.*received an array of length 0/],
  ])('refuses executionProviders = %j', async (value, message) => {
    const error = await refusal(web({ executionProviders: value }));
    expect(error.message).toMatch(message);
  });
});
