/**
 * Loads the two-moons flow with TensorFlow.js: the graph model of `fixtures/two-moons-tfjs/`
 * (the weights of the ONNX model), on WebGPU when the browser has an adapter, else WebGL, else
 * WebAssembly, with exact gradients by `tf.grad` through the adapter.
 *
 * tf.grad runs synchronously on every backend: on webgl and webgpu its kernels are queued on the
 * GPU as it goes, and only reading the results waits for them, which the adapter does with
 * `await tensor.data()`, so the page is not blocked.
 */
import { fromGraphModel, useBackend } from '@latent-langevin/tfjs';
import * as tf from '@tensorflow/tfjs';
// Registers the webgpu backend (where the browser has WebGPU); webgl and cpu come with tfjs.
import '@tensorflow/tfjs-backend-webgpu';
import plain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import simd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import threaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import modelUrl from '../../../fixtures/two-moons-tfjs/model.json?url';
import weightsUrl from '../../../fixtures/two-moons-tfjs/weights.bin?url';
import type { LoadRuntime } from './runtime.js';

/** tfjs backends the demo tries, in order. */
export const TFJS_BACKENDS = ['webgpu', 'webgl', 'wasm'] as const;

/** The wasm backend's binaries, emitted beside the bundle (never fetched from a CDN). */
const WASM_PATHS = {
  'tfjs-backend-wasm.wasm': plain,
  'tfjs-backend-wasm-simd.wasm': simd,
  'tfjs-backend-wasm-threaded-simd.wasm': threaded,
};

/**
 * Why `backend` cannot start in this browser, found without asking tfjs (which would write its
 * failure to the console), or null when it may.
 */
async function unavailable(backend: string): Promise<string | null> {
  if (backend === 'webgpu') {
    const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    if (gpu === undefined) return 'this browser has no WebGPU';
    return (await gpu.requestAdapter().catch(() => null)) === null ? 'no WebGPU adapter' : null;
  }
  if (backend === 'webgl') {
    const canvas = document.createElement('canvas');
    const context = canvas.getContext('webgl2') ?? canvas.getContext('webgl');
    return context === null ? 'no WebGL context' : null;
  }
  return null;
}

/**
 * Starts the first backend of `backends` that this browser runs, then loads the graph model.
 *
 * @throws Error when none of the backends starts, with the reason for each
 */
export const load: LoadRuntime = async ({ backends, notice }) => {
  const tried: string[] = [];
  let backend: string | undefined;
  for (const name of backends ?? TFJS_BACKENDS) {
    const reason = await unavailable(name);
    if (reason !== null) {
      tried.push(`${name} (${reason})`);
      continue;
    }
    try {
      backend = await useBackend(name, name === 'wasm' ? { wasmPaths: WASM_PATHS } : {});
      break;
    } catch (error) {
      tried.push(`${name} (${(error as Error).message})`);
    }
  }
  if (backend === undefined) {
    throw new Error(`TensorFlow.js started none of its backends: ${tried.join('; ')}.`);
  }
  if (tried.length > 0) notice(`TensorFlow.js runs on ${backend}; not on ${tried.join(', ')}.`);

  const model = await tf.loadGraphModel(modelUrl, { weightUrlConverter: async () => weightsUrl });
  const flow = fromGraphModel(model, { logger: { info: notice } });
  return {
    runtime: 'tfjs',
    flow,
    backend: flow.backend,
    label: `TensorFlow.js ${tf.version.tfjs}, ${flow.backend} (exact gradients by tf.grad)`,
  };
};
