import { describe, expect, it } from 'vitest';
import type { AttributeValue } from '../../src/autodiff/proto.js';
import { DOUBLE, FLOAT, checkVjp, makeModel, node, randomFeed, tensor, value } from './helpers.js';

/** Double precision, central differences with step 1e-5. */
const TOLERANCE = 1e-6;

describe('MatMul', () => {
  // [description, dims of a, dims of b, run-time dims of a, run-time dims of b]
  type Case = [string, (number | string)[], (number | string)[], number[], number[]];
  const cases: Case[] = [
    ['a batch of rows times a matrix', ['n', 3], [3, 2], [4, 3], [3, 2]],
    ['a batch of matrices times a matrix', ['n', 2, 3], [3, 4], [2, 2, 3], [3, 4]],
    ['a matrix times a batch of matrices', [2, 3], ['n', 3, 4], [2, 3], [3, 3, 4]],
    ['batch axes broadcast on both sides', ['n', 1, 2, 3], [4, 3, 2], [2, 1, 2, 3], [4, 3, 2]],
    ['a vector times a batch of matrices', [3], ['n', 3, 2], [3], [2, 3, 2]],
    ['a batch of matrices times a vector', ['n', 2, 3], [3], [2, 2, 3], [3]],
    ['a vector times a vector', [3], [3], [3], [3]],
    ['a vector times a matrix', [3], [3, 2], [3], [3, 2]],
    ['a batch at size 1', ['n', 3], [3, 2], [1, 3], [3, 2]],
  ];

  describe.each(['a', 'b'])('with respect to %s', (input) => {
    it.each(cases)('for %s', async (_, da, db, ra, rb) => {
      const model = makeModel({
        inputs: [value('a', DOUBLE, da), value('b', DOUBLE, db)],
        outputs: [value('y', DOUBLE)],
        nodes: [node('MatMul', ['a', 'b'], ['m']), node('Tanh', ['m'], ['y'])],
      });
      const feeds = { a: randomFeed(DOUBLE, ra, 1), b: randomFeed(DOUBLE, rb, 2) };
      const check = await checkVjp({ model, input, outputs: ['y'], feeds });
      expect(check.error).toBeLessThan(TOLERANCE);
    });
  });

  it('differentiates a product of a tensor with itself', async () => {
    const model = makeModel({
      inputs: [value('z', DOUBLE, [3, 3])],
      outputs: [value('y', DOUBLE, [3, 3])],
      nodes: [node('MatMul', ['z', 'z'], ['y'])],
    });
    const feeds = { z: randomFeed(DOUBLE, [3, 3], 3) };
    const check = await checkVjp({ model, input: 'z', outputs: ['y'], feeds });
    expect(check.error).toBeLessThan(TOLERANCE);
  });
});

describe('Gemm', () => {
  // [attributes, dims of A, dims of B, dims of C or null]
  type Case = [Record<string, AttributeValue>, number[], number[], number[] | null];
  const cases: Case[] = [
    [{}, [4, 3], [3, 2], [2]],
    [{ transA: 1 }, [3, 4], [3, 2], [4, 2]],
    [{ transB: 1 }, [4, 3], [2, 3], [1, 2]],
    [{ transA: 1, transB: 1, alpha: { float: 0.5 }, beta: { float: 2 } }, [3, 4], [2, 3], [4, 1]],
    [{ alpha: { float: -1.5 }, beta: { float: 0.25 } }, [4, 3], [3, 2], []],
    [{ transB: 1 }, [4, 3], [2, 3], null],
  ];

  describe.each(['a', 'b', 'c'])('with respect to %s', (input) => {
    it.each(cases)('with %j, A %j, B %j, C %j', async (attributes, da, db, dc) => {
      if (input === 'c' && dc === null) return;
      const model = makeModel({
        inputs: [
          value('a', DOUBLE, da),
          value('b', DOUBLE, db),
          ...(dc ? [value('c', DOUBLE, dc)] : []),
        ],
        outputs: [value('y', DOUBLE)],
        nodes: [
          node('Gemm', dc ? ['a', 'b', 'c'] : ['a', 'b'], ['g'], attributes),
          node('Mul', ['g', 'g'], ['y']),
        ],
      });
      const feeds = {
        a: randomFeed(DOUBLE, da, 1),
        b: randomFeed(DOUBLE, db, 2),
        ...(dc ? { c: randomFeed(DOUBLE, dc, 3) } : {}),
      };
      const check = await checkVjp({ model, input, outputs: ['y'], feeds });
      expect(check.error).toBeLessThan(TOLERANCE);
    });
  });
});

describe('BatchNormalization', () => {
  it('in inference mode matches finite differences', async () => {
    const model = makeModel({
      inputs: [value('z', FLOAT, ['n', 3, 2, 2])],
      outputs: [value('y', FLOAT)],
      nodes: [
        node('BatchNormalization', ['z', 'scale', 'bias', 'mean', 'var'], ['bn'], {
          epsilon: { float: 1e-3 },
        }),
        node('Mul', ['bn', 'bn'], ['y']),
      ],
      initializers: [
        tensor('scale', FLOAT, [3], [1, 2, -0.5]),
        tensor('bias', FLOAT, [3], [0.1, 0.2, 0.3]),
        tensor('mean', FLOAT, [3], [0.5, -0.5, 0]),
        tensor('var', FLOAT, [3], [1, 0.25, 4]),
      ],
    });
    const feeds = { z: randomFeed(FLOAT, [2, 3, 2, 2], 4) };
    const check = await checkVjp({ model, input: 'z', outputs: ['y'], feeds, step: 1e-2 });
    expect(check.error).toBeLessThan(2e-3);
  });
});
