/**
 * Browser entry of the ONNX adapter, on onnxruntime-web: WebGPU when the browser has it, else
 * WebAssembly. It also runs in Node on the wasm backend.
 */
import { InvalidArgumentError, describeValue } from '@latent-langevin/core';
import * as ort from 'onnxruntime-web';
import { z } from 'zod';
import { OnnxFlowError } from './errors.js';
import {
  type OnnxFlow,
  type OnnxFlowOptions,
  type OrtLike,
  type ProviderChoice,
  createOnnxFlow,
} from './onnx-flow.js';
import { FLOW_OPTIONS, type OptionSpec, parseOptions } from './options.js';

export * from './errors.js';
export type { OnnxFlow, OnnxFlowOptions, GradientMode, OnnxLogger } from './onnx-flow.js';
export {
  OnnxAutodiffError,
  buildVjpModel,
  supportedOperators,
  unsupportedOperators,
} from './autodiff/index.js';

/** Execution providers of the browser entry. */
export type WebExecutionProvider = 'webgpu' | 'wasm';

/** Options of the browser `loadOnnxFlow()`. */
export interface WebOnnxFlowOptions extends OnnxFlowOptions {
  /** Providers to try in order; default `['webgpu', 'wasm']` (falling back with a warning). */
  readonly executionProviders?: readonly WebExecutionProvider[];
}

/** Every option of the browser entry: the shared ones and its own. */
const WEB_OPTIONS: Readonly<Record<keyof WebOnnxFlowOptions, OptionSpec>> = {
  ...FLOW_OPTIONS,
  executionProviders: {
    schema: z.array(z.enum(['webgpu', 'wasm'])).min(1),
    expected: "a non-empty array of 'webgpu' and 'wasm', in the order to try them",
    field: "'webgpu' or 'wasm'",
    fix:
      "Pass e.g. executionProviders: ['wasm']. In Node, the CPU and CUDA providers are in " +
      '@latent-langevin/onnx.',
  },
};

const HINTS: Record<WebExecutionProvider, string> = {
  webgpu:
    'WebGPU needs a browser that exposes navigator.gpu (Chrome 113+, Edge, recent Safari) on a ' +
    'machine with a supported GPU.',
  wasm: 'WebAssembly needs the ort-wasm files of onnxruntime-web to be served beside the app.',
};

/**
 * Loads an ONNX normalizing flow as a `DifferentiableFlow` on onnxruntime-web.
 *
 * @param source a URL or the model's bytes
 * @param options as in the Node entry, with `executionProviders` among `webgpu` and `wasm`;
 *   unknown keys are refused
 * @throws InvalidArgumentError when an option is invalid or unknown (naming the closest valid
 *   one), or the source is neither a URL nor bytes
 * @throws OnnxFlowError as the Node entry does, `INVALID_MODEL` when wasm rejects the graph
 * @example
 * ```ts
 * const flow = await loadOnnxFlow(new URL('./two-moons.onnx', import.meta.url));
 * const provider = flow.executionProvider; // 'webgpu' or 'wasm'
 * ```
 */
export async function loadOnnxFlow(
  source: string | URL | Uint8Array | ArrayBuffer,
  options: WebOnnxFlowOptions = {},
): Promise<OnnxFlow> {
  const parsed = parseOptions<WebOnnxFlowOptions>('loadOnnxFlow()', options, WEB_OPTIONS);
  let bytes: Uint8Array;
  let name = 'the model bytes';
  if (source instanceof Uint8Array) bytes = source;
  else if (source instanceof ArrayBuffer) bytes = new Uint8Array(source);
  else if (typeof source === 'string' || source instanceof URL) {
    name = String(source);
    try {
      const response = await fetch(source);
      if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
      bytes = new Uint8Array(await response.arrayBuffer());
    } catch (error) {
      throw new OnnxFlowError(
        'INVALID_ARGUMENT',
        `loadOnnxFlow(): cannot fetch the model from ${name}: ${(error as Error).message}. ` +
          'Pass a reachable URL or the model bytes.',
        { cause: error },
      );
    }
  } else {
    throw new InvalidArgumentError('loadOnnxFlow()', [
      `source must be a URL or bytes; received ${describeValue(source)}.`,
    ]);
  }
  const requested = parsed.executionProviders ?? (['webgpu', 'wasm'] as const);
  const providers: ProviderChoice[] = requested.map((provider) => ({
    name: provider,
    config: provider,
    hint: HINTS[provider],
  }));
  const hasWebGpu =
    typeof navigator !== 'undefined' && (navigator as { gpu?: unknown }).gpu !== undefined;
  // Without navigator.gpu, asking ONNX Runtime for WebGPU fails anyway; skip it with the same
  // notice so that no session is attempted in vain.
  const usable = providers.filter((p) => p.name !== 'webgpu' || hasWebGpu);
  if (usable.length < providers.length) {
    if (usable.length === 0) {
      throw new OnnxFlowError(
        'PROVIDER_UNAVAILABLE',
        `loadOnnxFlow(): execution provider 'webgpu' is unavailable: navigator.gpu is not ` +
          `defined here. ${HINTS.webgpu} Add 'wasm' to executionProviders to fall back.`,
      );
    }
    parsed.logger?.warn(
      `loadOnnxFlow(): execution provider 'webgpu' is unavailable (navigator.gpu is not ` +
        `defined); using '${usable[0].name}'. ${HINTS.webgpu}`,
    );
  }
  return createOnnxFlow(ort as unknown as OrtLike, bytes, name, parsed, usable, true);
}
