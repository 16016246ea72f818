/**
 * TensorFlow.js layers models (`tf.model`, `tf.sequential`, `tf.loadLayersModel`) as flows.
 */
import { InvalidArgumentError, describeValue } from '@latent-langevin/core';
import type * as tf from '@tensorflow/tfjs';
import { TfjsFlowError } from './errors.js';
import { registerGradients } from './gradients/register-gradients.js';
import {
  type ModelEndpoint,
  type ModelIo,
  latentRowShape,
  resolveInput,
  resolveOutputs,
} from './model-io.js';
import {
  type TfjsFlow,
  type TfjsFlowOptions,
  createTfjsFlow,
  parseLogger,
  parseMaxBatch,
  parseShape,
} from './tfjs-flow.js';

/** Options of {@link fromLayersModel}. */
export interface LayersModelFlowOptions extends TfjsFlowOptions {
  /** Name of the latent input layer; the model must have exactly one input. */
  readonly input?: string;
  /** Names of the output layers; found by themselves when unambiguous. */
  readonly outputs?: { readonly x?: string; readonly logDet?: string };
  /** Whether `flow.dispose()` also disposes the model; default true. */
  readonly disposeModel?: boolean;
}

/** A flow over a layers model. */
export interface LayersModelFlow extends TfjsFlow {
  readonly source: 'layers-model';
  /** The names the adapter resolved. */
  readonly io: ModelIo;
}

/**
 * Turns a TensorFlow.js layers model with one input `z` and two outputs `x` and `logDet` into a
 * `DifferentiableFlow` with exact gradients (`tf.grad` through `model.apply(z)`, in inference
 * mode). Custom layers work as long as their `call` is made of tfjs operations.
 *
 * @param model a `tf.LayersModel`; its input is `[batch, ...latentShape]`, its outputs `x`
 *   (`[batch, ...dataShape]`) and `logDet` (`[batch]` or `[batch, 1]`)
 * @param options output names, `dataShape`, `maxBatch` (default 4096), `logger`, `disposeModel`
 * @returns a {@link LayersModelFlow} on the current tfjs backend
 * @throws TfjsFlowError `UNSUPPORTED_MODEL` for several inputs, `NAME_NOT_FOUND` or
 *   `AMBIGUOUS_NAME` for outputs (listing those there are), `UNKNOWN_SHAPE`, `SHAPE_MISMATCH`
 * @throws InvalidArgumentError for a malformed option
 * @example
 * ```ts
 * const model = await tf.loadLayersModel('https://example.com/flow/model.json');
 * const flow = fromLayersModel(model, { outputs: { x: 'x', logDet: 'logdet' } });
 * const { x, logDet } = await flow.forward(new Float32Array([0, 0]), 1);
 * ```
 */
export function fromLayersModel(
  model: tf.LayersModel,
  options: LayersModelFlowOptions = {},
): LayersModelFlow {
  const where = 'fromLayersModel()';
  if (
    model === null ||
    typeof model !== 'object' ||
    typeof (model as { apply?: unknown }).apply !== 'function' ||
    !Array.isArray((model as { inputs?: unknown }).inputs) ||
    !Array.isArray((model as { outputNames?: unknown }).outputNames)
  ) {
    throw new InvalidArgumentError(where, [
      `model must be a tf.LayersModel; received ${describeValue(model)}. Build it with ` +
        'tf.model() or load it with await tf.loadLayersModel(url).',
    ]);
  }
  const maxBatch = parseMaxBatch(where, options.maxBatch);
  const dataShape = parseShape(where, 'dataShape', options.dataShape);
  parseLogger(where, options.logger);
  const registered = registerGradients();

  const inputs: ModelEndpoint[] = model.inputs.map((t, k) => ({
    name: model.inputNames[k] ?? t.name,
    shape: [...t.shape],
  }));
  const outputs: ModelEndpoint[] = model.outputs.map((t, k) => ({
    name: model.outputNames[k] ?? t.name,
    shape: [...t.shape],
  }));
  if (inputs.length > 1) {
    throw new TfjsFlowError(
      'UNSUPPORTED_MODEL',
      `${where}: the model has ${inputs.length} inputs [${inputs.map((i) => i.name).join(', ')}]` +
        '; a flow takes z alone. Wrap the model in a function of z and use fromFunction().',
    );
  }
  const input = resolveInput(inputs, options.input, where);
  const latentShape = latentRowShape(input, undefined, where);
  const { x, logDet } = resolveOutputs(outputs, options.outputs, where);
  const xIndex = outputs.indexOf(x);
  const logDetIndex = outputs.indexOf(logDet);

  const flow = createTfjsFlow({
    where,
    source: 'layers-model',
    run: (z) => {
      const result = model.apply(z, { training: false }) as tf.Tensor | tf.Tensor[];
      const tensors = Array.isArray(result) ? result : [result];
      return { x: tensors[xIndex], logDet: tensors[logDetIndex] };
    },
    forwardOnly: 'model.predict(t)',
    latentShape,
    ...(dataShape === undefined ? {} : { dataShape }),
    fixedBatch: null,
    maxBatch,
    registeredGradients: registered,
    release: () => {
      if (options.disposeModel !== false) model.dispose();
    },
  });
  return Object.defineProperty(flow, 'io', {
    value: { input: input.name, x: x.name, logDet: logDet.name, latentShape },
    enumerable: true,
  }) as LayersModelFlow;
}
