// `npm start`: the main job on a bundled default. It loads the RealNVP trained on two moons
// (fixtures/two-moons-realnvp/model.onnx) with the ONNX adapter and draws from it twice: naive
// sampling, and latent MALA on the pull-back of the closed-form two-moons density, whose draws
// follow the target exactly however imperfect the flow. It prints the run's diagnostics, how
// far each set of draws is from exact draws, and writes a picture of both.
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { naive, pullback, sample, summarize } from '@latent-langevin/core';
import {
  mmdSquared,
  outOfDistributionRate,
  scatterPanels,
  slicedWasserstein2,
  twoMoons,
} from '@latent-langevin/eval';
import { loadOnnxFlow } from '@latent-langevin/onnx';

const root = new URL('../', import.meta.url);
const modelPath = fileURLToPath(new URL('fixtures/two-moons-realnvp/model.onnx', root));
const outDir = fileURLToPath(new URL('out/', root));
const options = { chains: 64, warmup: 500, draws: 500, seed: 42, globalMoveProbability: 0.1 };
const count = options.chains * options.draws;

const moons = twoMoons();
const flow = await loadOnnxFlow(modelPath);
console.log(`latent-langevin: latent MALA on ${modelPath}`);
console.log(
  `flow: d = ${flow.latentDim}, ${flow.executionProvider} execution provider, ` +
    `${flow.gradientSource} gradients (operators: ${flow.operators.join(', ')})`,
);
console.log(
  `target: the two-moons density pulled back through the flow; ${options.chains} chains, ` +
    `${options.warmup} warm-up and ${options.draws} kept iterations, seed ${options.seed}, ` +
    `independence moves with probability ${options.globalMoveProbability}\n`,
);

const started = performance.now();
const run = await sample(flow, { ...options, target: pullback(moons.logDensity), keepX: true });
const seconds = (performance.now() - started) / 1000;
console.log(summarize(run).text);

const baseline = await naive(flow, { count, seed: options.seed });
const exact = moons.sample(count, options.seed + 1);
const exactLogP = moons.logDensity(exact, count).logDensity;
const mala = Float32Array.from(run.x);

// Distances are measured on 4000 draws of each set against 4000 fresh exact draws.
const reference = moons.sample(4000, options.seed + 2);
const thin = (x) => {
  const rows = x.length / 2;
  const out = new Float32Array(8000);
  for (let r = 0; r < 4000; r++) {
    const k = Math.floor((r * rows) / 4000);
    out[2 * r] = x[2 * k];
    out[2 * r + 1] = x[2 * k + 1];
  }
  return out;
};
const row = (name, x) => {
  const logP = moons.logDensity(x, x.length / 2).logDensity;
  const ood = outOfDistributionRate(logP, exactLogP).rate;
  const mmd = mmdSquared(thin(x), reference, { dimension: 2 }).value;
  const sw2 = slicedWasserstein2(thin(x), reference, { dimension: 2, seed: 1 });
  return `  ${name.padEnd(14)} ${(100 * ood).toFixed(2).padStart(6)}%  ${mmd
    .toExponential(2)
    .padStart(10)}  ${sw2.toFixed(4).padStart(8)}`;
};
console.log('\nagainst exact draws of the two-moons density (OOD: share below the 1% level):');
console.log(
  `  ${'draws'.padEnd(14)} ${'OOD'.padStart(7)}  ${'MMD^2'.padStart(10)}  ${'SW2'.padStart(8)}`,
);
console.log(row('exact', exact));
console.log(row('naive f(z)', baseline.x));
console.log(row('latent MALA', mala));

const picture = await scatterPanels({
  panels: [
    { title: 'two-moons density', logDensity: (x, n) => moons.logDensity(x, n).logDensity },
    { title: 'naive f(z), 4000 of the draws', points: thin(baseline.x) },
    { title: 'latent MALA, 4000 of the draws', points: thin(mala) },
  ],
  limits: moons.extent,
  width: 260,
  maxPoints: 4000,
  title: 'RealNVP trained on two moons: naive draws against latent MALA',
});
await mkdir(outDir, { recursive: true });
const picturePath = `${outDir}start-two-moons.png`;
await writeFile(picturePath, picture.png);
await flow.dispose();
console.log(
  `\n${options.chains * (options.warmup + options.draws)} chain-steps in ${seconds.toFixed(1)} s.` +
    ` Picture: ${picturePath}`,
);
