import { describe, expect, it } from 'vitest';
import type { onnx } from '../../src/autodiff/proto.js';
import {
  DOUBLE,
  INT64,
  checkVjp,
  makeModel,
  node,
  randomFeed,
  tensor,
  value,
  values,
} from './helpers.js';

/** Double precision, central differences with step 1e-5. */
const TOLERANCE = 1e-6;

/**
 * Two affine coupling layers of a RealNVP flow on z [batch, 4], written as PyTorch exports them:
 * the split point computed from Shape(z), weights transposed outside the path, and
 *   h = tanh(a W1 + b1), s = tanh(h Ws + bs), t = h Wt + bt,
 *   b' = b * exp(s) + t, logdet += sum(s, axis 1),
 * the second layer conditioning on the first layer's output.
 */
function coupling(): onnx.ModelProto {
  const nodes: onnx.NodeProto[] = [
    node('Shape', ['z'], ['shape']),
    node('Gather', ['shape', 'one'], ['d']),
    node('Div', ['d', 'two'], ['halfScalar']),
    node('Unsqueeze', ['halfScalar', 'axis0'], ['half']),
    node('Slice', ['z', 'zero1', 'half', 'axis1'], ['za']),
    node('Slice', ['z', 'half', 'big', 'axis1'], ['zb']),
  ];
  const initializers: onnx.TensorProto[] = [
    tensor('one', INT64, [], [1]),
    tensor('two', INT64, [], [2]),
    tensor('axis0', INT64, [1], [0]),
    tensor('axis1', INT64, [1], [1]),
    tensor('zero1', INT64, [1], [0]),
    tensor('big', INT64, [1], [1000]),
  ];
  const layer = (k: number, condition: string, moved: string): [string, string] => {
    const p = (name: string) => `l${k}_${name}`;
    initializers.push(
      tensor(p('W1raw'), DOUBLE, [8, 2], values(10 * k + 1, 16)),
      tensor(p('b1'), DOUBLE, [8], values(10 * k + 2, 8)),
      tensor(p('Ws'), DOUBLE, [8, 2], values(10 * k + 3, 16, -0.5, 0.5)),
      tensor(p('bs'), DOUBLE, [2], values(10 * k + 4, 2)),
      tensor(p('Wt'), DOUBLE, [8, 2], values(10 * k + 5, 16)),
      tensor(p('bt'), DOUBLE, [2], values(10 * k + 6, 2)),
    );
    nodes.push(
      node('Transpose', [p('W1raw')], [p('W1')], { perm: [1, 0] }),
      node('MatMul', [condition, p('W1')], [p('m1')]),
      node('Add', [p('m1'), p('b1')], [p('a1')]),
      node('Tanh', [p('a1')], [p('h')]),
      node('MatMul', [p('h'), p('Ws')], [p('ms')]),
      node('Add', [p('ms'), p('bs')], [p('as')]),
      node('Tanh', [p('as')], [p('s')]),
      node('MatMul', [p('h'), p('Wt')], [p('mt')]),
      node('Add', [p('mt'), p('bt')], [p('t')]),
      node('Exp', [p('s')], [p('e')]),
      node('Mul', [moved, p('e')], [p('scaled')]),
      node('Add', [p('scaled'), p('t')], [p('out')]),
      node('ReduceSum', [p('s'), 'axis1'], [p('ld')], { keepdims: 0 }),
    );
    return [p('out'), p('ld')];
  };
  const [xb, ld1] = layer(1, 'za', 'zb');
  const [xa, ld2] = layer(2, xb, 'za');
  nodes.push(node('Concat', [xa, xb], ['x'], { axis: 1 }), node('Add', [ld1, ld2], ['logdet']));
  return makeModel({
    inputs: [value('z', DOUBLE, ['batch', 4])],
    outputs: [value('x', DOUBLE, ['batch', 4]), value('logdet', DOUBLE, ['batch'])],
    nodes,
    initializers,
  });
}

describe('RealNVP-like coupling graph', () => {
  const model = coupling();

  it.each([1, 5])(
    'has a VJP of x and logdet matching finite differences at batch %i',
    async (n) => {
      const feeds = { z: randomFeed(DOUBLE, [n, 4], n, -2, 2) };
      const check = await checkVjp({ model, input: 'z', outputs: ['x', 'logdet'], feeds });
      expect(check.error).toBeLessThan(TOLERANCE);
      expect(check.forwardError).toBe(0);
    },
  );

  it.each([['x'], ['logdet']])('has a VJP of %s alone matching finite differences', async (out) => {
    const feeds = { z: randomFeed(DOUBLE, [3, 4], 42, -2, 2) };
    const check = await checkVjp({ model, input: 'z', outputs: [out], feeds });
    expect(check.error).toBeLessThan(TOLERANCE);
  });
});
