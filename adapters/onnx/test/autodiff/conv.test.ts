import { describe, expect, it } from 'vitest';
import type { AttributeValue } from '../../src/autodiff/proto.js';
import { buildVjpModel } from '../../src/autodiff/index.js';
import { FLOAT, checkVjp, makeModel, node, randomFeed, tensor, value, values } from './helpers.js';

/**
 * ONNX Runtime's CPU Conv and ConvTranspose have float32 kernels only. Convolutions are linear in
 * each argument, so central differences with step 1e-2 have no truncation error; what remains is
 * float32 rounding of the objective, about 1e-6 relative, divided by the step: 2e-3 leaves room.
 */
const TOLERANCE = 2e-3;
const STEP = 1e-2;

// [description, dims of x (strings dynamic), run-time dims of x, dims of W, attributes]
type Case = [string, (number | string)[], number[], number[], Record<string, AttributeValue>];

const convCases: Case[] = [
  [
    '1-D, pads, stride 2, even span',
    ['n', 2, 7],
    [2, 2, 7],
    [4, 2, 3],
    { pads: [1, 1], strides: [2] },
  ],
  ['1-D, stride 2, odd span', ['n', 2, 8], [2, 2, 8], [3, 2, 3], { pads: [1, 1], strides: [2] }],
  [
    '1-D, dilation 2, stride 3',
    ['n', 2, 11],
    [2, 2, 11],
    [3, 2, 3],
    { dilations: [2], strides: [3] },
  ],
  [
    '2-D, asymmetric pads, strides, dilations',
    ['n', 3, 5, 6],
    [2, 3, 5, 6],
    [4, 3, 3, 3],
    { pads: [1, 0, 1, 2], strides: [2, 3], dilations: [1, 2] },
  ],
  ['2-D, 2 groups', ['n', 4, 5, 5], [2, 4, 5, 5], [6, 2, 3, 3], { group: 2, pads: [1, 1, 1, 1] }],
  ['2-D, depthwise', ['n', 4, 5, 5], [1, 4, 5, 5], [4, 1, 3, 3], { group: 4, pads: [1, 1, 1, 1] }],
  ['2-D, 1x1 (Glow)', ['n', 4, 3, 3], [3, 4, 3, 3], [4, 4, 1, 1], {}],
  [
    '2-D, SAME_UPPER, stride 2',
    ['n', 2, 5, 6],
    [2, 2, 5, 6],
    [3, 2, 3, 2],
    { auto_pad: 'SAME_UPPER', strides: [2, 2] },
  ],
  [
    '2-D, SAME_LOWER, stride 2',
    ['n', 2, 5, 6],
    [2, 2, 5, 6],
    [3, 2, 3, 2],
    { auto_pad: 'SAME_LOWER', strides: [2, 2] },
  ],
  ['2-D, VALID', ['n', 2, 5, 6], [2, 2, 5, 6], [3, 2, 3, 2], { auto_pad: 'VALID' }],
  [
    '2-D, stride 1, more input than output channels (flipped Conv, Glow)',
    ['n', 6, 5, 4],
    [2, 6, 5, 4],
    [2, 6, 3, 3],
    { pads: [1, 1, 1, 1] },
  ],
  [
    '2-D, stride 1, 5 -> 2 channels, dilations, asymmetric pads, dynamic sizes (flipped Conv)',
    ['n', 5, 'h', 'w'],
    [2, 5, 6, 7],
    [2, 5, 3, 2],
    { pads: [2, 0, 1, 1], dilations: [1, 2] },
  ],
  [
    '1-D, stride 1, 4 -> 2 channels, pad wider than the kernel span (ConvTranspose)',
    ['n', 4, 6],
    [2, 4, 6],
    [2, 4, 3],
    { pads: [3, 0] },
  ],
  [
    '2-D, dynamic spatial sizes, stride 2',
    ['n', 2, 'h', 'w'],
    [2, 2, 7, 8],
    [3, 2, 3, 3],
    { pads: [1, 1, 0, 0], strides: [2, 2] },
  ],
];

describe('Conv', () => {
  it.each(convCases)('input gradient, %s', async (_, dx, rx, dw, attributes) => {
    const model = makeModel({
      inputs: [value('z', FLOAT, dx), value('w', FLOAT, dw), value('bias', FLOAT, [dw[0]])],
      outputs: [value('y', FLOAT)],
      nodes: [node('Conv', ['z', 'w', 'bias'], ['y'], attributes)],
    });
    const feeds = {
      z: randomFeed(FLOAT, rx, 1),
      w: randomFeed(FLOAT, dw, 2),
      bias: randomFeed(FLOAT, [dw[0]], 3),
    };
    for (const input of ['z', 'bias']) {
      const check = await checkVjp({ model, input, outputs: ['y'], feeds, step: STEP });
      expect(check.error).toBeLessThan(TOLERANCE);
    }
  });

  it.each(convCases.filter(([, , , , attributes]) => (attributes.group ?? 1) === 1))(
    'weight gradient, %s',
    async (_, dx, rx, dw, attributes) => {
      const model = makeModel({
        inputs: [value('x', FLOAT, dx), value('z', FLOAT, dw)],
        outputs: [value('y', FLOAT)],
        nodes: [node('Conv', ['x', 'z'], ['y'], attributes)],
      });
      const feeds = { x: randomFeed(FLOAT, rx, 4), z: randomFeed(FLOAT, dw, 5) };
      const check = await checkVjp({ model, input: 'z', outputs: ['y'], feeds, step: STEP });
      expect(check.error).toBeLessThan(TOLERANCE);
    },
  );

  it.each([
    ['Conv', [2, 6, 3, 3], { pads: [1, 1, 1, 1] }],
    ['ConvTranspose', [6, 2, 3, 3], { pads: [1, 1, 1, 1] }],
    ['ConvTranspose', [2, 6, 3, 3], { pads: [1, 1, 1, 1], strides: [2, 2] }],
    ['ConvTranspose', [2, 6, 3, 3], { pads: [3, 0, 0, 0] }],
  ] as const)('input gradient is a %s for W %j and %j', async (op, dw, attributes) => {
    const model = makeModel({
      inputs: [value('z', FLOAT, ['n', dw[1], 5, 5])],
      outputs: [value('y', FLOAT)],
      nodes: [node('Conv', ['z', 'w'], ['y'], attributes)],
      initializers: [tensor('w', FLOAT, [...dw], values(6, dw[0] * dw[1] * 9))],
    });
    const ops = buildVjpModel(model, { input: 'z', outputs: ['y'] }).graph!.node!.map(
      (n) => n.opType,
    );
    expect(ops.filter((o) => o === 'Conv' || o === 'ConvTranspose')).toEqual(['Conv', op]);
  });

  it('chains two convolutions and a nonlinearity, dims of one feeding the next', async () => {
    const model = makeModel({
      inputs: [
        value('z', FLOAT, ['n', 2, 6, 6]),
        value('w1', FLOAT, [3, 2, 3, 3]),
        value('w2', FLOAT, [2, 3, 1, 3]),
      ],
      outputs: [value('y', FLOAT)],
      nodes: [
        node('Conv', ['z', 'w1'], ['h'], { strides: [2, 2], pads: [1, 1, 1, 1] }),
        node('Tanh', ['h'], ['t']),
        node('Conv', ['t', 'w2'], ['y'], { pads: [0, 1, 0, 1], kernel_shape: [1, 3] }),
      ],
    });
    const feeds = {
      z: randomFeed(FLOAT, [2, 2, 6, 6], 7),
      w1: randomFeed(FLOAT, [3, 2, 3, 3], 8),
      w2: randomFeed(FLOAT, [2, 3, 1, 3], 9),
    };
    const check = await checkVjp({ model, input: 'z', outputs: ['y'], feeds, step: STEP });
    expect(check.error).toBeLessThan(TOLERANCE);
  });
});

describe('ConvTranspose', () => {
  const cases: Case[] = [
    ['1-D, stride 2, pads', ['n', 2, 5], [2, 2, 5], [2, 3, 3], { strides: [2], pads: [1, 1] }],
    [
      '1-D, stride 2, output_padding 1',
      ['n', 2, 5],
      [2, 2, 5],
      [2, 3, 3],
      { strides: [2], pads: [1, 0], output_padding: [1] },
    ],
    [
      '2-D, 2 groups, dilation 2',
      ['n', 4, 3, 4],
      [2, 4, 3, 4],
      [4, 1, 2, 2],
      { group: 2, dilations: [2, 1], strides: [1, 2] },
    ],
  ];

  it.each(cases)('input gradient, %s', async (_, dx, rx, dw, attributes) => {
    const channels = dw[1] * ((attributes.group as number | undefined) ?? 1);
    const model = makeModel({
      inputs: [value('z', FLOAT, dx), value('w', FLOAT, dw), value('bias', FLOAT, [channels])],
      outputs: [value('y', FLOAT)],
      nodes: [node('ConvTranspose', ['z', 'w', 'bias'], ['y'], attributes)],
    });
    const feeds = {
      z: randomFeed(FLOAT, rx, 1),
      w: randomFeed(FLOAT, dw, 2),
      bias: randomFeed(FLOAT, [channels], 3),
    };
    for (const input of ['z', 'bias']) {
      const check = await checkVjp({ model, input, outputs: ['y'], feeds, step: STEP });
      expect(check.error).toBeLessThan(TOLERANCE);
    }
  });
});
