import {
  type DifferentiableFlow,
  type PhaseCounters,
  type SamplingAbortedError,
  couplingFlow2d,
  essBulk,
  sample,
  summarize,
  tempered,
} from '@latent-langevin/core';
import { describe, expect, it } from 'vitest';

const exact = couplingFlow2d();
/** Declares finite-difference gradients, as the finite-difference adapter's flows do. */
const differenced: DifferentiableFlow = { ...exact, gradient: 'finite-difference' };
const CHAINS = 4;
const DRAWS = 40;
const options = {
  target: tempered({ beta: 1 }),
  chains: CHAINS,
  warmup: 30,
  draws: DRAWS,
  seed: 12,
} as const;

const sum = (values: ArrayLike<number>) => Array.from(values).reduce((s, v) => s + v, 0);

describe('summarize()', () => {
  it('reports acceptance, R-hat and ESS over the quantities of the run', async () => {
    const run = await sample(exact, options);
    const summary = summarize(run);
    const s = run.counters.sampling;

    expect(summary.quantities.map((q) => q.name)).toEqual(['z[0]', 'z[1]', 'logPi']);
    expect(summary.acceptance.mean).toBe(sum(s.localAccepted) / sum(s.localProposals));
    expect(summary.rhatMax).toBe(Math.max(...summary.quantities.map((q) => q.rhat)));
    expect(summary.essBulkMin).toBe(Math.min(...summary.quantities.map((q) => q.essBulk)));
    const layout = { chains: CHAINS, draws: DRAWS, stride: 2, offset: 1 };
    expect(summary.quantities[1].essBulk).toBe(essBulk(run.z, layout));
    expect(summary.text).toMatch(/per gradient evaluation [\d.]+, per flow row [\d.]+/);
  });

  it('divides the ESS by the sampling phase: time, gradient rows and flow rows', async () => {
    const run = await sample(exact, options);
    const summary = summarize(run);
    const own = run.resultCounters.sampling;

    // tempered: one VJP row a chain and iteration, no forward-only rows.
    expect(own.gradientRows).toBe(CHAINS * DRAWS);
    expect(own.forwardRows).toBe(0);
    expect(own.flowRows).toBe(CHAINS * DRAWS);
    expect(summary.essPerSecond).toBe(summary.essBulkMin / (own.wallTimeMs / 1000));
    expect(summary.essPerGradient).toBe(summary.essBulkMin / (CHAINS * DRAWS));
    expect(summary.essPerFlowEvaluation).toBe(summary.essBulkMin / (CHAINS * DRAWS));
  });

  it('counts 2d + 1 flow rows a gradient row for a finite-difference flow', async () => {
    const run = await sample(differenced, options);
    const summary = summarize(run);
    const own = run.resultCounters.sampling;

    expect(own.gradientRows).toBe(CHAINS * DRAWS);
    expect(own.flowRows).toBe(5 * CHAINS * DRAWS);
    expect(summary.essPerGradient).toBe(summary.essBulkMin / (CHAINS * DRAWS));
    expect(summary.essPerFlowEvaluation).toBe(summary.essBulkMin / (5 * CHAINS * DRAWS));
  });

  it.each([
    // Per iteration and chain: the proposal's VJP, then its Jacobian (d VJP rows, or 2d + 1
    // forward rows for a finite-difference flow).
    { flow: 'exact', make: () => exact, gradientRows: 1 + 2, flowRows: 1 + 2 },
    { flow: 'finite-difference', make: () => differenced, gradientRows: 1 + 2, flowRows: 5 + 5 },
  ])(
    'counts the Jacobian of the jacobian preconditioner with a $flow flow',
    async ({ make, gradientRows, flowRows }) => {
      const run = await sample(make(), { ...options, preconditioner: 'jacobian' });
      const own = run.resultCounters.sampling;
      expect(own.gradientRows).toBe(gradientRows * CHAINS * DRAWS);
      expect(own.flowRows).toBe(flowRows * CHAINS * DRAWS);
    },
  );

  it('gives NaN ESS per gradient and counts forward rows for random-walk Metropolis', async () => {
    const run = await sample(exact, { ...options, kernel: 'rwm' });
    const summary = summarize(run);
    expect(run.resultCounters.sampling.flowRows).toBe(CHAINS * DRAWS);
    expect(summary.essPerGradient).toBeNaN();
    expect(summary.essPerFlowEvaluation).toBe(summary.essBulkMin / (CHAINS * DRAWS));
  });
});

describe('summarize() of a resumed run', () => {
  /** Runs `options` aborted after `stopAt` iterations, then resumed to the end. */
  async function inTwoParts(stopAt: number) {
    const controller = new AbortController();
    let calls = 0;
    const error = await sample(exact, {
      ...options,
      signal: controller.signal,
      onProgress: () => {
        calls += 1;
        if (calls === stopAt) controller.abort();
      },
    }).catch((e: unknown) => e);
    const first = (error as SamplingAbortedError).partial;
    const second = await sample(exact, { ...options, resume: first.checkpoint });
    return { first, second };
  }

  it('rates each part by its own draws, time and gradient rows', async () => {
    const { first, second } = await inTwoParts(50); // 30 warm-up and 20 sampling iterations
    expect([first.draws, second.draws]).toEqual([20, 20]);

    for (const part of [first, second]) {
      const summary = summarize(part);
      const own = part.resultCounters.sampling;
      expect(own.gradientRows).toBe(CHAINS * 20);
      expect(summary.essPerGradient).toBe(summary.essBulkMin / (CHAINS * 20));
      expect(summary.essPerSecond).toBe(summary.essBulkMin / (own.wallTimeMs / 1000));
    }
    // The whole run's counters hold both parts.
    expect(second.counters.sampling.gradientRows).toBe(CHAINS * DRAWS);
    expect(second.resultCounters.sampling.wallTimeMs).toBeLessThan(
      second.counters.sampling.wallTimeMs,
    );
  });

  it('splits every counter of the run between the parts', async () => {
    const { first, second } = await inTwoParts(20); // stopped in warm-up
    const whole = second.counters;
    for (const phase of ['warmup', 'sampling'] as const) {
      const a = first.resultCounters[phase];
      const b = second.resultCounters[phase];
      for (const key of ['gradientRows', 'forwardRows', 'flowRows'] as const) {
        expect(a[key] + b[key]).toBe(whole[phase][key]);
      }
      for (const key of ['localProposals', 'localAccepted', 'divergences'] as const) {
        const added = Array.from(a[key] as PhaseCounters[typeof key], (v, i) => v + b[key][i]);
        expect(added).toEqual(Array.from(whole[phase][key]));
      }
    }
    expect(first.resultCounters.sampling.gradientRows).toBe(0);
  });
});
