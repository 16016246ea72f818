import {
  CHECKPOINT_FORMAT,
  IncompatibleCheckpointError,
  type SamplerCheckpoint,
  couplingFlow2d,
  init,
  restore,
  sample,
  tempered,
} from '@latent-langevin/core';
import { describe, expect, it } from 'vitest';

const flow = couplingFlow2d();
const samplerOptions = { target: tempered({ beta: 1 }), chains: 4, warmup: 20, seed: 5 } as const;
const options = { ...samplerOptions, draws: 10 } as const;

/** A checkpoint of a finished run with `preconditioner`, as JSON would give it back. */
async function saved(preconditioner: 'identity' | 'diagonal' | 'jacobian' = 'identity') {
  const run = await sample(flow, { ...options, preconditioner });
  return JSON.parse(JSON.stringify(run.checkpoint)) as Record<string, unknown> & SamplerCheckpoint;
}

/** The parts of a checkpoint that the tests below edit, writable. */
interface Editable {
  format?: string;
  stepSize: number;
  metric: number[] | null;
  state?: {
    z: number[];
    logPi: (number | null)[];
    cholesky: number[] | null;
    logDetA: number[] | null;
  };
  random: { words: number[] }[];
  counters: { sampling: { divergences: number[] } };
}

/** `checkpoint` with `edit` applied to a deep copy. */
function edited(checkpoint: SamplerCheckpoint, edit: (c: Editable) => unknown): SamplerCheckpoint {
  const copy = structuredClone(checkpoint) as unknown as Editable;
  edit(copy);
  return copy as unknown as SamplerCheckpoint;
}

describe('sample() with options.resume', () => {
  it.each([
    {
      problem: 'a random array one chain short',
      edit: (c: Editable) => c.random.pop(),
      message: /options\.resume\.random has 3 entries; expected 4, one stream state per chain\./,
    },
    {
      problem: 'no state',
      edit: (c: Editable) => delete c.state,
      message: /options\.resume\.state is missing\./,
    },
    {
      problem: 'a state.z of the wrong length',
      edit: (c: Editable) => c.state?.z.push(0),
      message: /options\.resume\.state\.z has 9 entries; expected 8, \[chains, d\]\./,
    },
    {
      problem: 'a non-numeric log pi',
      edit: (c: Editable) => (c.state!.logPi[2] = null),
      message: /options\.resume\.state\.logPi\.2 is null; expected number/,
    },
    {
      problem: 'a stream state of zeros',
      edit: (c: Editable) => (c.random[1].words = [0, 0, 0, 0]),
      message: /options\.resume\.random\.1\.words is an array of length 4; expected a state that/,
    },
    {
      problem: 'a Cholesky factor where the preconditioner has none',
      edit: (c: Editable) => (c.state!.cholesky = [1, 0, 0, 1]),
      message: /options\.resume\.state\.cholesky is an array of length 4; expected null/,
    },
    {
      problem: 'a negative step size',
      edit: (c: Editable) => (c.stepSize = -1),
      message: /options\.resume\.stepSize is -1; expected number to be >0\./,
    },
    {
      problem: 'an older format',
      edit: (c: Editable) => (c.format = 'latent-langevin/checkpoint@2'),
      message: /options\.resume\.format is "[^"]+@2"; expected "latent-langevin\/checkpoint@3"/,
    },
  ])('refuses a checkpoint with $problem, naming the field', async ({ edit, message }) => {
    const checkpoint = edited(await saved(), edit);
    const error = await sample(flow, { ...options, draws: 20, resume: checkpoint }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(IncompatibleCheckpointError);
    expect((error as IncompatibleCheckpointError).code).toBe('INCOMPATIBLE_CHECKPOINT');
    expect((error as Error).message).toMatch(/^sample\(\): options\.resume /);
    expect((error as IncompatibleCheckpointError).problems.join('\n')).toMatch(message);
    expect((error as Error).message).toMatch(/\nPass a checkpoint exactly as result\.checkpoint/);
  });

  it('reports the options that differ before looking at the arrays', async () => {
    const checkpoint = edited(await saved(), (c) => c.random.pop());
    const error = await sample(flow, { ...options, chains: 3, resume: checkpoint }).catch(
      (e: unknown) => e,
    );
    expect((error as IncompatibleCheckpointError).problems).toEqual([
      'chains was 4 in the saved run and is now 3.',
    ]);
  });

  it.each(['diagonal', 'jacobian'] as const)(
    'checks the arrays of the %s preconditioner against the dimension',
    async (preconditioner) => {
      const checkpoint = await saved(preconditioner);
      const broken = edited(checkpoint, (c) => {
        if (preconditioner === 'diagonal') c.metric?.pop();
        else c.state?.logDetA?.pop();
      });
      const error = await sample(flow, {
        ...options,
        preconditioner,
        draws: 20,
        resume: broken,
      }).catch((e: unknown) => e);
      expect((error as Error).message).toMatch(
        preconditioner === 'diagonal'
          ? /options\.resume\.metric has 1 entries; expected 2, one per latent coordinate/
          : /options\.resume\.state\.logDetA has 3 entries; expected 4, one per chain/,
      );
      // The intact checkpoint still continues the run.
      const more = await sample(flow, {
        ...options,
        preconditioner,
        draws: 20,
        resume: checkpoint,
      });
      expect(more.draws).toBe(10);
    },
  );

  it('accepts the checkpoint of every phase and records the current format', async () => {
    const checkpoint = await saved();
    expect(checkpoint.format).toBe(CHECKPOINT_FORMAT);
    await expect(sample(flow, { ...options, resume: checkpoint })).resolves.toMatchObject({
      draws: 0,
    });
  });
});

describe('restore()', () => {
  it('names its checkpoint argument in the problems it finds', async () => {
    const sampler = await init(flow, samplerOptions);
    const checkpoint = edited(sampler.checkpoint(), (c) => {
      c.counters.sampling.divergences.pop();
    });
    const error = await restore(flow, checkpoint, samplerOptions).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IncompatibleCheckpointError);
    expect((error as Error).message).toMatch(
      /^restore\(\): checkpoint is malformed for a run of 4 chains in dimension 2:\n/,
    );
    expect((error as IncompatibleCheckpointError).problems).toEqual([
      'checkpoint.counters.sampling.divergences has 3 entries; expected 4, one per chain.',
    ]);
  });
});
