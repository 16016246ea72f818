/**
 * The hook for the TensorFlow.js adapter's throughput rows (tfjs `cpu` and `wasm` backends).
 *
 * The adapter (adapters/tfjs) is being written separately and this package does not depend on
 * it yet, so the source below only reports the rows as not measured. To fill them in: add
 * `@latent-langevin/tfjs` to bench/package.json and bench/tsconfig.json, load each fixture with
 * the adapter on the tfjs backend, and return `samplerThroughput(flow, chains, options,
 * fixture)` for every batch size, as `onnxThroughputSource` does.
 */
import type { ThroughputOptions, ThroughputRow, ThroughputSource } from './throughput.js';

/** The tfjs backends the throughput table has rows for. */
export const TFJS_BACKENDS = ['tfjs/cpu', 'tfjs/wasm'] as const;

/**
 * Throughput rows of the TensorFlow.js adapter. Until the adapter exists, every row is marked
 * not measured, so that the table shows the gap instead of hiding it.
 *
 * @param options the batch sizes and fixtures of the throughput table
 * @returns one row per tfjs backend, fixture and batch size
 * @example
 * ```ts
 * const rows = await tfjsThroughputRows(options);
 * ```
 */
export async function tfjsThroughputRows(options: ThroughputOptions): Promise<ThroughputRow[]> {
  const rows: ThroughputRow[] = [];
  for (const backend of TFJS_BACKENDS) {
    for (const fixture of options.fixtures) {
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
          note: 'not measured: the TensorFlow.js adapter is not wired into the benchmark yet',
        });
      }
    }
  }
  return rows;
}

/** {@link tfjsThroughputRows} as a throughput source for `runBenchmarks()`. */
export const tfjsThroughputSource: ThroughputSource = {
  name: 'tfjs (cpu, wasm)',
  rows: (options) => tfjsThroughputRows(options),
};
