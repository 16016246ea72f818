/**
 * Node entry of the ONNX adapter, on onnxruntime-node: CPU by default, CUDA on request.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, describeValue } from '@latent-langevin/core';
import * as ort from 'onnxruntime-node';
import { OnnxFlowError } from './errors.js';
import {
  type OnnxFlow,
  type OnnxFlowOptions,
  type OrtLike,
  type ProviderChoice,
  createOnnxFlow,
} from './onnx-flow.js';

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
  /** CUDA device index; default 0. */
  readonly deviceId?: number;
}

const WEBGPU_HINT =
  "onnxruntime-node's WebGPU provider runs on Vulkan: it needs libvulkan1 and a GPU driver " +
  'with Vulkan support.';

const CUDA_HINT =
  'The CUDA provider needs an NVIDIA GPU with CUDA 12 and onnxruntime-node installed with ' +
  'ONNXRUNTIME_NODE_INSTALL=cuda12 (its default install downloads no GPU libraries here).';

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
 * @param options names, gradient mode, execution provider (`cpu` or `cuda`), `maxBatch`
 * @throws OnnxFlowError when the file is not ONNX, a name is missing or ambiguous, an operator
 *   has no autodiff rule (with `gradient: 'autodiff'`), or the provider is unavailable
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
  const { bytes, name } = await readSource(source);
  const requested = options.executionProvider ?? 'cpu';
  if (requested !== 'cpu' && requested !== 'cuda' && requested !== 'webgpu') {
    throw new InvalidArgumentError('loadOnnxFlow()', [
      `options.executionProvider must be 'cpu', 'cuda' or 'webgpu' in Node; received ` +
        `${describeValue(requested)}. For wasm use @latent-langevin/onnx/web.`,
    ]);
  }
  const cpu: ProviderChoice = { name: 'cpu', config: 'cpu', hint: '' };
  const gpu: Record<'cuda' | 'webgpu', ProviderChoice> = {
    cuda: {
      name: 'cuda',
      config: { name: 'cuda', deviceId: options.deviceId ?? 0 },
      hint: CUDA_HINT,
    },
    webgpu: { name: 'webgpu', config: 'webgpu', hint: WEBGPU_HINT },
  };
  const providers: ProviderChoice[] = requested === 'cpu' ? [cpu] : [gpu[requested], cpu];
  return createOnnxFlow(
    ort as unknown as OrtLike,
    bytes,
    name,
    options,
    providers,
    options.fallbackToCpu === true,
  );
}

/** Execution providers this onnxruntime-node build lists (a listed one may still fail to start). */
export function listExecutionProviders(): string[] {
  const backends = (ort as unknown as { listSupportedBackends?: () => { name: string }[] })
    .listSupportedBackends;
  return backends === undefined ? ['cpu'] : backends().map((b) => b.name);
}
