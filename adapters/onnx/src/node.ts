/**
 * Node entry of the ONNX adapter, on onnxruntime-node: CPU by default, CUDA on request.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, describeValue } from '@latent-langevin/core';
import * as ort from 'onnxruntime-node';
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

/** Execution providers of the Node entry. */
export type NodeExecutionProvider = 'cpu' | 'cuda' | 'webgpu';

/** Options of the Node `loadOnnxFlow()`. */
export interface NodeOnnxFlowOptions extends OnnxFlowOptions {
  /** `cpu` (default), `cuda`, or `webgpu` (Dawn on Vulkan, bundled with onnxruntime-node). */
  readonly executionProvider?: NodeExecutionProvider;
  /**
   * When the requested provider cannot start, fall back to `cpu` with a logged warning instead
   * of throwing; default false.
   */
  readonly fallbackToCpu?: boolean;
  /** CUDA device index, an integer >= 0; default 0. */
  readonly deviceId?: number;
}

/** Every option of the Node entry: the shared ones and its own. */
const NODE_OPTIONS: Readonly<Record<keyof NodeOnnxFlowOptions, OptionSpec>> = {
  ...FLOW_OPTIONS,
  executionProvider: {
    schema: z.enum(['cpu', 'cuda', 'webgpu']),
    expected: "'cpu', 'cuda' or 'webgpu' in Node",
    fix: 'For wasm use @latent-langevin/onnx/web.',
  },
  fallbackToCpu: {
    schema: z.boolean(),
    expected: 'true or false',
    fix: 'Pass fallbackToCpu: true to fall back with a warning, or leave it out to throw.',
  },
  deviceId: {
    schema: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1),
    expected: 'an integer >= 0, the index of a CUDA device',
    fix: 'Pass e.g. deviceId: 0 (nvidia-smi lists the devices).',
  },
};

const WEBGPU_HINT =
  "onnxruntime-node's WebGPU provider runs on Vulkan: it needs libvulkan1 and a GPU driver " +
  'with Vulkan support.';

// The default install of onnxruntime-node on Linux x64 downloads the CUDA 12 provider library
// (install-metadata.js), but not where npm is offline or onnxruntime-node-install=skip is set,
// as this repository's .npmrc does; the library also needs the CUDA 12 and cuDNN runtimes.
const CUDA_HINT =
  'The CUDA provider needs an NVIDIA GPU, the CUDA 12 and cuDNN runtime libraries, and the ' +
  "provider library of onnxruntime-node, which is missing when it was installed with 'skip' or " +
  'offline: reinstall it with network access and ONNXRUNTIME_NODE_INSTALL=cuda12, e.g. ' +
  'ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node.';

/** Reads a model from a path, a `file:`/`http(s):` URL, or bytes. */
async function readSource(
  source: string | URL | Uint8Array | ArrayBuffer,
): Promise<{ bytes: Uint8Array; name: string }> {
  if (source instanceof Uint8Array) return { bytes: source, name: 'the model bytes' };
  if (source instanceof ArrayBuffer)
    return { bytes: new Uint8Array(source), name: 'the model bytes' };
  const isUrl = source instanceof URL || /^(https?|file):/i.test(source);
  if (!isUrl && typeof source !== 'string') {
    throw new InvalidArgumentError('loadOnnxFlow()', [
      `source must be a path, a URL or bytes; received ${describeValue(source)}.`,
    ]);
  }
  const url = isUrl ? new URL(source) : null;
  try {
    if (url !== null && url.protocol !== 'file:') {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
      return { bytes: new Uint8Array(await response.arrayBuffer()), name: url.href };
    }
    const path = url !== null ? fileURLToPath(url) : (source as string);
    return { bytes: new Uint8Array(await readFile(path)), name: `'${path}'` };
  } catch (error) {
    throw new OnnxFlowError(
      'INVALID_ARGUMENT',
      `loadOnnxFlow(): cannot read the model from ${String(source)}: ` +
        `${(error as Error).message}. ` +
        'Pass the path of an .onnx file, a URL, or its bytes.',
      { cause: error },
    );
  }
}

/**
 * Loads an ONNX normalizing flow (`z -> (x, logDet)`, dynamic batch) as a `DifferentiableFlow`
 * on onnxruntime-node, with gradients from this package's own ONNX autodiff by default.
 *
 * @param source path, `file:` or `http(s):` URL, or the model's bytes
 * @param options names, gradient mode, execution provider (`cpu`, `cuda` or `webgpu`),
 *   `maxBatch`; unknown keys are refused
 * @throws InvalidArgumentError when an option is invalid or unknown (naming the closest valid
 *   one), or the source is neither a path, a URL nor bytes
 * @throws OnnxFlowError when the file cannot be read or is not ONNX (`INVALID_ARGUMENT`,
 *   `INVALID_MODEL`), ONNX Runtime rejects the graph on the CPU (`INVALID_MODEL`), a name is
 *   missing or ambiguous, the autodiff cannot differentiate the model with `gradient:
 *   'autodiff'` (`UNSUPPORTED_OPERATOR`, `UNSUPPORTED_MODEL` for an opset below 13), or the
 *   provider cannot start (`PROVIDER_UNAVAILABLE`)
 * @example
 * ```ts
 * const flow = await loadOnnxFlow('fixtures/two-moons-realnvp/model.onnx');
 * const run = await sample(flow, { target: tempered({ beta: 1 }), chains: 64, seed: 1 });
 * await flow.dispose();
 * ```
 */
export async function loadOnnxFlow(
  source: string | URL | Uint8Array | ArrayBuffer,
  options: NodeOnnxFlowOptions = {},
): Promise<OnnxFlow> {
  const parsed = parseOptions<NodeOnnxFlowOptions>('loadOnnxFlow()', options, NODE_OPTIONS);
  const { bytes, name } = await readSource(source);
  const requested = parsed.executionProvider ?? 'cpu';
  const cpu: ProviderChoice = { name: 'cpu', config: 'cpu', hint: '' };
  const gpu: Record<'cuda' | 'webgpu', ProviderChoice> = {
    cuda: {
      name: 'cuda',
      config: { name: 'cuda', deviceId: parsed.deviceId ?? 0 },
      hint: CUDA_HINT,
    },
    webgpu: { name: 'webgpu', config: 'webgpu', hint: WEBGPU_HINT },
  };
  const providers: ProviderChoice[] = requested === 'cpu' ? [cpu] : [gpu[requested], cpu];
  return createOnnxFlow(
    ort as unknown as OrtLike,
    bytes,
    name,
    parsed,
    providers,
    parsed.fallbackToCpu === true,
  );
}

/**
 * Lists the execution providers this onnxruntime-node build knows; a listed one may still fail
 * to start (CUDA without its provider library or runtime, WebGPU without Vulkan), so try it with
 * `loadOnnxFlow()`.
 *
 * @returns provider names, e.g. `['cpu', 'webgpu', 'cuda', 'tensorrt']`; `['cpu']` for builds of
 *   onnxruntime-node without `listSupportedBackends` (before 1.17).
 * @throws never; an old build without the listing gives `['cpu']`.
 * @example
 * ```ts
 * const provider = listExecutionProviders().includes('cuda') ? 'cuda' : 'cpu';
 * const flow = await loadOnnxFlow('flow.onnx', { executionProvider: provider });
 * ```
 */
export function listExecutionProviders(): string[] {
  const backends = (ort as unknown as { listSupportedBackends?: () => { name: string }[] })
    .listSupportedBackends;
  return backends === undefined ? ['cpu'] : backends().map((b) => b.name);
}
