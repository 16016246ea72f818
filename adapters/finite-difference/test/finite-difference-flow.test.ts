import { describe, expect, it, vi } from 'vitest';

import {
  affineFlow,
  couplingFlow2d,
  createStreams,
  InvalidArgumentError,
  InvalidFlowError,
  pullback,
  sample,
  summarize,
  tempered,
} from '@latent-langevin/core';
import type { FlowOutputs } from '@latent-langevin/core';
import {
  DEFAULT_MAX_BATCH,
  DEFAULT_RELATIVE_STEP,
  finiteDifferenceFlow,
} from '@latent-langevin/finite-difference';
import type { ForwardFunction } from '@latent-langevin/finite-difference';

const SEED = 8128;

function normals(count: number, scale: number, stream: number): Float32Array {
  const [random] = createStreams(SEED, 1, stream);
  return Float32Array.from({ length: count }, () => scale * random.normal());
}

/** Wraps a forward map so that the test can count its calls and rows. */
function counted(forward: ForwardFunction) {
  const calls: number[] = [];
  const wrapped: ForwardFunction = (z, rows) => {
    calls.push(rows);
    return forward(z, rows);
  };
  return { wrapped, calls };
}

/**
 * Largest error relative to `max(1, |exact|)`. Float32 central differences with the default
 * step reach about 1e-4 on the coupling flow: rounding `2^-24 |x| / h` plus truncation `h^2 f'''`.
 */
function maxRelativeError(actual: ArrayLike<number>, exact: ArrayLike<number>): number {
  let worst = 0;
  for (let k = 0; k < exact.length; k++) {
    const error = Math.abs(actual[k] - exact[k]) / Math.max(1, Math.abs(exact[k]));
    worst = Math.max(worst, error);
  }
  return worst;
}

const TOLERANCE = 1e-3;
const N = 64; // points; the coupling flow at 1.5 N(0, I) covers its curved region

describe('finiteDifferenceFlow', () => {
  const exact = couplingFlow2d();
  const flow = finiteDifferenceFlow(exact.forward, { latentDim: 2 });
  const z = normals(2 * N, 1.5, 0);
  const cx = normals(2 * N, 1, 1);
  const cl = normals(N, 1, 2);

  it('declares finite-difference gradients and its settings', () => {
    expect(flow.gradient).toBe('finite-difference');
    expect(flow.latentDim).toBe(2);
    expect(flow.dataShape).toEqual([2]);
    expect(flow.maxBatch).toBe(DEFAULT_MAX_BATCH);
    expect(flow.relativeStep).toBeCloseTo(Math.cbrt(2 ** -23), 12);
  });

  it(`matches the exact VJP of the coupling flow within ${TOLERANCE} relative`, async () => {
    const approx = await flow.vjp(z, N, { x: cx, logDet: cl });
    const reference = exact.float64.vjp(z, N, { x: cx, logDet: cl });
    expect(maxRelativeError(approx.z, reference.z)).toBeLessThan(TOLERANCE);
  });

  it('matches the exact VJP for a logDet cotangent alone and an x one alone', async () => {
    const onlyLogDet = await flow.vjp(z, N, { logDet: cl });
    expect(maxRelativeError(onlyLogDet.z, exact.float64.vjp(z, N, { logDet: cl }).z)).toBeLessThan(
      TOLERANCE,
    );
    const onlyX = await flow.vjp(z, N, { x: cx });
    expect(maxRelativeError(onlyX.z, exact.float64.vjp(z, N, { x: cx }).z)).toBeLessThan(TOLERANCE);
  });

  it('returns the forward outputs of the unperturbed rows from vjp and jacobian', async () => {
    const reference = await exact.forward(z, N);
    const approx = await flow.vjp(z, N, { x: cx });
    expect(approx.x).toEqual(reference.x);
    expect(approx.logDet).toEqual(reference.logDet);
    const withJacobian = await flow.jacobian(z, N);
    expect(withJacobian.x).toEqual(reference.x);
    expect(withJacobian.logDet).toEqual(reference.logDet);
  });

  it(`matches the exact Jacobian [n, D, d] within ${TOLERANCE} relative`, async () => {
    const { jacobian } = await flow.jacobian(z, N);
    expect(jacobian).toHaveLength(N * 2 * 2);
    expect(maxRelativeError(jacobian, exact.float64.jacobian(z, N).jacobian)).toBeLessThan(
      TOLERANCE,
    );
  });

  it('is more accurate with the default step than with one 30 times off', async () => {
    const reference = exact.float64.vjp(z, N, { x: cx, logDet: cl }).z;
    const errorWith = async (relativeStep: number) => {
      const other = finiteDifferenceFlow(exact.forward, { latentDim: 2, relativeStep });
      return maxRelativeError((await other.vjp(z, N, { x: cx, logDet: cl })).z, reference);
    };
    const best = await errorWith(DEFAULT_RELATIVE_STEP);
    expect(best).toBeLessThan(await errorWith(DEFAULT_RELATIVE_STEP / 30));
    expect(best).toBeLessThan(await errorWith(DEFAULT_RELATIVE_STEP * 30));
  });

  it('passes forward through unchanged', async () => {
    expect(await flow.forward(z, N)).toEqual(await exact.forward(z, N));
  });

  it('handles shaped data [2, 3] and returns the Jacobian of an affine map', async () => {
    const scale = [2, -0.5, 3, 1, 0.25, -4];
    const affine = affineFlow({ scale, shift: [1, 2, 3, 4, 5, 6] });
    const shaped = finiteDifferenceFlow(affine.forward, { latentDim: 6, dataShape: [2, 3] });
    const points = normals(6 * 4, 2, 3);
    const { jacobian } = await shaped.jacobian(points, 4);
    const expected = new Float64Array(4 * 36);
    for (let i = 0; i < 4; i++) for (let a = 0; a < 6; a++) expected[i * 36 + a * 7] = scale[a];
    expect(maxRelativeError(jacobian, expected)).toBeLessThan(1e-4);
  });
});

describe('finiteDifferenceFlow batching', () => {
  const exact = couplingFlow2d({ seed: 5 });
  const n = 7;
  const z = normals(2 * n, 1.5, 4);
  const cotangent = { x: normals(2 * n, 1, 5), logDet: normals(n, 1, 6) };

  it.each([1, 2, 4, 5, 6, 34, 35, 36])(
    'gives bit-identical VJPs and Jacobians with maxBatch %i as in one call',
    async (maxBatch) => {
      const whole = finiteDifferenceFlow(exact.forward, { latentDim: 2, maxBatch: 1000 });
      const chunked = finiteDifferenceFlow(exact.forward, { latentDim: 2, maxBatch });
      expect(await chunked.vjp(z, n, cotangent)).toEqual(await whole.vjp(z, n, cotangent));
      expect(await chunked.jacobian(z, n)).toEqual(await whole.jacobian(z, n));
      expect(await chunked.forward(z, n)).toEqual(await whole.forward(z, n));
    },
  );

  it.each([
    [1, 1],
    [7, 1],
    [7, 4],
    [7, 35],
    [7, 4096],
    [100, 64],
  ])(
    'calls the model ceil((2d + 1) n / maxBatch) times for n = %i, maxBatch = %i',
    async (points, maxBatch) => {
      const { wrapped, calls } = counted(exact.forward);
      const counting = finiteDifferenceFlow(wrapped, { latentDim: 2, maxBatch });
      const batch = normals(2 * points, 1, 7);
      await counting.vjp(batch, points, { logDet: new Float32Array(points).fill(1) });
      expect(calls).toHaveLength(Math.ceil((5 * points) / maxBatch));
      expect(calls.reduce((sum, rows) => sum + rows, 0)).toBe(5 * points);
      expect(Math.max(...calls)).toBeLessThanOrEqual(maxBatch);

      calls.length = 0;
      await counting.jacobian(batch, points);
      expect(calls.reduce((sum, rows) => sum + rows, 0)).toBe(5 * points);

      calls.length = 0;
      await counting.forward(batch, points);
      expect(calls).toHaveLength(Math.ceil(points / maxBatch));
    },
  );

  it('sends 2d perturbed rows plus the point itself per row, in d = 5', async () => {
    const affine = affineFlow({ scale: [1, 2, 3, 4, 5] });
    const { wrapped, calls } = counted(affine.forward);
    await finiteDifferenceFlow(wrapped, { latentDim: 5 }).vjp(new Float32Array(15), 3, {});
    expect(calls).toEqual([(2 * 5 + 1) * 3]);
  });

  it('gives a row the same gradient alone, in a batch and on a second call', async () => {
    const fd = finiteDifferenceFlow(exact.forward, { latentDim: 2, maxBatch: 3 });
    const all = await fd.vjp(z, n, cotangent);
    expect(await fd.vjp(z, n, cotangent)).toEqual(all);
    const alone = await fd.vjp(z.slice(6, 8), 1, {
      x: cotangent.x.slice(6, 8),
      logDet: cotangent.logDet.slice(3, 4),
    });
    expect(alone.z).toEqual(all.z.slice(6, 8));
  });

  it('copies perturbed outputs, so a model may reuse its output buffers', async () => {
    let buffer: FlowOutputs | undefined;
    const reusing: ForwardFunction = async (input, rows) => {
      const out = await exact.forward(input, rows);
      if (buffer === undefined || buffer.x.length !== out.x.length) {
        buffer = { x: new Float32Array(out.x.length), logDet: new Float32Array(rows) };
      }
      buffer.x.set(out.x);
      buffer.logDet.set(out.logDet);
      return buffer;
    };
    const fd = finiteDifferenceFlow(reusing, { latentDim: 2, maxBatch: 4 });
    const fresh = finiteDifferenceFlow(exact.forward, { latentDim: 2, maxBatch: 4 });
    expect(await fd.vjp(z, n, cotangent)).toEqual(await fresh.vjp(z, n, cotangent));
  });
});

describe('finiteDifferenceFlow validation', () => {
  const exact = couplingFlow2d();
  const forward = exact.forward;

  it.each([
    ['forward is not a function', null, { latentDim: 2 }, /forward is null; expected a function/],
    ['options are missing', forward, undefined, /options is undefined; expected an object/],
    ['latentDim is 0', forward, { latentDim: 0 }, /options\.latentDim is 0; expected a positive/],
    ['latentDim is 2.5', forward, { latentDim: 2.5 }, /options\.latentDim is 2\.5/],
    ['maxBatch is 0', forward, { latentDim: 2, maxBatch: 0 }, /options\.maxBatch is 0/],
    [
      'relativeStep is 0',
      forward,
      { latentDim: 2, relativeStep: 0 },
      /options\.relativeStep is 0; expected a number in \[0\.000001, 0\.5\]/,
    ],
    [
      'dataShape has the wrong size',
      forward,
      { latentDim: 2, dataShape: [1, 3] },
      /options\.dataShape is \[1, 3\], of size 3; expected size latentDim = 2/,
    ],
    [
      'dataShape is not integers',
      forward,
      { latentDim: 2, dataShape: [2.5] },
      /options\.dataShape is an array of length 1; expected an array of positive integers/,
    ],
    ['dispose is not a function', forward, { latentDim: 2, dispose: 1 }, /options\.dispose is 1/],
    [
      'an option is misspelt',
      forward,
      { latentDim: 2, maxbatch: 4 },
      /options\.maxbatch is not an option; did you mean 'maxBatch'\?/,
    ],
  ])('throws InvalidArgumentError when %s', (_case, fn, options, message) => {
    const make = () =>
      finiteDifferenceFlow(fn as ForwardFunction, options as { latentDim: number });
    expect(make).toThrow(InvalidArgumentError);
    expect(make).toThrow(message);
  });

  it('lists every invalid option in one error', () => {
    try {
      finiteDifferenceFlow(forward, { latentDim: -1, maxBatch: 0.5, relativeStep: 2 });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).issues).toHaveLength(3);
    }
  });

  const flow = finiteDifferenceFlow(forward, { latentDim: 2 });

  it.each([
    ['n is 0', new Float32Array(4), 0, /n is 0; expected a positive integer/],
    ['z is one value short', new Float32Array(3), 2, /z is Float32Array\(3\); expected .* = 4/],
    ['z is a Float64Array', new Float64Array(4), 2, /z is Float64Array\(4\)/],
  ])('rejects a batch when %s', async (_case, batch, n, message) => {
    const z = batch as Float32Array;
    await expect(flow.forward(z, n)).rejects.toThrow(message);
    await expect(flow.vjp(z, n, {})).rejects.toThrow(InvalidArgumentError);
    await expect(flow.jacobian(z, n)).rejects.toThrow(/jacobian\(\): /);
  });

  it('rejects cotangents of the wrong length', async () => {
    const z = new Float32Array(4);
    await expect(flow.vjp(z, 2, { x: new Float32Array(3) })).rejects.toThrow(
      /cotangent\.x is Float32Array\(3\); expected 4 numbers/,
    );
    await expect(flow.vjp(z, 2, { logDet: new Float32Array(1) })).rejects.toThrow(
      /cotangent\.logDet is Float32Array\(1\); expected 2 numbers/,
    );
  });

  it('throws InvalidFlowError naming the lengths a wrong forward returned', async () => {
    const short: ForwardFunction = async (z, rows) => ({
      x: new Float32Array(2 * rows - 1),
      logDet: new Float32Array(rows + 1),
    });
    const broken = finiteDifferenceFlow(short, { latentDim: 2, maxBatch: 10 });
    const promise = broken.vjp(new Float32Array(4), 2, {});
    await expect(promise).rejects.toThrow(InvalidFlowError);
    await expect(broken.vjp(new Float32Array(4), 2, {})).rejects.toThrow(
      /returned x = Float32Array\(19\) for a batch of 10 rows; expected 20 numbers, \[10, 2\]/,
    );
    await expect(broken.forward(new Float32Array(4), 2)).rejects.toThrow(
      /returned logDet = Float32Array\(3\) for a batch of 2 rows; expected 2 numbers/,
    );
  });

  it('throws InvalidFlowError when the wrapped forward returns no object', async () => {
    const empty = finiteDifferenceFlow((() => undefined) as unknown as ForwardFunction, {
      latentDim: 2,
    });
    await expect(empty.forward(new Float32Array(2), 1)).rejects.toThrow(
      /returned undefined for a batch of 1 rows; expected \{ x, logDet \}/,
    );
  });

  it('calls options.dispose once and rejects calls after dispose', async () => {
    const dispose = vi.fn();
    const owned = finiteDifferenceFlow(forward, { latentDim: 2, dispose });
    await owned.dispose();
    await owned.dispose();
    expect(dispose).toHaveBeenCalledTimes(1);
    await expect(owned.forward(new Float32Array(2), 1)).rejects.toThrow(/was disposed/);
  });
});

describe('finiteDifferenceFlow in sample()', () => {
  const exact = couplingFlow2d({ seed: 2 });
  const gaussian = pullback((x, n) => {
    const logDensity = new Float64Array(n);
    for (let i = 0; i < n; i++) logDensity[i] = -0.5 * (x[2 * i] ** 2 + x[2 * i + 1] ** 2);
    return { logDensity };
  });
  const options = { chains: 3, warmup: 10, draws: 10, seed: 4 };

  it.each([
    { target: 'tempered', make: () => tempered({ beta: 1 }), preconditioner: 'identity' },
    { target: 'pullback', make: () => gaussian, preconditioner: 'identity' },
    { target: 'tempered', make: () => tempered({ beta: 1 }), preconditioner: 'jacobian' },
  ] as const)(
    'counts as flow rows exactly the rows the model evaluated ($target, $preconditioner)',
    async ({ make, preconditioner }) => {
      const { wrapped, calls } = counted(exact.forward);
      const flow = finiteDifferenceFlow(wrapped, { latentDim: 2 });
      const run = await sample(flow, { ...options, target: make(), preconditioner });
      const { warmup, sampling } = run.counters;
      expect(warmup.flowRows + sampling.flowRows).toBe(calls.reduce((sum, n) => sum + n, 0));
    },
  );

  it('reports ESS per flow row as ESS per gradient over the 2d + 1 rows of a VJP', async () => {
    // tempered with the identity preconditioner: every model call is a VJP.
    const flow = finiteDifferenceFlow(exact.forward, { latentDim: 2 });
    const summary = summarize(await sample(flow, { ...options, target: tempered({ beta: 1 }) }));
    expect(summary.essPerFlowEvaluation * 5).toBeCloseTo(summary.essPerGradient, 12);
  });
});
