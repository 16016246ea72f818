/**
 * Vite configuration of the browser demo. The library packages are taken from their TypeScript
 * sources, so the demo builds without `tsc -b` first. onnxruntime-web's WebAssembly files are
 * emitted beside the bundle (its `new URL(..., import.meta.url)` references), and so are
 * tfjs-backend-wasm's and the models (`?url` imports), so nothing is fetched from a CDN.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const source = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: source('.'),
  // Relative asset URLs: the built demo works from any directory of a static host.
  base: './',
  resolve: {
    alias: [
      { find: '@latent-langevin/core', replacement: source('../core/src/index.ts') },
      {
        find: '@latent-langevin/finite-difference',
        replacement: source('../../adapters/finite-difference/src/index.ts'),
      },
      { find: '@latent-langevin/onnx/web', replacement: source('../../adapters/onnx/src/web.ts') },
      { find: '@latent-langevin/tfjs', replacement: source('../../adapters/tfjs/src/index.ts') },
    ],
  },
  // onnxruntime-web finds its .wasm next to its own module; pre-bundling in dev would move it.
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
    // The WebAssembly runtime is large by nature (about 25 MB), and so is TensorFlow.js (its
    // chunk, loaded only when chosen, is about 2 MB); neither is a bundling mistake.
    chunkSizeWarningLimit: 4096,
  },
});
