/**
 * Throughput rows of the TensorFlow.js adapter on the tfjs `cpu` and `wasm` backends: a fixture's
 * graph model (`fixtures/two-moons-tfjs/` for `two-moons-realnvp`), loaded with
 * `fromGraphModel()` (gradients from `tf.grad`) and timed by the same `samplerThroughput()` as
 * the ONNX rows. A fixture without a tfjs version gets rows marked `no tfjs fixture`.
 */
import { readFileSync } from 'node:fs';
import { type AnyGraphModel, fromGraphModel, useBackend } from '@latent-langevin/tfjs';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { type FixtureName, fixturePath } from './fixtures.js';
import {
  type ThroughputOptions,
  type ThroughputRow,
  type ThroughputSource,
  samplerThroughput,
  warmUpFlow,
} from './throughput.js';

/** The tfjs backends the throughput table has rows for. */
export const TFJS_BACKENDS = ['tfjs/cpu', 'tfjs/wasm'] as const;

/** The directory of the tfjs graph model of each fixture that has one (fixtures/README.md). */
export const TFJS_FIXTURES: ReadonlyMap<FixtureName, string> = new Map([
  ['two-moons-realnvp', 'two-moons-tfjs'],
]);

/**
 * Loads `fixtures/<dir>/model.json` with its `weights.bin` as a graph model, synchronously from
 * memory: plain tfjs reads no files in Node.
 */
function loadGraphModel(dir: string): AnyGraphModel {
  const json = JSON.parse(readFileSync(fixturePath(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  const bin = readFileSync(fixturePath(dir, 'weights.bin'));
  return tf.loadGraphModelSync({
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
    weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
    ...(json.signature === undefined ? {} : { signature: json.signature }),
    format: json.format,
  });
}

/**
 * Throughput rows of the TensorFlow.js adapter: for each tfjs backend and fixture, chain-steps
 * per second at every batch size, or rows marked `no tfjs fixture` (without loading tfjs's
 * backend) when the fixture has no tfjs version in {@link TFJS_FIXTURES}.
 *
 * @param options the batch sizes and fixtures of the throughput table
 * @param onProgress receives one line per measured row
 * @returns one row per tfjs backend, fixture and batch size
 * @throws TfjsFlowError when a backend cannot start or the graph model cannot be loaded
 * @example
 * ```ts
 * const rows = await tfjsThroughputRows(options, console.log);
 * ```
 */
export async function tfjsThroughputRows(
  options: ThroughputOptions,
  onProgress: (line: string) => void = () => undefined,
): Promise<ThroughputRow[]> {
  const rows: ThroughputRow[] = [];
  for (const backend of TFJS_BACKENDS) {
    for (const fixture of options.fixtures) {
      const dir = TFJS_FIXTURES.get(fixture);
      if (dir === undefined) {
        for (const chains of options.chains) {
          rows.push({
            adapter: 'tfjs',
            backend,
            fixture,
            threads: null,
            chains,
            chainStepsPerSecond: null,
            stepMs: null,
            stepsPerRepeat: 0,
            missing: 'no tfjs fixture',
            note: `fixtures/ has no TensorFlow.js version of ${fixture}`,
          });
        }
        continue;
      }

      // tfjs's cpu backend greets Node users on the console at its first use unless PROD is set;
      // only the benchmark's own progress lines should reach the console.
      tf.env().set('PROD', true);
      const name = backend === 'tfjs/cpu' ? 'cpu' : 'wasm';
      await useBackend(name);
      // The cpu backend is plain JavaScript on the main thread; the wasm one has no threads in
      // Node (tfjs-backend-wasm finds no multithread support there), which it reports as 1.
      const threads = name === 'cpu' ? 1 : getThreadsCount();
      const flow = fromGraphModel(loadGraphModel(dir));
      try {
        await warmUpFlow(flow, options.chains, options.flowWarmupMs);
        for (const chains of options.chains) {
          const figure = await samplerThroughput(flow, chains, options, fixture);
          rows.push({
            adapter: 'tfjs',
            backend,
            fixture,
            threads,
            chains,
            ...figure,
            note: `graph model fixtures/${dir}/model.json, gradients from tf.grad`,
          });
          onProgress(
            `throughput tfjs ${backend} ${fixture} ${chains} chains: ` +
              `${figure.chainStepsPerSecond.median.toFixed(0)} chain-steps/s`,
          );
        }
      } finally {
        await flow.dispose();
      }
    }
  }
  return rows;
}

/** {@link tfjsThroughputRows} as a throughput source for `runBenchmarks()`. */
export const tfjsThroughputSource: ThroughputSource = {
  name: 'tfjs (cpu, wasm)',
  rows: (options, onProgress) => tfjsThroughputRows(options, onProgress),
};
