/**
 * `npm run bench`: runs the benchmarks and writes RESULTS.json and RESULTS.md. The only module
 * of the package that writes to the console: one progress line per figure.
 *
 *     node bench/dist/main.js [--size tiny|default] [--out DIR] [--threads N]
 *                             [--wasm-threads N] [--python PATH] [--no-race]
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type BenchSize, benchmarkConfig } from './config.js';
import { BenchError } from './errors.js';
import { repositoryRoot } from './machine.js';
import { runBenchmarks, writeResults } from './run-benchmarks.js';

function positiveInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) {
    throw new BenchError(
      'INVALID_OPTION',
      `bench: --${name} must be an integer >= 1; received '${value}'. Pass e.g. --${name} 2.`,
    );
  }
  return parsed;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      size: { type: 'string', default: 'default' },
      out: { type: 'string' },
      threads: { type: 'string' },
      'wasm-threads': { type: 'string' },
      python: { type: 'string' },
      'no-race': { type: 'boolean', default: false },
    },
  });
  if (values.size !== 'tiny' && values.size !== 'default') {
    throw new BenchError(
      'INVALID_OPTION',
      `bench: --size must be 'tiny' or 'default'; received '${values.size}'.`,
    );
  }
  const size: BenchSize = values.size;
  const base = benchmarkConfig(size);
  const config = benchmarkConfig(size, {
    threads: positiveInteger('threads', values.threads, base.threads),
    wasmThreads: positiveInteger('wasm-threads', values['wasm-threads'], base.wasmThreads),
    race: {
      ...base.race,
      enabled: !values['no-race'],
      python: values.python ?? base.race.python,
    },
  });
  const out = values.out === undefined ? join(repositoryRoot(), 'bench') : resolve(values.out);

  const started = performance.now();
  console.log(`bench: size ${size}, ${config.threads} threads, writing to ${out}`);
  const results = await runBenchmarks(config, {
    onProgress: (line) => {
      const seconds = ((performance.now() - started) / 1000).toFixed(0).padStart(4);
      console.log(`[${seconds} s] ${line}`);
    },
  });
  const written = await writeResults(results, out);
  console.log(`bench: wrote ${written.json} and ${written.markdown}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
