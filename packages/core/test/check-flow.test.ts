import { describe, expect, it } from 'vitest';

import { InvalidFlowError, checkFlow } from '@latent-langevin/core';
import type { DifferentiableFlow, FlowOutputs, FlowVjp } from '@latent-langevin/core';

import { affineFlow, couplingFlow2d } from '../src/analytic-flows.js';

type FlowParts = { [K in keyof DifferentiableFlow]?: unknown };

/** A healthy two-dimensional affine flow with some of its parts replaced. */
function flowWith(parts: FlowParts = {}): DifferentiableFlow {
  const inner = affineFlow({ scale: [2, 0.5], shift: [1, -1] });
  const healthy: DifferentiableFlow = {
    latentDim: 2,
    dataShape: [2],
    gradient: 'exact',
    forward: (z, n) => inner.forward(z, n),
    vjp: (z, n, cotangent) => inner.vjp(z, n, cotangent),
    dispose: () => inner.dispose(),
  };
  return { ...healthy, ...parts } as DifferentiableFlow;
}

/** Rows of `z` (`[n, 2]`) that are the origin. */
function originRows(z: Float32Array, n: number): number[] {
  return Array.from({ length: n }, (_, i) => i).filter((i) => z[2 * i] === 0 && z[2 * i + 1] === 0);
}

/** Like the affine flow, but NaN everywhere (x, logDet and gradient) at the origin, consistently. */
function nanAtOrigin(): FlowParts {
  const inner = affineFlow({ scale: [2, 0.5], shift: [1, -1] });
  const poison = <T extends FlowOutputs & { z?: Float32Array }>(
    out: T,
    z: Float32Array,
    n: number,
  ) => {
    for (const i of originRows(z, n)) {
      out.x.fill(Number.NaN, 2 * i, 2 * i + 2);
      out.logDet[i] = Number.NaN;
      out.z?.fill(Number.NaN, 2 * i, 2 * i + 2);
    }
    return out;
  };
  return {
    forward: async (z: Float32Array, n: number) => poison(await inner.forward(z, n), z, n),
    vjp: async (z: Float32Array, n: number, c: object) => poison(await inner.vjp(z, n, c), z, n),
  };
}

/** Runs checkFlow and returns the InvalidFlowError it rejects with. */
async function problemsOf(flow: unknown, options?: { tolerance?: number }): Promise<string[]> {
  const error = await checkFlow(flow as DifferentiableFlow, options).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidFlowError);
  const { code, message, problems } = error as InvalidFlowError;
  expect(code).toBe('INVALID_FLOW');
  expect(message).toMatch(/^checkFlow\(\): /);
  for (const problem of problems) expect(message).toContain(problem);
  return [...problems];
}

const wrongLengthForward = async (z: Float32Array, n: number): Promise<FlowOutputs> => ({
  x: new Float32Array(2 * n - 1),
  logDet: new Float32Array(n + 1),
});

const shiftedVjp = async (z: Float32Array, n: number): Promise<FlowVjp> => {
  const out = await affineFlow({ scale: [2, 0.5], shift: [1, -1] }).vjp(z, n, {});
  return { ...out, x: out.x.map((v) => v + 0.1) };
};

describe('checkFlow', () => {
  it.each([
    ['affineFlow (d = 3)', () => affineFlow({ scale: [1, 2, 3], shift: [0, 1, 2] })],
    ['couplingFlow2d', () => couplingFlow2d({ seed: 2 })],
    ['a flow with dataShape [1, 2]', () => flowWith({ dataShape: [1, 2] })],
    ['a finite-difference flow', () => flowWith({ gradient: 'finite-difference' })],
  ])('passes and returns a report when the flow is %s', async (_label, make) => {
    const flow = make();
    const report = await checkFlow(flow);
    expect(report).toEqual({
      latentDim: flow.latentDim,
      dataShape: [...flow.dataShape],
      gradient: flow.gradient,
      forwardVjpMaxDifference: 0,
    });
  });

  it('accepts a vjp that differs from forward by less than the tolerance', async () => {
    const inner = affineFlow({ scale: [2, 0.5], shift: [1, -1] });
    const flow = flowWith({
      vjp: async (z: Float32Array, n: number) => {
        const out = await inner.vjp(z, n, {});
        return { ...out, x: out.x.map((v) => v * (1 + 1e-3)) };
      },
    });
    const report = await checkFlow(flow, { tolerance: 1e-2 });
    expect(report.forwardVjpMaxDifference).toBeGreaterThan(0);
    expect(report.forwardVjpMaxDifference).toBeLessThan(1e-2);
    expect(await problemsOf(flow)).toHaveLength(1); // the default tolerance is 1e-4
  });

  it.each([
    {
      broken: 'forward returns outputs of the wrong lengths',
      parts: { forward: wrongLengthForward },
      problems: [
        'forward().x has length 5; expected 6.',
        'forward().logDet has length 4; expected 3.',
      ],
    },
    {
      broken: 'forward returns plain arrays',
      parts: {
        forward: async (z: Float32Array, n: number) => {
          const out = await affineFlow({ scale: [2, 0.5], shift: [1, -1] }).forward(z, n);
          return { ...out, x: Array.from(out.x) };
        },
      },
      problems: ['forward().x is an array of length 6; expected a Float32Array of length 6.'],
    },
    {
      broken: 'forward returns nothing',
      parts: { forward: async () => undefined },
      problems: ['forward(z, 3) resolved to undefined; expected an object.'],
    },
    {
      broken: 'forward returns a logDet one row too long',
      parts: {
        forward: async (z: Float32Array, n: number) => {
          const out = await affineFlow({ scale: [2, 0.5], shift: [1, -1] }).forward(z, n);
          return { ...out, logDet: new Float32Array(n + 1) };
        },
      },
      problems: ['forward().logDet has length 4; expected 3.'],
    },
    {
      broken: 'vjp returns nothing',
      parts: { vjp: async () => undefined },
      problems: ['vjp(z, 3, cotangent) resolved to undefined; expected an object.'],
    },
    {
      broken: 'dataShape is [3] while latentDim is 2',
      parts: { dataShape: [3] },
      problems: ['dataShape [3] has 3 values; expected latentDim = 2 (a flow is a bijection).'],
    },
    {
      broken: 'latentDim is 0',
      parts: { latentDim: 0 },
      problems: [
        'latentDim is 0; expected an integer >= 1.',
        'dataShape [2] has 2 values; expected latentDim = 0 (a flow is a bijection).',
      ],
    },
    {
      broken: 'vjp returns an x that disagrees with forward',
      parts: { vjp: shiftedVjp },
      problems: [/^vjp\(\)\.x\[0\] = 1\.1\d* but forward\(\)\.x\[0\] = 1; the two must evaluate/],
    },
    {
      broken: 'vjp returns a gradient of the wrong length',
      parts: {
        vjp: async (z: Float32Array, n: number) => ({
          ...(await affineFlow({ scale: [2, 0.5], shift: [1, -1] }).vjp(z, n, {})),
          z: new Float32Array(n),
        }),
      },
      problems: ['vjp().z has length 3; expected 6.'],
    },
    {
      broken: 'vjp and dispose are missing',
      parts: { vjp: undefined, dispose: undefined },
      problems: [
        'vjp is undefined; expected a method.',
        'dispose is undefined; expected a method.',
      ],
    },
    {
      broken: 'forward throws',
      parts: {
        forward: async () => {
          throw new Error('session closed');
        },
      },
      problems: ['forward(z, 3) threw: session closed'],
    },
    {
      broken: 'vjp throws synchronously',
      parts: {
        vjp: () => {
          throw new TypeError('no gradient kernel');
        },
      },
      problems: ['vjp(z, 3, cotangent) threw: no gradient kernel'],
    },
    {
      broken: 'gradient is neither exact nor finite-difference',
      parts: { gradient: 'autodiff' },
      problems: ["gradient is \"autodiff\"; expected 'exact' or 'finite-difference'."],
    },
  ])('reports exactly the broken promise when $broken', async ({ parts, problems }) => {
    const reported = await problemsOf(flowWith(parts));
    expect(reported).toHaveLength(problems.length);
    problems.forEach((problem, k) => {
      if (typeof problem === 'string') expect(reported[k]).toBe(problem);
      else expect(reported[k]).toMatch(problem);
    });
  });

  it('reports only that the flow is not finite when it is NaN at the origin in forward and vjp alike', async () => {
    // forward and vjp agree (both NaN), so no disagreement should be reported.
    expect(await problemsOf(flowWith(nanAtOrigin()))).toEqual([
      'forward() is not finite at the origin z = 0.',
      'vjp().z is not finite at the origin z = 0.',
    ]);
  });

  it('lists every problem of a flow that breaks several runtime promises at once', async () => {
    const flow = flowWith({
      forward: wrongLengthForward,
      vjp: async (_z: Float32Array, n: number) => ({
        x: new Float32Array(2 * n),
        logDet: new Float32Array(n),
        z: new Float32Array(2 * n + 2),
      }),
      gradient: 'autodiff',
    });
    expect(await problemsOf(flow)).toEqual([
      'forward().x has length 5; expected 6.',
      'forward().logDet has length 4; expected 3.',
      'vjp().z has length 8; expected 6.',
      "gradient is \"autodiff\"; expected 'exact' or 'finite-difference'.",
    ]);
  });

  it('lists every problem of a flow that breaks structural and runtime promises at once', async () => {
    // dispose is missing, but forward and vjp exist and can be probed: their problems are
    // broken promises too and belong in the same error.
    const flow = flowWith({
      dispose: undefined,
      forward: async () => {
        throw new Error('session closed');
      },
      gradient: 'autodiff',
    });
    const problems = await problemsOf(flow);
    expect(problems).toContain('dispose is undefined; expected a method.');
    expect(problems).toContain('forward(z, 3) threw: session closed');
    expect(problems).toContain(
      "gradient is \"autodiff\"; expected 'exact' or 'finite-difference'.",
    );
  });

  it.each([null, undefined, 42, 'flow'])('rejects %s, which is not a flow', async (value) => {
    const problems = await problemsOf(value);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^flow must be an object implementing DifferentiableFlow/);
  });
});
