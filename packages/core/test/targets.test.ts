import { describe, expect, it } from 'vitest';

import {
  InvalidArgumentError,
  InvalidFlowError,
  TargetScratch,
  base,
  createStreams,
  custom,
  describeValue,
  logStandardNormal,
  pullback,
  tempered,
} from '@latent-langevin/core';
import type {
  CustomLogDensity,
  DataLogDensity,
  DifferentiableFlow,
  LatentTarget,
} from '@latent-langevin/core';

import { affineFlow, couplingFlow2d } from '../src/analytic-flows.js';
import type { AnalyticFlow } from '../src/analytic-flows.js';

/*
 * Tolerances. The flows compute in float64 and round their outputs to float32, so a target's
 * log pi and gradient carry relative errors of about 1e-7 (at most 1.4e-7 measured); against
 * float64 references they are held to 1e-6 relative (floor 1). Central differences of a target's
 * own float32 log pi with step h = 1e-2 carry a truncation error h^2 f''' / 6, up to 1.2e-3 at
 * these points, so steps h and h / 2 are combined by Richardson extrapolation, which leaves a
 * truncation error of order h^4 and a rounding error of about 1e-5; they are held to 1e-3
 * relative (floor 1).
 */
const FLOAT64_TOLERANCE = 1e-6;
const FLOAT32_FD_TOLERANCE = 1e-3;
const FLOAT64_FD_STEP = 1e-5;
const FLOAT32_FD_STEP = 1e-2;
const N_POINTS = 8;

/** The data-space density of the tests: Gaussian with a cosine ripple, per coordinate j. */
function dataMean(j: number): number {
  return 0.3 * j - 0.2;
}
function dataScale(j: number): number {
  return 1 + 0.25 * j;
}

/** log p_X(x) = sum_j -((x_j - m_j) / s_j)^2 / 2 + 0.2 cos(x_j), and its gradient, per row. */
function dataDensity(x: ArrayLike<number>, n: number) {
  const size = x.length / n;
  const logDensity = new Float64Array(n);
  const gradient = new Float64Array(x.length);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < size; j++) {
      const value = x[i * size + j];
      const u = (value - dataMean(j)) / dataScale(j);
      logDensity[i] += -0.5 * u * u + 0.2 * Math.cos(value);
      gradient[i * size + j] = -u / dataScale(j) - 0.2 * Math.sin(value);
    }
  }
  return { logDensity, gradient };
}

const densityWithGradient: DataLogDensity = (x, n) => dataDensity(x, n);
const densityWithoutGradient: DataLogDensity = (x, n) => ({
  logDensity: dataDensity(x, n).logDensity,
});

/** tempered({ beta: 1 }) written by hand as a custom target. */
const customTemperedOne: CustomLogDensity = (z, _x, logDet, n) => {
  const d = z.length / n;
  const logPi = new Float64Array(n);
  for (let i = 0; i < n; i++) logPi[i] = logStandardNormal(z, i, d) - logDet[i];
  return {
    logPi,
    gradZ: Float64Array.from(z, (v) => -v),
    gradLogDet: new Float64Array(n).fill(-1),
  };
};

/** log pi = 0.5 log q_Z(z) + 0.5 logDet + log p_X(x): every partial gradient is used. */
const customMixed: CustomLogDensity = (z, x, logDet, n) => {
  const d = z.length / n;
  const density = dataDensity(x, n);
  const logPi = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    logPi[i] = 0.5 * logStandardNormal(z, i, d) + 0.5 * logDet[i] + density.logDensity[i];
  }
  return {
    logPi,
    gradZ: Float64Array.from(z, (v) => -0.5 * v),
    gradX: density.gradient,
    gradLogDet: new Float64Array(n).fill(0.5),
  };
};

interface TargetCase {
  readonly name: string;
  readonly make: () => LatentTarget;
  /** log pi in float64 from the unrounded flow outputs at the rows of `z`. */
  readonly reference: (
    z: Float64Array,
    x: Float64Array,
    logDet: Float64Array,
    n: number,
  ) => number[];
}

/** The reference `a log q_Z(z) + b logDet(z) + c log p_X(f(z))` every target is a case of. */
function referenceOf(a: number, b: number, c: number): TargetCase['reference'] {
  return (z, x, logDet, n) => {
    const d = z.length / n;
    const density = c === 0 ? null : dataDensity(x, n).logDensity;
    return Array.from(
      { length: n },
      (_, i) => a * logStandardNormal(z, i, d) + b * logDet[i] + c * (density?.[i] ?? 0),
    );
  };
}

const TARGETS: TargetCase[] = [
  { name: 'base()', make: () => base(), reference: referenceOf(1, 0, 0) },
  {
    name: 'tempered(0.5)',
    make: () => tempered({ beta: 0.5 }),
    reference: referenceOf(1, -0.5, 0),
  },
  { name: 'tempered(1)', make: () => tempered({ beta: 1 }), reference: referenceOf(1, -1, 0) },
  {
    name: 'pullback with a data gradient',
    make: () => pullback(densityWithGradient),
    reference: referenceOf(0, 1, 1),
  },
  {
    name: 'pullback without a data gradient',
    make: () => pullback(densityWithoutGradient),
    reference: referenceOf(0, 1, 1),
  },
  {
    name: 'custom as tempered(1)',
    make: () => custom(customTemperedOne),
    reference: referenceOf(1, -1, 0),
  },
  {
    name: 'custom with every partial',
    make: () => custom(customMixed),
    reference: referenceOf(0.5, 0.5, 1),
  },
];

interface FlowCase {
  readonly name: string;
  readonly make: () => AnalyticFlow;
}

const FLOWS: FlowCase[] = [
  {
    name: 'affineFlow (d = 3, one negative scale)',
    make: () => affineFlow({ scale: [2, -0.5, 1.5], shift: [1, -1, 0.25] }),
  },
  { name: 'couplingFlow2d (seed 3)', make: () => couplingFlow2d({ seed: 3 }) },
];

/** `N_POINTS` latent rows: the origin, then normals of scale 1.5 from a fixed stream. */
function latentPoints(d: number): Float32Array {
  const [random] = createStreams(404, 1);
  const z = new Float32Array(N_POINTS * d);
  for (let k = d; k < z.length; k++) z[k] = 1.5 * random.normal();
  return z;
}

async function evaluate(
  target: LatentTarget,
  flow: DifferentiableFlow,
  z: Float32Array,
  n: number,
  withGradient = true,
) {
  const out = {
    logPi: new Float64Array(n),
    grad: withGradient ? new Float64Array(z.length) : null,
  };
  const result = await target.evaluate(flow, z, n, out);
  return { ...out, result };
}

function expectClose(actual: number, expected: number, tolerance: number, what: string): void {
  expect(Math.abs(actual - expected), what).toBeLessThanOrEqual(
    tolerance * Math.max(1, Math.abs(expected)),
  );
}

describe.each(FLOWS)('latent targets on $name', ({ make: makeFlow }) => {
  const flow = makeFlow();
  const d = flow.latentDim;
  const z = latentPoints(d);
  const z64 = Float64Array.from(z);

  /** The float64 reference log pi at the rows of a float64 batch. */
  const referenceLogPi = (target: TargetCase, at: Float64Array): number[] => {
    const { x, logDet } = flow.float64.forward(at, N_POINTS);
    return target.reference(at, x, logDet, N_POINTS);
  };

  it.each(TARGETS)(
    'writes log pi equal to the float64 reference when the target is $name',
    async (target) => {
      const { logPi } = await evaluate(target.make(), flow, z, N_POINTS);
      const expected = referenceLogPi(target, z64);
      for (let i = 0; i < N_POINTS; i++)
        expectClose(logPi[i], expected[i], FLOAT64_TOLERANCE, `row ${i}`);
    },
  );

  it.each(TARGETS)(
    'writes a gradient matching float64 central differences of log pi when the target is $name',
    async (target) => {
      const { grad } = await evaluate(target.make(), flow, z, N_POINTS);
      for (let k = 0; k < z.length; k++) {
        const plus = Float64Array.from(z64);
        const minus = Float64Array.from(z64);
        plus[k] += FLOAT64_FD_STEP;
        minus[k] -= FLOAT64_FD_STEP;
        const row = Math.floor(k / d);
        const fd =
          (referenceLogPi(target, plus)[row] - referenceLogPi(target, minus)[row]) /
          (2 * FLOAT64_FD_STEP);
        expectClose(grad![k], fd, FLOAT64_TOLERANCE, `entry ${k} (row ${row})`);
      }
    },
  );

  it.each(TARGETS)(
    'writes a gradient matching float32 central differences of its own log pi when the target is $name',
    async (target) => {
      const instance = target.make();
      const { grad } = await evaluate(instance, flow, z, N_POINTS);
      /** Central differences of coordinate j at every row at once (each row's log pi is its own). */
      const centralDifferences = async (j: number, step: number): Promise<Float64Array> => {
        const plus = Float32Array.from(z);
        const minus = Float32Array.from(z);
        for (let i = 0; i < N_POINTS; i++) {
          plus[i * d + j] += step;
          minus[i * d + j] -= step;
        }
        const up = (await evaluate(instance, flow, plus, N_POINTS, false)).logPi;
        const down = (await evaluate(instance, flow, minus, N_POINTS, false)).logPi;
        return up.map((value, i) => (value - down[i]) / (plus[i * d + j] - minus[i * d + j]));
      };
      for (let j = 0; j < d; j++) {
        const coarse = await centralDifferences(j, FLOAT32_FD_STEP);
        const fine = await centralDifferences(j, FLOAT32_FD_STEP / 2);
        for (let i = 0; i < N_POINTS; i++) {
          // Richardson extrapolation cancels the h^2 term of both differences.
          const fd = (4 * fine[i] - coarse[i]) / 3;
          expectClose(grad![i * d + j], fd, FLOAT32_FD_TOLERANCE, `entry ${i * d + j}`);
        }
      }
    },
  );

  it('gives log q_Z(z) - logDet when the target is tempered({ beta: 1 })', async () => {
    const { logPi, result } = await evaluate(tempered({ beta: 1 }), flow, z, N_POINTS);
    for (let i = 0; i < N_POINTS; i++) {
      expect(logPi[i]).toBe(logStandardNormal(z, i, d) - result.logDet[i]);
    }
  });

  it.each([0.5, 1])(
    'gives the same log pi and gradient as tempered({ beta: %s }) when written as custom',
    async (beta) => {
      const handWritten = custom((zz, _x, logDet, n) => {
        const logPi = new Float64Array(n);
        for (let i = 0; i < n; i++) logPi[i] = logStandardNormal(zz, i, d) - beta * logDet[i];
        return {
          logPi,
          gradZ: Float64Array.from(zz, (v) => -v),
          gradLogDet: new Float64Array(n).fill(-beta),
        };
      });
      const a = await evaluate(tempered({ beta }), flow, z, N_POINTS);
      const b = await evaluate(handWritten, flow, z, N_POINTS);
      expect(b.logPi).toEqual(a.logPi);
      for (let k = 0; k < z.length; k++) expectClose(b.grad![k], a.grad![k], 1e-12, `entry ${k}`);
    },
  );

  it('gives the same values with and without a data-space gradient when the target is pullback', async () => {
    const exact = await evaluate(pullback(densityWithGradient), flow, z, N_POINTS);
    const differenced = await evaluate(pullback(densityWithoutGradient), flow, z, N_POINTS);
    expect(differenced.logPi).toEqual(exact.logPi);
    for (let k = 0; k < z.length; k++) {
      expectClose(differenced.grad![k], exact.grad![k], 1e-3, `entry ${k}`);
    }
  });
});

describe('LatentTarget.evaluate', () => {
  /** A flow that counts the rows it pushes through forward and vjp. */
  function countingFlow(inner: DifferentiableFlow) {
    const counts = { forwardRows: 0, vjpRows: 0 };
    const flow: DifferentiableFlow = {
      latentDim: inner.latentDim,
      dataShape: inner.dataShape,
      gradient: inner.gradient,
      forward: async (z, n) => {
        counts.forwardRows += n;
        return inner.forward(z, n);
      },
      vjp: async (z, n, cotangent) => {
        counts.vjpRows += n;
        return inner.vjp(z, n, cotangent);
      },
      dispose: () => inner.dispose(),
    };
    return { flow, counts };
  }

  const gradZOnly: CustomLogDensity = (z, _x, _logDet, n) => ({
    logPi: new Float64Array(n),
    gradZ: new Float64Array(z.length),
  });

  const n = 5;
  it.each([
    { target: 'base()', make: () => base(), withGradient: true, gradientRows: 0, forwardRows: n },
    { target: 'base()', make: () => base(), withGradient: false, gradientRows: 0, forwardRows: n },
    {
      target: 'tempered(0.5)',
      make: () => tempered({ beta: 0.5 }),
      withGradient: true,
      gradientRows: n,
      forwardRows: 0,
    },
    {
      target: 'tempered(0.5)',
      make: () => tempered({ beta: 0.5 }),
      withGradient: false,
      gradientRows: 0,
      forwardRows: n,
    },
    {
      target: 'pullback',
      make: () => pullback(densityWithGradient),
      withGradient: true,
      gradientRows: n,
      forwardRows: n,
    },
    {
      target: 'pullback',
      make: () => pullback(densityWithGradient),
      withGradient: false,
      gradientRows: 0,
      forwardRows: n,
    },
    {
      target: 'pullback, no data gradient',
      make: () => pullback(densityWithoutGradient),
      withGradient: true,
      gradientRows: n,
      forwardRows: n,
    },
    {
      target: 'custom, every partial',
      make: () => custom(customMixed),
      withGradient: true,
      gradientRows: n,
      forwardRows: n,
    },
    {
      target: 'custom, every partial',
      make: () => custom(customMixed),
      withGradient: false,
      gradientRows: 0,
      forwardRows: n,
    },
    {
      target: 'custom, gradZ only',
      make: () => custom(gradZOnly),
      withGradient: true,
      gradientRows: 0,
      forwardRows: n,
    },
  ])(
    'reports $gradientRows VJP rows and $forwardRows forward rows for $target when grad wanted = $withGradient',
    async (c) => {
      const { flow, counts } = countingFlow(couplingFlow2d({ seed: 1 }));
      const z = latentPoints(2).subarray(0, 2 * n);
      const { result } = await evaluate(c.make(), flow, z, n, c.withGradient);
      expect({ gradientRows: result.gradientRows, forwardRows: result.forwardRows }).toEqual({
        gradientRows: c.gradientRows,
        forwardRows: c.forwardRows,
      });
      expect(counts).toEqual({ forwardRows: c.forwardRows, vjpRows: c.gradientRows });
    },
  );

  it.each(TARGETS)(
    "writes into the caller's buffers and nowhere past row n when the target is $name",
    async (c) => {
      const flow = affineFlow({ scale: [2, -0.5, 1.5], shift: [1, -1, 0.25] });
      const d = 3;
      const z = latentPoints(d).subarray(0, n * d);
      const logPi = new Float64Array(n + 2).fill(Number.NaN);
      const grad = new Float64Array((n + 2) * d).fill(Number.NaN);
      logPi[n] = logPi[n + 1] = -7;
      grad.fill(-7, n * d);

      const result = await c.make().evaluate(flow, z, n, { logPi, grad });

      expect(logPi.subarray(0, n).every(Number.isFinite)).toBe(true);
      expect(grad.subarray(0, n * d).every(Number.isFinite)).toBe(true);
      expect([...logPi.subarray(n)]).toEqual([-7, -7]);
      expect(grad.subarray(n * d).every((v) => v === -7)).toBe(true);
      const forward = await flow.forward(z, n);
      expect(result.x).toEqual(forward.x);
      expect(result.logDet).toEqual(forward.logDet);
    },
  );

  it('writes log pi alone when grad is null', async () => {
    const flow = couplingFlow2d({ seed: 1 });
    const z = latentPoints(2);
    const logPi = new Float64Array(N_POINTS);
    await tempered({ beta: 1 }).evaluate(flow, z, N_POINTS, { logPi, grad: null });
    expect(logPi.every(Number.isFinite)).toBe(true);
  });

  it.each([
    [{ beta: 0 }, 'tempered(beta=0)'],
    [{ beta: 0.5 }, 'tempered(beta=0.5)'],
  ])('names tempered(%o) %s', (options, name) => {
    expect(tempered(options).name).toBe(name);
  });
});

describe('target arguments', () => {
  /** Runs `make` and returns the InvalidArgumentError it throws. */
  function thrown(make: () => unknown): InvalidArgumentError {
    try {
      make();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidArgumentError);
      return error as InvalidArgumentError;
    }
    throw new Error('expected an InvalidArgumentError, but nothing was thrown');
  }

  it.each([Number.NaN, -1, 'a', Infinity, -Infinity, undefined, null, -1e-300])(
    'rejects beta = %s, naming beta and the value received',
    (beta) => {
      const error = thrown(() => tempered({ beta: beta as number }));
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.message).toMatch(/^tempered\(\): beta must be/);
      expect(error.message).toContain(`received ${describeValue(beta)}`);
      expect(error.issues).toHaveLength(1);
    },
  );

  it('rejects a missing options object', () => {
    const error = thrown(() => tempered(undefined as unknown as { beta: number }));
    expect(error.message).toContain('received undefined');
  });

  it.each([
    ['pullback', (value: unknown) => pullback(value as DataLogDensity)],
    ['custom', (value: unknown) => custom(value as CustomLogDensity)],
  ])('%s() rejects a logDensity that is not a function, naming it and the value', (name, make) => {
    for (const value of [42, 'f', undefined, null, {}, [1, 2]]) {
      const error = thrown(() => make(value));
      expect(error.message).toMatch(new RegExp(`^${name}\\(\\): logDensity must be a function`));
      expect(error.message).toContain(`received ${describeValue(value)}`);
    }
  });

  it.each([0, -1, Number.NaN, Infinity, '1e-4'])(
    'pullback() rejects relativeStep = %s, naming it and the value',
    (relativeStep) => {
      const error = thrown(() =>
        pullback(densityWithGradient, { relativeStep: relativeStep as number }),
      );
      expect(error.message).toContain('options.relativeStep');
      expect(error.message).toContain(`received ${describeValue(relativeStep)}`);
    },
  );

  const flow = couplingFlow2d({ seed: 1 });
  const z = latentPoints(2).subarray(0, 8);
  const n = 4;
  const out = () => ({ logPi: new Float64Array(n), grad: new Float64Array(2 * n) });

  it.each([
    {
      problem: 'a logDensity of the wrong length',
      density: ((x: Float32Array, rows: number) => ({
        logDensity: new Float64Array(rows - 1),
        gradient: new Float64Array(x.length),
      })) as DataLogDensity,
      message: /logDensity has length 3; expected n = 4/,
    },
    {
      problem: 'a gradient of the wrong length',
      density: ((_x: Float32Array, rows: number) => ({
        logDensity: new Float64Array(rows),
        gradient: new Float64Array(3),
      })) as DataLogDensity,
      message: /gradient has length 3; expected 8/,
    },
    {
      problem: 'no result',
      density: (() => undefined) as unknown as DataLogDensity,
      message: /returned undefined/,
    },
    {
      problem: 'the wrong length on the finite-difference call',
      density: ((_x: Float32Array, rows: number) => ({
        logDensity: new Float64Array(Math.min(rows, n)),
      })) as DataLogDensity,
      message: /logDensity has length 4; expected n = 16/,
    },
  ])('pullback().evaluate rejects a density returning $problem', async ({ density, message }) => {
    const promise = pullback(density).evaluate(flow, z, n, out());
    await expect(promise).rejects.toThrow(InvalidArgumentError);
    await expect(pullback(density).evaluate(flow, z, n, out())).rejects.toThrow(message);
  });

  it('custom().evaluate lists every wrong length at once', async () => {
    const broken: CustomLogDensity = (_z, _x, _logDet, rows) => ({
      logPi: new Float64Array(rows + 1),
      gradZ: new Float64Array(1),
      gradX: new Float64Array(2 * rows),
      gradLogDet: new Float64Array(rows - 1),
    });
    const error = await custom(broken)
      .evaluate(flow, z, n, out())
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(InvalidArgumentError);
    const { issues, message } = error as InvalidArgumentError;
    expect(message).toMatch(/^custom\(\): the log-density/);
    expect(issues).toEqual([
      'logPi has length 5; expected 4.',
      'gradZ has length 1; expected 8.',
      'gradLogDet has length 3; expected 4.',
    ]);
  });
});

describe('target scratch', () => {
  /** A flow that records every cotangent array and batch it is handed. */
  function recordingFlow(inner: DifferentiableFlow) {
    const seen: { x: unknown[]; logDet: unknown[] } = { x: [], logDet: [] };
    const flow: DifferentiableFlow = {
      ...inner,
      forward: (z, n) => inner.forward(z, n),
      vjp: (z, n, cotangent) => {
        seen.x.push(cotangent.x);
        seen.logDet.push(cotangent.logDet);
        return inner.vjp(z, n, cotangent);
      },
    };
    return { flow, seen };
  }

  const n = 4;
  const z = latentPoints(2).subarray(0, 2 * n);

  it.each([
    { name: 'pullback', make: () => pullback(densityWithGradient), keys: ['x', 'logDet'] },
    { name: 'tempered(0.5)', make: () => tempered({ beta: 0.5 }), keys: ['logDet'] },
    { name: 'custom with every partial', make: () => custom(customMixed), keys: ['x', 'logDet'] },
  ] as const)(
    'hands the flow the same cotangent arrays on each call with one scratch ($name)',
    async ({ make, keys }) => {
      const { flow, seen } = recordingFlow(couplingFlow2d({ seed: 1 }));
      const target = make();
      const scratch = new TargetScratch();
      const out = { logPi: new Float64Array(n), grad: new Float64Array(2 * n), scratch };
      await target.evaluate(flow, z, n, out);
      await target.evaluate(flow, z, n, out);
      for (const key of keys) {
        expect(seen[key][0]).toBeInstanceOf(Float32Array);
        expect(seen[key][1]).toBe(seen[key][0]);
      }
      // Another scratch, another caller: other arrays.
      await target.evaluate(flow, z, n, { ...out, scratch: new TargetScratch() });
      for (const key of keys) expect(seen[key][2]).not.toBe(seen[key][0]);
    },
  );

  it('reuses the perturbed rows of data-space central differences with one scratch', async () => {
    const batches: Float32Array[] = [];
    const density: DataLogDensity = (x, rows) => {
      batches.push(x);
      return densityWithoutGradient(x, rows);
    };
    const target = pullback(density);
    const flow = couplingFlow2d({ seed: 1 });
    const scratch = new TargetScratch();
    const out = { logPi: new Float64Array(n), grad: new Float64Array(2 * n), scratch };
    await target.evaluate(flow, z, n, out);
    const first = Float64Array.from(out.grad);
    await target.evaluate(flow, z, n, out);
    // Calls 1 and 3 are the rows themselves, 2 and 4 the 2 D n perturbed rows.
    expect(batches[1]).toHaveLength(2 * 2 * n * 2);
    expect(batches[3]).toBe(batches[1]);
    expect(out.grad).toEqual(first);
  });

  it('gives the same values with and without a scratch', async () => {
    for (const make of [() => pullback(densityWithoutGradient), () => custom(customMixed)]) {
      const flow = couplingFlow2d({ seed: 2 });
      const plain = await evaluate(make(), flow, z, n);
      const out = {
        logPi: new Float64Array(n),
        grad: new Float64Array(2 * n),
        scratch: new TargetScratch(),
      };
      await make().evaluate(flow, z, n, out);
      expect(out.logPi).toEqual(plain.logPi);
      expect(out.grad).toEqual(plain.grad);
    }
  });
});

describe('targets on a flow that returns the wrong lengths', () => {
  const n = 4;
  const z = latentPoints(2).subarray(0, 2 * n);

  /** The coupling flow with `vjp().z` one value short, or `forward().x` two values short. */
  function brokenFlow(part: 'vjp().z' | 'forward().x'): DifferentiableFlow {
    const inner = couplingFlow2d({ seed: 1 });
    return {
      ...inner,
      forward: async (zz, rows) => {
        const out = await inner.forward(zz, rows);
        return part === 'forward().x' ? { ...out, x: out.x.subarray(2) } : out;
      },
      vjp: async (zz, rows, cotangent) => {
        const out = await inner.vjp(zz, rows, cotangent);
        return part === 'vjp().z' ? { ...out, z: out.z.subarray(1) } : out;
      },
    };
  }

  it.each([
    { target: 'tempered(beta=1)', make: () => tempered({ beta: 1 }) },
    { target: 'pullback', make: () => pullback(densityWithGradient) },
    { target: 'custom', make: () => custom(customMixed) },
  ])(
    'throws InvalidFlowError naming vjp, the length received and expected ($target)',
    async ({ target, make }) => {
      const promise = make().evaluate(brokenFlow('vjp().z'), z, n, {
        logPi: new Float64Array(n),
        grad: new Float64Array(2 * n),
      });
      await expect(promise).rejects.toThrow(InvalidFlowError);
      await expect(promise).rejects.toThrow(
        new RegExp(
          `^${target.replace(/[()]/g, '\\$&')}\\.evaluate\\(\\): the flow breaks its contract:\\n` +
            '  - vjp\\(z, 4, cotangent\\) returned z of length 7; ' +
            'expected n \\* d = 4 \\* 2 = 8\\.',
        ),
      );
    },
  );

  it.each([
    { target: 'base()', make: () => base() },
    { target: 'pullback', make: () => pullback(densityWithGradient) },
    { target: 'custom', make: () => custom(customMixed) },
  ])(
    'throws InvalidFlowError naming forward when x is short and the target is $target',
    async ({ make }) => {
      const promise = make().evaluate(brokenFlow('forward().x'), z, n, {
        logPi: new Float64Array(n),
        grad: null,
      });
      await expect(promise).rejects.toThrow(InvalidFlowError);
      await expect(promise).rejects.toThrow(
        /forward\(z, 4\) returned x of length 6; expected n \* D = 4 \* 2 = 8\./,
      );
    },
  );
});

describe('pullback() names', () => {
  it('is named pullback by default and by options.name when given', () => {
    expect(pullback(densityWithGradient).name).toBe('pullback');
    expect(pullback(densityWithGradient, { name: 'posterior-v2' }).name).toBe('posterior-v2');
  });

  it.each(['', 42])('rejects options.name = %j, naming it and the value', (name) => {
    expect(() => pullback(densityWithGradient, { name: name as string })).toThrow(
      new RegExp(`options\\.name must be a non-empty string; received ${describeValue(name)}`),
    );
  });
});
