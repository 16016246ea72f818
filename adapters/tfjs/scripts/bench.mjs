/**
 * MALA steps per second on the two-moons RealNVP at batch 256: the tfjs adapter's graph model
 * (fixtures/two-moons-tfjs/model.json) on the cpu and wasm backends, against the ONNX adapter on
 * the same flow (fixtures/two-moons-realnvp/model.onnx, onnxruntime-node, cpu). Each run times
 * `steps` sampler steps (tempered target, beta = 1, fixed step size: one VJP of the whole batch a
 * step) after `warmup` untimed ones; the table gives the median of `runs` runs.
 *
 * Usage, after `npm run build`: node adapters/tfjs/scripts/bench.mjs [--batch 256] [--runs 5]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { init, tempered } from '@latent-langevin/core';
import { loadOnnxFlow } from '@latent-langevin/onnx';
import { fromGraphModel, useBackend } from '@latent-langevin/tfjs';
import * as tf from '@tensorflow/tfjs';

const FIXTURES = fileURLToPath(new URL('../../../fixtures/', import.meta.url));

/** The two-moons graph model, read from the fixture directory into memory. */
function loadGraphModel() {
  const dir = `${FIXTURES}two-moons-tfjs/`;
  const json = JSON.parse(readFileSync(`${dir}model.json`, 'utf8'));
  const bin = readFileSync(`${dir}weights.bin`);
  return tf.loadGraphModelSync({
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
    weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
    signature: json.signature,
    format: json.format,
  });
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/** Steps per second of `runs` runs of `steps` sampler steps on `flow`, after `warmup` steps. */
async function measure(flow, { batch, runs, steps, warmup }) {
  const sampler = await init(flow, {
    target: tempered({ beta: 1 }),
    chains: batch,
    warmup: 0,
    stepSize: 0.3,
    seed: 1,
  });
  for (let t = 0; t < warmup; t++) await sampler.step();
  const rates = [];
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    for (let t = 0; t < steps; t++) await sampler.step();
    rates.push((1000 * steps) / (performance.now() - started));
  }
  return rates;
}

/**
 * Runs the benchmark and returns its rows.
 *
 * @param options.batch chains advanced together, default 256
 * @param options.runs timed runs per engine, default 5
 * @param options.steps sampler steps per timed run, default 10
 * @param options.warmup untimed steps before the runs, default 3
 * @returns one row per engine: `{ engine, backend, median, min, max }` in steps per second
 */
export async function benchmark({ batch = 256, runs = 5, steps = 10, warmup = 3 } = {}) {
  const settings = { batch, runs, steps, warmup };
  const rows = [];

  const onnx = await loadOnnxFlow(`${FIXTURES}two-moons-realnvp/model.onnx`);
  const onnxRates = await measure(onnx, settings);
  rows.push({
    engine: '@latent-langevin/onnx (model.onnx)',
    backend: 'onnxruntime-node cpu',
    rates: onnxRates,
  });
  await onnx.dispose();

  for (const backend of ['cpu', 'wasm']) {
    await useBackend(backend);
    const flow = fromGraphModel(loadGraphModel());
    rows.push({
      engine: '@latent-langevin/tfjs (graph model)',
      backend: `tfjs ${flow.backend}`,
      rates: await measure(flow, settings),
    });
    await flow.dispose();
  }
  return rows.map(({ engine, backend, rates }) => ({
    engine,
    backend,
    median: median(rates),
    min: Math.min(...rates),
    max: Math.max(...rates),
  }));
}

/** The rows as a Markdown table. */
export function markdown(rows, { batch = 256, runs = 5 } = {}) {
  const fixed = (v) => v.toFixed(v < 10 ? 2 : 1);
  return [
    `MALA steps per second, two-moons RealNVP, batch ${batch}, median of ${runs} runs:`,
    '',
    '| engine | backend | steps/s (median) | min | max | ms per step |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.engine} | ${r.backend} | ${fixed(r.median)} | ${fixed(r.min)} | ${fixed(r.max)} | ` +
        `${(1000 / r.median).toFixed(1)} |`,
    ),
    '',
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const flag = (name, fallback) => {
    const at = process.argv.indexOf(`--${name}`);
    return at > 0 ? Number(process.argv[at + 1]) : fallback;
  };
  const options = { batch: flag('batch', 256), runs: flag('runs', 5), steps: flag('steps', 10) };
  // tfjs greets Node users on the console at first use; keep the table clean.
  tf.env().set('PROD', true);
  const rows = await benchmark(options);
  process.stdout.write(markdown(rows, options));
}
