/**
 * Loads the two-moons flow with onnxruntime-web: WebGPU when the browser has it, else
 * WebAssembly, with gradients from the ONNX adapter's VJP graph.
 */
import { loadOnnxFlow } from '@latent-langevin/onnx/web';
import modelUrl from '../../../fixtures/two-moons-realnvp/model.onnx?url';
import type { LoadRuntime } from './runtime.js';

/** Execution providers the demo asks for, in order. */
export const ONNX_BACKENDS = ['webgpu', 'wasm'] as const;

/**
 * Loads `model.onnx` on the first execution provider of `backends` that starts.
 *
 * @throws the ONNX adapter's errors when none starts or the model cannot be loaded
 */
export const load: LoadRuntime = async ({ backends, notice }) => {
  const requested = (backends ?? ONNX_BACKENDS).filter(
    (name): name is (typeof ONNX_BACKENDS)[number] =>
      (ONNX_BACKENDS as readonly string[]).includes(name),
  );
  const flow = await loadOnnxFlow(modelUrl, {
    executionProviders: requested.length > 0 ? requested : ONNX_BACKENDS,
    // Fallback notices (no WebGPU here) go to the page rather than to the console.
    logger: { warn: notice, info: notice },
  });
  return {
    runtime: 'onnx',
    flow,
    backend: flow.executionProvider,
    label: `onnxruntime-web, ${flow.executionProvider} (${flow.gradientSource} gradients)`,
  };
};
