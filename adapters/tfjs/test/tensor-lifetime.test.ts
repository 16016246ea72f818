/**
 * No tensor outlives a call: `tf.memory().numTensors` is the same before and after a thousand
 * sampler steps, for every kind of flow, on the paths that split a batch (`maxBatch`) and pad
 * one (a model with a fixed batch size), and on the wasm backend. Every call runs in `tf.tidy`
 * and its outputs are disposed once read, so a leak would grow by the same count at every step
 * and show in any number of steps; a thousand are what the adapter promises. The split and
 * padded paths run on a graph of a few nodes, as the two-moons graph takes ten times longer a
 * step; the file takes about 25 s of one core.
 */
import './helpers/quiet-greeting.js';
import { couplingFlow2d, init, pullback, tempered } from '@latent-langevin/core';
import { type TfjsFlow, fromGraphModel, fromLayersModel, useBackend } from '@latent-langevin/tfjs';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { mixtureLogDensity } from '../../../test/helpers/mixture.js';
import { tfjsCouplingFlow } from './helpers/coupling-flow.js';
import { smallCouplingGraph } from './helpers/small-coupling-graph.js';
import { loadTwoMoonsGraphModel, twoMoonsLayersModel } from './helpers/two-moons.js';

const STEPS = 1000;
const CHAINS = 4;

afterAll(async () => {
  await useBackend('cpu');
});

interface LifetimeCase {
  readonly name: string;
  readonly backend: 'cpu' | 'wasm';
  readonly create: () => TfjsFlow;
  /** `pullback` runs a forward call, then a VJP, each step; `tempered` a VJP alone. */
  readonly target: 'pullback' | 'tempered';
  readonly preconditioner: 'identity' | 'jacobian';
  /** Global moves add forward-only calls. */
  readonly globalMoveProbability: number;
}

const analytic = couplingFlow2d();

const CASES: readonly LifetimeCase[] = [
  {
    name: 'a function, global moves 0.2',
    backend: 'cpu',
    create: () => tfjsCouplingFlow(analytic.layers, analytic.scaleBound),
    target: 'pullback',
    preconditioner: 'identity',
    globalMoveProbability: 0.2,
  },
  {
    name: 'the two-moons graph model',
    backend: 'cpu',
    create: () => fromGraphModel(loadTwoMoonsGraphModel()),
    target: 'tempered',
    preconditioner: 'identity',
    globalMoveProbability: 0,
  },
  {
    name: 'the two-moons layers model',
    backend: 'cpu',
    create: () => fromLayersModel(twoMoonsLayersModel()),
    target: 'tempered',
    preconditioner: 'identity',
    globalMoveProbability: 0,
  },
  {
    // 4 rows (8 for the jacobian's VJPs) in batches of 3: uneven splits.
    name: 'a graph model split into batches of 3, jacobian preconditioner, global moves 0.2',
    backend: 'cpu',
    create: () => fromGraphModel(smallCouplingGraph(), { maxBatch: 3 }),
    target: 'pullback',
    preconditioner: 'jacobian',
    globalMoveProbability: 0.2,
  },
  {
    // 4 rows in two batches of 3, the second padded with two zero rows.
    name: 'a graph model with a fixed batch of 3, global moves 0.2',
    backend: 'cpu',
    create: () => fromGraphModel(smallCouplingGraph(3)),
    target: 'pullback',
    preconditioner: 'identity',
    globalMoveProbability: 0.2,
  },
  {
    name: 'a graph model split into batches of 3, jacobian preconditioner, global moves 0.2',
    backend: 'wasm',
    create: () => fromGraphModel(smallCouplingGraph(), { maxBatch: 3 }),
    target: 'pullback',
    preconditioner: 'jacobian',
    globalMoveProbability: 0.2,
  },
];

describe('tensor lifetime', () => {
  it.each(CASES)(
    `leaves no tensor behind on $backend after ${STEPS} sampler steps of $name`,
    async ({ backend, create, target, preconditioner, globalMoveProbability }) => {
      await useBackend(backend);
      const start = tf.memory().numTensors;
      const flow = create();
      const sampler = await init(flow, {
        target: target === 'pullback' ? pullback(mixtureLogDensity) : tempered({ beta: 1 }),
        chains: CHAINS,
        warmup: STEPS,
        seed: 2,
        stepSize: 0.2,
        preconditioner,
        globalMoveProbability,
      });
      const before = tf.memory().numTensors;

      for (let t = 0; t < STEPS; t++) await sampler.step();

      expect(sampler.iteration).toBe(STEPS);
      expect(tf.memory().numTensors).toBe(before);
      await flow.dispose();
      expect(tf.memory().numTensors).toBe(start);
    },
  );
});
