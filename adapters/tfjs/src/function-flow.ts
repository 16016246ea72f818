/**
 * Plain TensorFlow.js functions `z -> { x, logDet }` as flows.
 */
import { InvalidArgumentError, describeValue } from '@latent-langevin/core';
import type * as tf from '@tensorflow/tfjs';
import { registerGradients } from './gradients/register-gradients.js';
import {
  type TfjsFlow,
  type TfjsFlowOptions,
  createTfjsFlow,
  parseLogger,
  parseMaxBatch,
  parseShape,
} from './tfjs-flow.js';

/**
 * A flow written with tfjs operations: `z` is `[n, d]`; it returns `x` of `[n, ...dataShape]` and
 * `logDet = log|det J_f(z)|` of `[n]`. It must be synchronous and treat rows independently.
 */
export type TfjsFlowFunction = (z: tf.Tensor2D) => { x: tf.Tensor; logDet: tf.Tensor1D };

/** Options of {@link fromFunction}. */
export interface FunctionFlowOptions extends TfjsFlowOptions {
  /** Latent dimension `d`, an integer >= 1. */
  readonly latentDim: number;
  /** Called once by `flow.dispose()`, e.g. to dispose the weights the function closes over. */
  readonly dispose?: () => void;
}

/** A flow over a tfjs function. */
export interface FunctionFlow extends TfjsFlow {
  readonly source: 'function';
}

/**
 * Turns a function made of tfjs operations into a `DifferentiableFlow` with exact gradients
 * (`tf.grad` through the function). Each call runs it inside `tf.tidy`, so it may create as many
 * intermediate tensors as it likes; tensors it closes over (weights) are left alone.
 *
 * @param fn `(z: [n, d]) => { x: [n, ...dataShape], logDet: [n] }`, synchronous
 * @param options `latentDim` (required), `dataShape` (read from a probe run when absent),
 *   `maxBatch` (default 4096), `logger`, `dispose`
 * @returns a {@link FunctionFlow} on the current tfjs backend
 * @throws TfjsFlowError `SHAPE_MISMATCH` when `fn` returns the wrong shapes, `UNSUPPORTED_OPERATOR`
 *   when it uses a kernel without a gradient
 * @throws InvalidArgumentError for a malformed option
 * @example
 * ```ts
 * const scale = tf.tensor1d([2, 0.5]); // log|det| = log 2 + log 0.5 = 0
 * const flow = fromFunction(
 *   (z) => ({ x: tf.mul(z, scale), logDet: tf.zeros([z.shape[0]]) as tf.Tensor1D }),
 *   { latentDim: 2, dispose: () => scale.dispose() },
 * );
 * ```
 */
export function fromFunction(fn: TfjsFlowFunction, options: FunctionFlowOptions): FunctionFlow {
  const where = 'fromFunction()';
  if (typeof fn !== 'function') {
    throw new InvalidArgumentError(where, [
      `fn must be a function (z: tf.Tensor2D) => { x, logDet }; received ${describeValue(fn)}.`,
    ]);
  }
  const latentDim = options?.latentDim;
  if (typeof latentDim !== 'number' || !Number.isInteger(latentDim) || latentDim < 1) {
    throw new InvalidArgumentError(where, [
      `options.latentDim must be an integer >= 1; received ${describeValue(latentDim)}. ` +
        'Pass the size d of a latent row, e.g. latentDim: 2.',
    ]);
  }
  const maxBatch = parseMaxBatch(where, options.maxBatch);
  const dataShape = parseShape(where, 'dataShape', options.dataShape);
  parseLogger(where, options.logger);
  const registered = registerGradients();
  let released = false;

  return createTfjsFlow({
    where,
    source: 'function',
    run: (z) => fn(z as tf.Tensor2D),
    forwardOnly: 'fn(t)',
    latentShape: [latentDim],
    ...(dataShape === undefined ? {} : { dataShape }),
    fixedBatch: null,
    maxBatch,
    registeredGradients: registered,
    release: () => {
      if (released) return;
      released = true;
      options.dispose?.();
    },
  }) as FunctionFlow;
}
