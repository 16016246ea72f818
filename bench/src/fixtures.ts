/**
 * The model fixtures the benchmark runs on (fixtures/README.md), how to load them on each ONNX
 * Runtime backend, and the closed-form two-moons density of the pullback target.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DataLogDensity } from '@latent-langevin/core';
import { type OnnxFlow, loadOnnxFlow } from '@latent-langevin/onnx';
import { loadOnnxFlow as loadWebOnnxFlow } from '@latent-langevin/onnx/web';
import { repositoryRoot } from './machine.js';

/** Names of the fixture directories. */
export const FIXTURES = ['two-moons-realnvp', 'ring-realnvp', 'two-moons-nice', 'digits-glow'];

/** A fixture name, e.g. `digits-glow`. */
export type FixtureName = string;

/** Backends the benchmark loads ONNX models on. */
export type OnnxBackend = 'onnxruntime-node/cpu' | 'onnxruntime-web/wasm';

/** How to load a fixture. */
export interface LoadFixtureOptions {
  readonly backend: OnnxBackend;
  /** `autodiff` (the VJP graph) or `finite-difference`. */
  readonly gradient: 'autodiff' | 'finite-difference';
  /** ONNX Runtime's `intraOpNumThreads` (node); the wasm thread count is set process-wide. */
  readonly threads: number;
  /** Largest batch sent to a session at once; default 4096. */
  readonly maxBatch?: number;
  /** Extra onnxruntime-node session options, merged over the thread settings. */
  readonly sessionOptions?: Readonly<Record<string, unknown>>;
}

/** Absolute path of a fixture file, by default its `model.onnx`. */
export function fixturePath(name: FixtureName, file = 'model.onnx'): string {
  return join(repositoryRoot(), 'fixtures', name, file);
}

/**
 * Loads a fixture's `model.onnx` as an `OnnxFlow` on the chosen backend, with the thread count
 * made explicit (onnxruntime-node's `intraOpNumThreads`).
 *
 * @throws whatever `loadOnnxFlow()` throws (missing file, unsupported operator, provider)
 * @example
 * ```ts
 * const flow = await loadFixture('digits-glow', {
 *   backend: 'onnxruntime-node/cpu',
 *   gradient: 'autodiff',
 *   threads: 2,
 * });
 * ```
 */
export async function loadFixture(
  name: FixtureName,
  options: LoadFixtureOptions,
): Promise<OnnxFlow> {
  const path = fixturePath(name);
  const maxBatch = options.maxBatch ?? 4096;
  if (options.backend === 'onnxruntime-node/cpu') {
    return loadOnnxFlow(path, {
      gradient: options.gradient,
      maxBatch,
      sessionOptions: {
        intraOpNumThreads: options.threads,
        interOpNumThreads: 1,
        ...options.sessionOptions,
      },
    });
  }
  return loadWebOnnxFlow(await readFile(path), {
    gradient: options.gradient,
    maxBatch,
    executionProviders: ['wasm'],
  });
}

/**
 * Sets the number of threads of onnxruntime-web's wasm backend; it takes effect only before the
 * first wasm session of the process, and is ignored when onnxruntime-web cannot be imported.
 *
 * @returns the thread count now configured, or null when onnxruntime-web is not installed
 */
export async function setWasmThreads(threads: number): Promise<number | null> {
  try {
    // onnxruntime-web is the adapter's optional peer dependency; the adapter imports the same
    // module instance, so its env is the one the wasm sessions read.
    const ort = await import('onnxruntime-web');
    ort.env.wasm.numThreads = threads;
    return ort.env.wasm.numThreads ?? null;
  } catch {
    return null;
  }
}

/** The two-moons density of fixtures/README.md: radius 2, radial width 0.2, side width 0.6. */
const TWO_MOONS = { radius: 2, radialWidth: 0.2, centre: 2, sideWidth: 0.6, logZ: 1.230245 };

/**
 * The closed-form two-moons log-density (fixtures/README.md) with its gradient, for
 * `pullback()`:
 *
 *     log p(x) = -0.5 ((|x| - 2) / 0.2)^2
 *                + log(exp(-0.5 ((x1 - 2) / 0.6)^2) + exp(-0.5 ((x1 + 2) / 0.6)^2)) - log Z
 *
 * `x` is `[n, 2]`; the gradient is `[n, 2]`, with the radial part taken as 0 at the origin.
 *
 * @example
 * ```ts
 * const target = pullback(twoMoonsLogDensity());
 * ```
 */
export function twoMoonsLogDensity(): DataLogDensity {
  const { radius, radialWidth, centre, sideWidth, logZ } = TWO_MOONS;
  return (x: Float32Array, n: number) => {
    const logDensity = new Float64Array(n);
    const gradient = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) {
      const x1 = x[2 * i];
      const x2 = x[2 * i + 1];
      const r = Math.sqrt(x1 * x1 + x2 * x2);
      const radial = (r - radius) / radialWidth;
      const a = -0.5 * ((x1 - centre) / sideWidth) ** 2;
      const b = -0.5 * ((x1 + centre) / sideWidth) ** 2;
      const top = Math.max(a, b);
      const sum = Math.exp(a - top) + Math.exp(b - top);
      logDensity[i] = -0.5 * radial * radial + top + Math.log(sum) - logZ;
      // d/dx of the radial term is -radial / width * x / r; the side mixture is softmax-weighted.
      const dr = r > 0 ? -radial / radialWidth / r : 0;
      const wa = Math.exp(a - top) / sum;
      const wb = Math.exp(b - top) / sum;
      const side = (-wa * (x1 - centre) - wb * (x1 + centre)) / (sideWidth * sideWidth);
      gradient[2 * i] = dr * x1 + side;
      gradient[2 * i + 1] = dr * x2;
    }
    return { logDensity, gradient };
  };
}
