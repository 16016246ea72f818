/**
 * The runtimes the demo can run the two-moons flow on, and what the page shows about the one in
 * use. Each runtime has a loader module of its own (`load-onnx.ts`, `load-tfjs.ts`), imported
 * only when chosen, so the page downloads one runtime, not both.
 */
import type { DifferentiableFlow } from '@latent-langevin/core';

/** ONNX Runtime Web on `fixtures/two-moons-realnvp/model.onnx`, or TensorFlow.js on the graph
 * model `fixtures/two-moons-tfjs/` (the same weights). */
export type Runtime = 'onnx' | 'tfjs';

/** Names of the runtimes, as the page shows them. */
export const RUNTIME_NAMES: Readonly<Record<Runtime, string>> = {
  onnx: 'ONNX Runtime Web',
  tfjs: 'TensorFlow.js',
};

/** A flow loaded for the page, with what the page shows about it. */
export interface LoadedFlow {
  readonly runtime: Runtime;
  readonly flow: DifferentiableFlow;
  /** The backend in use: onnxruntime-web's execution provider or the tfjs backend. */
  readonly backend: string;
  /** One line for the page, e.g. `TensorFlow.js 4.22.0, webgl (exact gradients by tf.grad)`. */
  readonly label: string;
}

/** What a loader is given. */
export interface LoadOptions {
  /** Backends to try, in order; the loader's own order when absent. */
  readonly backends?: readonly string[];
  /** Shows a notice on the page (a fallback, a rewrite of the model). */
  readonly notice: (text: string) => void;
}

/** The function each loader module exports. */
export type LoadRuntime = (options: LoadOptions) => Promise<LoadedFlow>;
