/**
 * The parity table: the two-moons RealNVP in TensorFlow.js (graph model, graph model with fused
 * Tanh, layers model, plain function) against the ONNX adapter on `model.onnx` and against the
 * values PyTorch recorded (outputs of the float32 model; VJPs by float64 autograd), on every
 * backend tfjs has in Node (cpu, wasm).
 *
 * Tolerances are the ONNX adapter's: outputs within 1e-5 of the output's scale; VJPs within 1e-5
 * of the ONNX adapter's (relative to their scale) and 1e-4 relative L2 of autograd's.
 */
import './helpers/quiet-greeting.js';
import { RandomStream, sample, streamState, tempered } from '@latent-langevin/core';
import { type OnnxFlow, loadOnnxFlow } from '@latent-langevin/onnx';
import {
  type TfjsFlow,
  fromFunction,
  fromGraphModel,
  fromLayersModel,
  useBackend,
} from '@latent-langevin/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FIXTURES,
  loadTwoMoonsGraphModel,
  maxRelative,
  reference,
  relativeL2,
  twoMoonsFunction,
  twoMoonsLayersModel,
} from './helpers/two-moons.js';

const BACKENDS = ['cpu', 'wasm'] as const;

/** How each version of the flow is built. */
const MODELS: { name: string; create: () => TfjsFlow }[] = [
  { name: 'graph model', create: () => fromGraphModel(loadTwoMoonsGraphModel()) },
  {
    name: 'graph model with fused Tanh',
    create: () => fromGraphModel(loadTwoMoonsGraphModel('model-fused-tanh.json')),
  },
  { name: 'layers model', create: () => fromLayersModel(twoMoonsLayersModel()) },
  {
    name: 'function',
    create: () => {
      const { fn, dispose } = twoMoonsFunction();
      return fromFunction(fn, { latentDim: 2, dispose });
    },
  },
];

const n = reference.n;
const z = Float32Array.from(reference.z);
const cotangent = {
  x: Float32Array.from(reference.cotangentX),
  logDet: Float32Array.from(reference.cotangentLogDet),
};

// A larger batch, seeded, for a closer comparison with the ONNX adapter.
const wide = 256;
const random = new RandomStream(streamState(17, 0));
const zWide = Float32Array.from({ length: 2 * wide }, () => 1.5 * random.normal());
const cotangentWide = {
  x: Float32Array.from({ length: 2 * wide }, () => random.normal()),
  logDet: Float32Array.from({ length: wide }, () => random.normal()),
};

let onnx: OnnxFlow;
let onnxSmall: Awaited<ReturnType<OnnxFlow['vjp']>>;
let onnxWide: Awaited<ReturnType<OnnxFlow['vjp']>>;

beforeAll(async () => {
  onnx = await loadOnnxFlow(`${FIXTURES}two-moons-realnvp/model.onnx`);
  onnxSmall = await onnx.vjp(z, n, cotangent);
  onnxWide = await onnx.vjp(zWide, wide, cotangentWide);
});
afterAll(async () => {
  await onnx.dispose();
  await useBackend('cpu');
});

describe.each(BACKENDS)('the tfjs adapter on %s', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  describe.each(MODELS)('$name', ({ create }) => {
    let flow: TfjsFlow;
    beforeAll(() => {
      flow = create();
    });
    afterAll(async () => {
      await flow.dispose();
    });

    it('reads latentDim and dataShape and reports the backend', () => {
      expect(flow.latentDim).toBe(2);
      expect(flow.dataShape).toEqual([2]);
      expect(flow.gradient).toBe('exact');
      expect(flow.backend).toBe(backend);
    });

    it('matches PyTorch outputs within 1e-5 and autograd VJPs within 1e-4 relative', async () => {
      const out = await flow.vjp(z, n, cotangent);
      expect(maxRelative(out.x, reference.x32)).toBeLessThan(1e-5);
      expect(maxRelative(out.logDet, reference.logDet32)).toBeLessThan(1e-5);
      expect(relativeL2(out.z, reference.vjp)).toBeLessThan(1e-4);
      const forward = await flow.forward(z, n);
      expect(maxRelative(forward.x, reference.x32)).toBeLessThan(1e-5);
      expect(maxRelative(forward.logDet, reference.logDet32)).toBeLessThan(1e-5);
    });

    it('matches the ONNX adapter within 1e-5 on x, logDet and the VJP', async () => {
      for (const [zs, rows, cot, expected] of [
        [z, n, cotangent, onnxSmall],
        [zWide, wide, cotangentWide, onnxWide],
      ] as const) {
        const out = await flow.vjp(zs, rows, cot);
        expect(maxRelative(out.x, expected.x)).toBeLessThan(1e-5);
        expect(maxRelative(out.logDet, expected.logDet)).toBeLessThan(1e-5);
        expect(maxRelative(out.z, expected.z)).toBeLessThan(1e-5);
      }
    });

    it('runs latent MALA end to end through sample()', async () => {
      const run = await sample(flow, {
        target: tempered({ beta: 1 }),
        chains: 8,
        warmup: 20,
        draws: 10,
        seed: 1,
      });
      expect(run.z.every((v) => Number.isFinite(v))).toBe(true);
      const accepted = run.counters.sampling.localAccepted.reduce((s, v) => s + v, 0);
      expect(accepted).toBeGreaterThan(0);
    });
  });
});
