import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      '@latent-langevin/core': src('./packages/core/src/index.ts'),
      '@latent-langevin/finite-difference': src('./adapters/finite-difference/src/index.ts'),
      '@latent-langevin/onnx/web': src('./adapters/onnx/src/web.ts'),
      '@latent-langevin/tfjs': src('./adapters/tfjs/src/index.ts'),
      '@latent-langevin/eval': src('./packages/eval/src/index.ts'),
      '@latent-langevin/bench': src('./bench/src/index.ts'),
      '@latent-langevin/cli': src('./packages/cli/src/index.ts'),
      '@latent-langevin/onnx': src('./adapters/onnx/src/index.ts'),
    },
  },
  test: {
    include: [
      'packages/*/test/**/*.test.ts',
      'adapters/*/test/**/*.test.ts',
      'bench/test/**/*.test.ts',
      'test/**/*.test.ts',
    ],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
