import {
  type DataLogDensity,
  type DifferentiableFlow,
  IncompatibleCheckpointError,
  InvalidArgumentError,
  InvalidFlowError,
  LatentLangevinError,
  SamplingAbortedError,
  affineFlow,
  couplingFlow2d,
  custom,
  init,
  pullback,
  restore,
  sample,
  summarize,
  tempered,
} from '@latent-langevin/core';
import { describe, expect, it } from 'vitest';

const flow = couplingFlow2d();

/** A standard normal in data space, with its gradient. */
function standardNormal(x: Float32Array, n: number) {
  const logDensity = new Float64Array(n);
  const gradient = new Float64Array(x.length);
  for (let i = 0; i < n; i++) {
    logDensity[i] = -0.5 * (x[2 * i] ** 2 + x[2 * i + 1] ** 2);
    gradient[2 * i] = -x[2 * i];
    gradient[2 * i + 1] = -x[2 * i + 1];
  }
  return { logDensity, gradient };
}

/** The standard normal pulled back: a smooth target with a known answer. */
const gaussian = pullback(standardNormal);

/** Options of init() and restore(); sample() takes `draws` besides. */
const samplerBase = { target: gaussian, chains: 4, warmup: 60, seed: 3 } as const;
const base = { ...samplerBase, draws: 40 } as const;

describe('sample()', () => {
  it.each([
    ['identity', 0],
    ['diagonal', 0],
    ['jacobian', 0.2],
  ] as const)(
    'gives the same draws for the same seed with the %s preconditioner',
    async (preconditioner, globalMoveProbability) => {
      const options = { ...base, preconditioner, globalMoveProbability, keepX: true };
      const a = await sample(flow, options);
      const b = await sample(flow, options);
      expect(b.z).toEqual(a.z);
      expect(b.x).toEqual(a.x);
      expect(b.logPi).toEqual(a.logPi);
      const c = await sample(flow, { ...options, seed: 4 });
      expect(c.z).not.toEqual(a.z);
    },
  );

  it('returns draws with the documented shapes and counts', async () => {
    const run = await sample(flow, { ...base, keepX: true });
    expect(run.z.length).toBe(4 * 40 * 2);
    expect(run.x?.length).toBe(4 * 40 * 2);
    expect(run.logPi.length).toBe(4 * 40);
    expect(run.accepted.length).toBe(4 * 40);
    const proposals = run.counters.sampling.localProposals.reduce((s, v) => s + v, 0);
    expect(proposals).toBe(4 * 40);
    // x is f(z) row by row.
    const again = await flow.forward(run.z, 4 * 40);
    expect(Array.from(run.x as Float32Array)).toEqual(Array.from(again.x));
    // a rejected iteration repeats the previous draw.
    for (let t = 1; t < 40; t++) {
      if (run.accepted[t] === 0) expect(run.z[2 * t]).toBe(run.z[2 * (t - 1)]);
    }
    await expect(sample(flow, { ...base, keepX: false })).resolves.toMatchObject({ x: null });
  });

  it.each([
    ['in warm-up', 25, 'mala', 'diagonal'],
    ['in the sampling phase', 85, 'mala', 'diagonal'],
    ['in warm-up', 25, 'mala', 'jacobian'],
    ['in the sampling phase', 85, 'mala', 'jacobian'],
    ['in warm-up', 25, 'rwm', 'identity'],
    ['in the sampling phase', 85, 'rwm', 'diagonal'],
  ] as const)(
    'resumes bit for bit after an abort %s, kernel %s, %s preconditioner',
    async (...row) => {
      const [, stopAt, kernel, preconditioner] = row;
      const options = { ...base, kernel, preconditioner, globalMoveProbability: 0.1 };
      const full = await sample(flow, options);

      const controller = new AbortController();
      let calls = 0;
      const error = await sample(flow, {
        ...options,
        signal: controller.signal,
        onProgress: () => {
          calls += 1;
          if (calls === stopAt) controller.abort();
        },
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SamplingAbortedError);
      const aborted = error as SamplingAbortedError;
      expect(aborted.code).toBe('ABORTED');
      const saved = JSON.parse(JSON.stringify(aborted.checkpoint));

      const rest = await sample(flow, { ...options, resume: saved });
      const kept = aborted.partial.draws;
      expect(kept + rest.draws).toBe(40);
      expect(rest.drawOffset).toBe(kept);
      for (let i = 0; i < 4; i++) {
        const whole = full.z.subarray(i * 80, (i + 1) * 80);
        const first = aborted.partial.z.subarray(i * kept * 2, (i + 1) * kept * 2);
        const second = rest.z.subarray(i * rest.draws * 2, (i + 1) * rest.draws * 2);
        expect(Array.from(first).concat(Array.from(second))).toEqual(Array.from(whole));
      }
      expect(rest.stepSize).toBe(full.stepSize);
      expect(rest.checkpoint.random).toEqual(full.checkpoint.random);
    },
  );

  it('extends a finished run to more draws exactly as a longer run', async () => {
    const short = await sample(flow, { ...base, draws: 20 });
    const more = await sample(flow, { ...base, draws: 40, resume: short.checkpoint });
    const long = await sample(flow, { ...base, draws: 40 });
    expect(Array.from(more.z.subarray(0, 40))).toEqual(Array.from(long.z.subarray(40, 80)));
  });

  it('refuses a checkpoint of a run with other options', async () => {
    const run = await sample(flow, base);
    const error = await sample(flow, { ...base, chains: 5, resume: run.checkpoint }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LatentLangevinError);
    expect((error as LatentLangevinError).code).toBe('INCOMPATIBLE_CHECKPOINT');
    expect((error as Error).message).toMatch(/chains was 4 in the saved run and is now 5/);
  });

  it('refuses a checkpoint of a pullback target of another name, and names both', async () => {
    const named = (name: string) => pullback(standardNormal, { name });
    const run = await sample(flow, { ...base, target: named('posterior-a') });
    const error = await sample(flow, {
      ...base,
      target: named('posterior-b'),
      resume: run.checkpoint,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IncompatibleCheckpointError);
    expect((error as Error).message).toMatch(
      /target was "posterior-a" in the saved run and is now "posterior-b"/,
    );
  });

  it('draws chain k the same way alone or beside others when tuning is frozen', async () => {
    const fixed = { ...base, warmup: 0, stepSize: 0.4, chains: 4 };
    const together = await sample(flow, fixed);
    const alone = await sample(flow, { ...fixed, chains: 2, chainOffset: 2 });
    expect(Array.from(alone.z)).toEqual(Array.from(together.z.subarray(2 * 40 * 2)));
  });

  it.each([
    { preconditioner: 'identity', globalMoveProbability: 0.2 },
    { preconditioner: 'jacobian', globalMoveProbability: 0 },
  ] as const)(
    'reproduces a run split by chainOffset, warm-up included, when the step size is fixed and ' +
      'not adapted ($preconditioner)',
    async (settings) => {
      const frozen = { ...base, ...settings, stepSize: 0.3, adaptStepSize: false };
      const whole = await sample(flow, frozen);
      const first = await sample(flow, { ...frozen, chains: 3 });
      const second = await sample(flow, { ...frozen, chains: 1, chainOffset: 3 });
      expect(Array.from(first.z).concat(Array.from(second.z))).toEqual(Array.from(whole.z));
    },
  );

  it('does not reproduce a split run when warm-up adapts the step size', async () => {
    // The documented limit of chainOffset: dual averaging pools the acceptance of all chains.
    const whole = await sample(flow, base);
    const second = await sample(flow, { ...base, chains: 1, chainOffset: 3 });
    expect(second.stepSize).not.toBe(whole.stepSize);
    expect(Array.from(second.z)).not.toEqual(Array.from(whole.z.subarray(3 * 40 * 2)));
  });

  it('reports progress once per iteration with phase totals', async () => {
    const seen: { phase: string; iteration: number; total: number }[] = [];
    await sample(flow, { ...base, onProgress: (p) => seen.push(p) });
    expect(seen).toHaveLength(100);
    expect(seen[0]).toMatchObject({ phase: 'warmup', iteration: 1, total: 60 });
    expect(seen[99]).toMatchObject({ phase: 'sampling', iteration: 40, total: 40 });
  });

  it('adapts the step size towards the target acceptance', async () => {
    const run = await sample(flow, { ...base, chains: 16, warmup: 400, draws: 400 });
    const accepted = run.counters.sampling.localAccepted.reduce((s, v) => s + v, 0);
    // 6400 proposals: the acceptance rate's standard error is about 0.006.
    expect(accepted / 6400).toBeGreaterThan(0.5);
    expect(accepted / 6400).toBeLessThan(0.65);
  });
});

/**
 * `log pi(z) = -sum z^4 / 4` on the identity flow: light tails, so MALA started far out, where
 * the gradient `-z^3` is steep, proposes far past the origin and is rejected every time.
 */
const quartic = custom((z, _x, _logDet, n) => {
  const logPi = new Float64Array(n);
  const gradZ = new Float64Array(z.length);
  for (let k = 0; k < z.length; k++) {
    logPi[Math.floor(k / 2)] -= z[k] ** 4 / 4;
    gradZ[k] = -(z[k] ** 3);
  }
  return { logPi, gradZ };
}, 'quartic');

describe('sample() with a chain started where MALA cannot move', () => {
  const identity = affineFlow({ scale: [1, 1], shift: [0, 0] });
  // Chain 0 starts at (6, 6), the other three near the mode.
  const initialZ = Float32Array.from([6, 6, 0.3, -0.2, -0.5, 0.1, 0.2, 0.4]);
  const samplerOptions = {
    target: quartic,
    chains: 4,
    seed: 7,
    warmup: 100,
    initialZ,
    relocateStuckAfter: 20,
  };
  const options = { ...samplerOptions, draws: 200 };

  it('leaves the chain stuck for good by default, and the summary says so', async () => {
    // This is what relocation exists for: without it, chain 0 never moves at all.
    const run = await sample(identity, { ...options, relocateStuckAfter: undefined });
    expect(run.counters.warmup.localAccepted[0]).toBe(0);
    expect(run.counters.sampling.localAccepted[0]).toBe(0);
    expect(Array.from(run.z.subarray(0, 2))).toEqual([6, 6]);
    const summary = summarize(run);
    expect(summary.stuckChains).toEqual([0]);
    expect(summary.text).toMatch(/stuck: chain\(s\) 0 accepted no proposal in sampling/);
  });

  it("moves the stuck chain to another chain's point in warm-up, and it then mixes", async () => {
    const run = await sample(identity, options);
    expect(run.counters.warmup.relocations[0]).toBeGreaterThanOrEqual(1);
    expect(Array.from(run.counters.warmup.relocations.subarray(1))).toEqual([0, 0, 0]);
    expect(Array.from(run.counters.sampling.relocations)).toEqual([0, 0, 0, 0]);
    // Chain 0's draws (the first 200 rows) stay where the quartic has its mass: |z| < 3
    // has probability 1 - 5e-9 per coordinate.
    for (let k = 0; k < 400; k++) expect(Math.abs(run.z[k])).toBeLessThan(3);
    const acceptance = run.counters.sampling.localAccepted[0] / 200;
    expect(acceptance).toBeGreaterThan(0.2);
    const summary = summarize(run);
    expect(summary.relocations).toBe(run.counters.warmup.relocations[0]);
    expect(summary.stuckChains).toEqual([]);
    expect(summary.text).toMatch(/stuck chain\(s\) moved/);
  });

  it('continues bit for bit from a checkpoint taken before the relocation', async () => {
    const a = await init(identity, samplerOptions);
    for (let t = 0; t < 10; t++) await a.step();
    const b = await restore(identity, JSON.parse(JSON.stringify(a.checkpoint())), samplerOptions);
    let moved = 0;
    for (let t = 0; t < 150; t++) {
      moved += (await a.step()).relocations;
      await b.step();
    }
    expect(moved).toBeGreaterThanOrEqual(1);
    expect(Array.from(b.z)).toEqual(Array.from(a.z));
    expect(b.counters.warmup.relocations).toEqual(a.counters.warmup.relocations);
  });
});

describe('sample() on a flow that is not finite everywhere', () => {
  // The affine flow's log-determinant is made NaN on the half-plane z1 > 1.5.
  const inner = affineFlow({ scale: [1, 1] });
  const holed: DifferentiableFlow = {
    ...inner,
    async forward(z, n) {
      const out = await inner.forward(z, n);
      for (let i = 0; i < n; i++) if (z[2 * i] > 1.5) out.logDet[i] = Number.NaN;
      return out;
    },
    async vjp(z, n, cotangent) {
      const out = await inner.vjp(z, n, cotangent);
      for (let i = 0; i < n; i++) if (z[2 * i] > 1.5) out.logDet[i] = Number.NaN;
      return out;
    },
  };

  it('rejects proposals there, counts divergences, and goes on', async () => {
    const run = await sample(holed, {
      target: tempered({ beta: 1 }),
      chains: 8,
      warmup: 100,
      draws: 300,
      seed: 1,
      initialZ: new Float32Array(16),
    });
    const divergences = run.counters.sampling.divergences.reduce((s, v) => s + v, 0);
    expect(divergences).toBeGreaterThan(0);
    for (let k = 0; k < run.z.length; k += 2) expect(run.z[k]).toBeLessThanOrEqual(1.5);
    for (const value of run.logPi) expect(Number.isFinite(value)).toBe(true);
  });

  it('throws a clear error before any step when the initial state is not finite', async () => {
    const start = new Float32Array([0, 0, 2, 0, 0, 0]);
    const error = await sample(holed, {
      target: tempered({ beta: 1 }),
      chains: 3,
      seed: 1,
      initialZ: start,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LatentLangevinError);
    expect((error as LatentLangevinError).code).toBe('NON_FINITE_INITIAL_STATE');
    expect((error as Error).message).toMatch(/chain\(s\) \[1\]/);
  });
});

describe('sample() with bad input', () => {
  const samplerGood = { target: gaussian, chains: 2, seed: 1, warmup: 5 };
  const good = { ...samplerGood, draws: 5 };
  it.each([
    ['chains', { chains: 0 }, /options\.chains.*received 0\. Pass a whole number/],
    ['chains', { chains: 2.5 }, /options\.chains.*received 2\.5/],
    ['chains', { chains: Number.NaN }, /options\.chains.*received NaN/],
    ['chains', { chains: '4' }, /options\.chains.*received "4"/],
    ['seed', { seed: -1 }, /options\.seed.*received -1/],
    ['seed', { seed: undefined }, /options\.seed/],
    [
      'seed',
      { seed: 2 ** 53 },
      /options\.seed: expected an integer in \[0, 2\^53\); received 9007/,
    ],
    ['warmup', { warmup: -5 }, /options\.warmup.*received -5/],
    ['draws', { draws: 0 }, /options\.draws.*received 0/],
    ['stepSize', { stepSize: 0 }, /options\.stepSize.*received 0/],
    ['stepSize', { stepSize: Number.POSITIVE_INFINITY }, /options\.stepSize.*Infinity/],
    ['adaptStepSize', { adaptStepSize: 1 }, /options\.adaptStepSize.*received 1\. Pass true/],
    ['targetAcceptance', { targetAcceptance: 1 }, /options\.targetAcceptance.*received 1/],
    ['globalMoveProbability', { globalMoveProbability: 1 }, /globalMoveProbability/],
    [
      'preconditioner',
      { preconditioner: 'full' },
      /options\.preconditioner.*"full"\. Pass 'identity'/,
    ],
    [
      'preconditioner',
      { preconditioner: { type: 'jacobian', damping: -1 } },
      /options\.preconditioner\.damping.*received -1\. Pass a finite positive damping/,
    ],
    [
      'preconditioner',
      { preconditioner: { type: 'jacobian', maxDim: 0 } },
      /options\.preconditioner\.maxDim.*received 0\. Pass a whole number such as 128/,
    ],
    ['kernel', { kernel: 'hmc' }, /options\.kernel.*"hmc"/],
    ['target', { target: {} }, /options\.target/],
    ['initialZ', { initialZ: new Float32Array(3) }, /^sample\(\): options\.initialZ has length 3/],
    ['initialZ', { initialZ: 'abc' }, /options\.initialZ.*received "abc"\. Pass a Float32Array/],
    ['chainOffset', { chainOffset: -1 }, /options\.chainOffset.*received -1\. Pass a whole number/],
    ['keepX', { keepX: 'yes' }, /options\.keepX.*received "yes"\. Pass true/],
    ['onProgress', { onProgress: 5 }, /options\.onProgress.*received 5\. Pass a function/],
    ['signal', { signal: {} }, /options\.signal.*Pass the signal of an AbortController/],
    ['resume', { resume: 'saved' }, /options\.resume.*received "saved"\. Pass result\.checkpoint/],
    ['relocateStuckAfter', { relocateStuckAfter: -1 }, /options\.relocateStuckAfter.*-1/],
    ['relocateStuckAfter', { relocateStuckAfter: 2.5 }, /options\.relocateStuckAfter.*2\.5/],
    ['warmUp', { warmUp: 5 }, /options\.warmUp is not an option; did you mean 'warmup'\? Rename/],
    ['seeds', { seeds: 5 }, /options\.seeds is not an option; did you mean 'seed'\?/],
    [
      'preconditioner',
      { preconditioner: { type: 'jacobian', dampening: 1 } },
      /options\.preconditioner\.dampening is not an option; did you mean 'damping'\?/,
    ],
    ['colour', { colour: 'red' }, /options\.colour is not an option; expected one of \[target, /],
  ])('rejects a bad %s: %j, naming it and the fix', async (_, patch, message) => {
    const error = await sample(flow, { ...good, ...(patch as object) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toMatch(/^sample\(\): /);
    // Each problem once, with its fix (STYLE rule 6).
    const issues = (error as InvalidArgumentError).issues;
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(/(Pass|Remove|Rename|Use)\b/);
  });

  it('lists every bad option of one call, each once', async () => {
    const error = await sample(flow, {
      ...good,
      chains: 0,
      seed: 2 ** 53,
      warmUp: 5,
    } as never).catch((e: unknown) => e);
    expect((error as InvalidArgumentError).issues).toHaveLength(3);
  });

  it.each([
    ['draws', { draws: 10 }],
    ['keepX', { keepX: true }],
    ['onProgress', { onProgress: () => undefined }],
  ])('has init() refuse the sample() option %s', async (key, patch) => {
    const error = await init(flow, { ...samplerGood, ...patch } as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toMatch(
      new RegExp(`^init\\(\\): options\\.${key} is an option of sample\\(\\), not of init\\(\\)`),
    );
  });

  const wide = affineFlow({ scale: new Array(80).fill(1) });
  const callers = [
    ['sample()', (f: DifferentiableFlow, o: object) => sample(f, { ...good, ...o })],
    ['init()', (f: DifferentiableFlow, o: object) => init(f, { ...samplerGood, ...o })],
  ] as const;

  it.each(callers)('names %s in errors raised while it builds the sampler', async (where, call) => {
    const at = (rest: string) => new RegExp(`^${where.replace(/[()]/g, '\\$&')}: ${rest}`);
    await expect(call(wide, { preconditioner: 'jacobian' })).rejects.toThrow(
      at("options\\.preconditioner: 'jacobian' needs the full d x d Jacobian"),
    );
    await expect(call(flow, { kernel: 'rwm', preconditioner: 'jacobian' })).rejects.toThrow(
      at("options\\.preconditioner: 'jacobian' is position dependent"),
    );
    await expect(call(flow, { initialZ: new Float32Array(3) })).rejects.toThrow(
      at('options\\.initialZ has length 3'),
    );
  });

  it('refuses the jacobian preconditioner above its dimension limit unless told', async () => {
    const wide = affineFlow({ scale: new Array(80).fill(1) });
    const options = { target: tempered({ beta: 1 }), chains: 2, seed: 1, warmup: 2, draws: 2 };
    await expect(sample(wide, { ...options, preconditioner: 'jacobian' })).rejects.toThrow(
      /d = 80 is above the limit of 64/,
    );
    const run = await sample(wide, {
      ...options,
      preconditioner: { type: 'jacobian', maxDim: 80 },
    });
    expect(run.z.length).toBe(2 * 2 * 80);
  });

  it('rejects a flow that misses methods or has an inconsistent shape', async () => {
    const broken = { latentDim: 2, dataShape: [3], gradient: 'exact' } as unknown;
    const error = await sample(broken as DifferentiableFlow, good).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidFlowError);
    const problems = (error as InvalidFlowError).problems.join('\n');
    expect(problems).toMatch(/dataShape \[3\] has 3 values; expected latentDim = 2/);
    expect(problems).toMatch(/forward is undefined; expected a method/);
    expect(problems).toMatch(/vjp is undefined/);
  });

  it('rejects a flow that returns the wrong shape during a run', async () => {
    const short: DifferentiableFlow = {
      ...flow,
      forward: async (z, n) => ({ x: new Float32Array(n), logDet: new Float32Array(n) }),
      vjp: async (z, n) => ({
        x: new Float32Array(n),
        logDet: new Float32Array(n),
        z: new Float32Array(2 * n),
      }),
    };
    await expect(sample(short, good)).rejects.toThrow(InvalidFlowError);
  });

  it('wraps an error thrown by the flow with the iteration and the cause', async () => {
    const failing: DifferentiableFlow = {
      ...flow,
      forward: async () => {
        throw new Error('model exploded');
      },
      vjp: async () => {
        throw new Error('model exploded');
      },
    };
    const error = await sample(failing, good).catch((e: unknown) => e);
    expect((error as LatentLangevinError).code).toBe('FLOW_CALL_FAILED');
    expect((error as Error).message).toMatch(/model exploded/);
    expect((error as Error).cause).toBeInstanceOf(Error);
  });
});

describe('sample() on a flow that breaks its contract', () => {
  const good = { target: gaussian, chains: 2, seed: 1, warmup: 5, draws: 5 };

  it('throws InvalidFlowError naming vjp and the lengths before any redraw', async () => {
    let vjpCalls = 0;
    const short: DifferentiableFlow = {
      ...flow,
      vjp: async (z, n, cotangent) => {
        vjpCalls += 1;
        const out = await flow.vjp(z, n, cotangent);
        return { ...out, z: out.z.subarray(1) };
      },
    };
    const error = await sample(short, good).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidFlowError);
    expect((error as Error).message).toMatch(
      /^sample\(\), at the initial points, target pullback: the flow breaks its contract/,
    );
    expect((error as InvalidFlowError).problems[0]).toMatch(
      /^vjp\(z, 2, cotangent\) returned z of length 3; expected n \* d = 2 \* 2 = 4\./,
    );
    expect(vjpCalls).toBe(1);
  });

  it('throws InvalidFlowError naming jacobian when the Jacobian has the wrong length', async () => {
    const short: DifferentiableFlow = {
      ...flow,
      jacobian: async (z, n) => {
        const out = await flow.jacobian(z, n);
        return { ...out, jacobian: out.jacobian.subarray(2) };
      },
    };
    const error = await sample(short, { ...good, preconditioner: 'jacobian' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InvalidFlowError);
    expect((error as Error).message).toMatch(/^sample\(\), at the initial points:/);
    expect((error as InvalidFlowError).problems[0]).toMatch(
      new RegExp(
        '^jacobian\\(z, 2\\) returned jacobian of length 6 for the jacobian preconditioner; ' +
          'expected n \\* D \\* d = 2 \\* 2 \\* 2 = 8\\.',
      ),
    );
  });

  /** The coupling flow, throwing from its `calls`-th vjp on. */
  function failingFrom(calls: number): DifferentiableFlow {
    let count = 0;
    return {
      ...flow,
      vjp: async (z, n, cotangent) => {
        count += 1;
        if (count >= calls) throw new Error('model exploded');
        return flow.vjp(z, n, cotangent);
      },
    };
  }

  it.each([
    [1, 'at the initial points'],
    [2, 'in the initial step-size search'],
    [40, 'in iteration \\d+ \\(warmup\\)'],
  ])('says where a flow error happened: vjp call %i fails %s', async (calls, when) => {
    const error = await sample(failingFrom(calls), { ...good, warmup: 100 }).catch(
      (e: unknown) => e,
    );
    expect((error as LatentLangevinError).code).toBe('FLOW_CALL_FAILED');
    expect((error as Error).message).toMatch(
      new RegExp(
        `^sample\\(\\): evaluating target pullback on 2 chains failed ${when}: model exploded`,
      ),
    );
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  it('names step() for a flow error in a step of a sampler from init()', async () => {
    const sampler = await init(failingFrom(40), {
      target: gaussian,
      chains: 2,
      seed: 1,
      warmup: 5,
    });
    let error: unknown;
    for (let t = 0; t < 60 && error === undefined; t++) {
      await sampler.step().catch((e: unknown) => (error = e));
    }
    expect((error as Error).message).toMatch(
      /^step\(\): evaluating target pullback on 2 chains failed in iteration \d+ \(\w+\)/,
    );
  });
});

describe('sample() with one target shared by concurrent runs', () => {
  /**
   * The coupling flow, but its vjp and forward yield to the event loop before reading their
   * inputs, as a model on a worker or a GPU does: runs that share a target then interleave.
   */
  const yielding: DifferentiableFlow = {
    ...flow,
    forward: async (z, n) => {
      await new Promise((resolve) => setTimeout(resolve, 0));
      return flow.forward(z, n);
    },
    vjp: async (z, n, cotangent) => {
      await new Promise((resolve) => setTimeout(resolve, 0));
      return flow.vjp(z, n, cotangent);
    },
  };
  const withoutGradient: DataLogDensity = (x, n) => ({
    logDensity: standardNormal(x, n).logDensity,
  });
  const mixed = custom((z, x, logDet, n) => {
    const density = standardNormal(x, n);
    return {
      logPi: Float64Array.from(density.logDensity, (v, i) => v + logDet[i]),
      gradX: density.gradient,
      gradLogDet: new Float64Array(n).fill(1),
    };
  });

  it.each([
    ['pullback with a data gradient', gaussian],
    ['pullback by central differences', pullback(withoutGradient)],
    ['custom', mixed],
    ['tempered', tempered({ beta: 1 })],
  ])('gives each run the draws it gives alone, for %s', async (_, target) => {
    // Same chains (so the same batch size) and other seeds: interleaved cotangents would mix.
    const options = { target, chains: 3, warmup: 10, draws: 15 };
    const [a, b] = await Promise.all([
      sample(yielding, { ...options, seed: 1 }),
      sample(yielding, { ...options, seed: 2 }),
    ]);
    const aloneA = await sample(yielding, { ...options, seed: 1 });
    const aloneB = await sample(yielding, { ...options, seed: 2 });
    expect(a.z).toEqual(aloneA.z);
    expect(b.z).toEqual(aloneB.z);
    expect(a.logPi).toEqual(aloneA.logPi);
  });
});

describe('init() and step()', () => {
  it('advance the same chains as sample() does', async () => {
    const sampler = await init(flow, samplerBase);
    for (let t = 0; t < 100; t++) await sampler.step();
    const run = await sample(flow, base);
    expect(Array.from(sampler.z)).toEqual(
      Array.from({ length: 4 }, (_, i) =>
        Array.from(run.z.subarray((i * 40 + 39) * 2, (i * 40 + 40) * 2)),
      ).flat(),
    );
  });

  it('restore a sampler from its checkpoint to the same continuation', async () => {
    const a = await init(flow, samplerBase);
    for (let t = 0; t < 30; t++) await a.step();
    const b = await restore(flow, JSON.parse(JSON.stringify(a.checkpoint())), samplerBase);
    for (let t = 0; t < 50; t++) {
      await a.step();
      await b.step();
    }
    expect(Array.from(b.z)).toEqual(Array.from(a.z));
    expect(b.stepSize).toBe(a.stepSize);
  });
});
