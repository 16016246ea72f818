/**
 * Choosing the tfjs backend, with the wasm backend's binaries found in Node without a network.
 */
import { InvalidArgumentError, describeValue } from '@latent-langevin/core';
import * as tf from '@tensorflow/tfjs';
import { TfjsFlowError } from './errors.js';

/** Options of {@link useBackend}. */
export interface UseBackendOptions {
  /**
   * Where the wasm backend finds its `.wasm` files: a directory (ending in `/`) or a map from
   * file name to path or URL, as `setWasmPaths()` takes. In Node the default is the package's
   * own `dist/` directory in `node_modules`; in a browser, the directory of the bundled script.
   */
  readonly wasmPaths?: string | Record<string, string>;
}

/**
 * Directory of the installed `@tensorflow/tfjs-backend-wasm` binaries, in Node only. Node's
 * modules are taken with `process.getBuiltinModule` rather than imported, so that a browser
 * bundle has nothing to resolve or stub.
 */
function nodeWasmDirectory(): string | undefined {
  if (typeof process === 'undefined' || typeof process.getBuiltinModule !== 'function') {
    return undefined;
  }
  const { createRequire } = process.getBuiltinModule('node:module');
  const { dirname, sep } = process.getBuiltinModule('node:path');
  const main = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm');
  return dirname(main) + sep;
}

/**
 * Selects the tfjs backend that flows run on (a process-wide choice in tfjs) and waits until it
 * is ready. `wasm` loads `@tensorflow/tfjs-backend-wasm` (an optional dependency) and, in Node,
 * points it at the `.wasm` files installed with it, so it needs no network.
 *
 * @param name a registered backend: `cpu`, `wasm`, `webgl`, `webgpu`, ...
 * @param options `wasmPaths` for the wasm binaries
 * @returns the backend now in use (`tf.getBackend()`)
 * @throws TfjsFlowError `BACKEND_UNAVAILABLE` when the backend is not installed or cannot start
 * @throws InvalidArgumentError when `name` is not a non-empty string
 * @example
 * ```ts
 * await useBackend('wasm');
 * const flow = fromGraphModel(model); // flow.backend === 'wasm'
 * ```
 */
export async function useBackend(name: string, options: UseBackendOptions = {}): Promise<string> {
  const where = 'useBackend()';
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidArgumentError(where, [
      `name must be a backend name such as 'cpu' or 'wasm'; received ${describeValue(name)}.`,
    ]);
  }

  // Before the wasm backend first starts: register it and tell it where its binaries are.
  if (name === 'wasm' && !('wasm' in tf.engine().registry)) {
    let wasm: { setWasmPaths(paths: string | Record<string, string>): void };
    try {
      wasm = await import('@tensorflow/tfjs-backend-wasm');
    } catch (error) {
      throw new TfjsFlowError(
        'BACKEND_UNAVAILABLE',
        `${where}: the wasm backend needs @tensorflow/tfjs-backend-wasm, which could not be ` +
          `loaded (${(error as Error)?.message ?? String(error)}). Install it: npm install ` +
          '@tensorflow/tfjs-backend-wasm (the version of @tensorflow/tfjs).',
        { cause: error },
      );
    }
    try {
      const paths = options.wasmPaths ?? nodeWasmDirectory();
      if (paths !== undefined) wasm.setWasmPaths(paths);
    } catch (error) {
      throw new TfjsFlowError(
        'BACKEND_UNAVAILABLE',
        `${where}: could not point the wasm backend at its .wasm files: ` +
          `${(error as Error)?.message ?? String(error)}. Pass wasmPaths: '<directory>/'.`,
        { cause: error },
      );
    }
  }

  const known = Object.keys(tf.engine().registryFactory);
  if (!known.includes(name)) {
    throw new TfjsFlowError(
      'BACKEND_UNAVAILABLE',
      `${where}: no tfjs backend '${name}' is registered; the registered ones are ` +
        `[${known.join(', ')}]. Import the backend's package first (webgpu: ` +
        '@tensorflow/tfjs-backend-webgpu).',
    );
  }
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
    await tf.ready();
  } catch (error) {
    throw new TfjsFlowError(
      'BACKEND_UNAVAILABLE',
      `${where}: the tfjs backend '${name}' failed to start: ` +
        `${(error as Error)?.message ?? String(error)}.`,
      { cause: error },
    );
  }
  if (!ok || tf.getBackend() !== name) {
    throw new TfjsFlowError(
      'BACKEND_UNAVAILABLE',
      `${where}: the tfjs backend '${name}' could not start on this machine (tf.setBackend ` +
        `returned false); tfjs runs on '${tf.getBackend()}'. Pick one of [${known.join(', ')}].`,
    );
  }
  return name;
}
