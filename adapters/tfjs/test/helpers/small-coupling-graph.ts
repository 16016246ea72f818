/**
 * A graph model of one affine coupling on `R^2`, in the operator patterns of the two-moons
 * fixture (`StridedSlice`, `_FusedMatMul`, `Tanh`, `Exp`, `Mul`, `ConcatV2`, `Sum`) but a few
 * nodes in all, for tests that run it many times: `y2 = z2 exp(s(z1))`, `x = [z1, y2]`,
 * `logDet = s(z1)`, `s(u) = tanh(tanh(u W1 + b1) W2 + b2)` with 4 hidden units.
 */
import type { AnyGraphModel } from '@latent-langevin/tfjs';
import { GraphBuilder, attr } from './graph-builder.js';

/**
 * The coupling as a graph model whose input `z` has shape `[batch, 2]`.
 *
 * @param batch the batch size the input requires, or -1 (default) for any
 */
export function smallCouplingGraph(batch = -1): AnyGraphModel {
  const g = new GraphBuilder();
  const z = g.placeholder('z', [batch, 2]);
  const column = (name: string, k: number) =>
    g.op(
      name,
      'StridedSlice',
      [
        z,
        g.constant(`${name}/begin`, [2], [0, k], 'int32'),
        g.constant(`${name}/end`, [2], [0, k + 1], 'int32'),
        g.constant(`${name}/strides`, [2], [1, 1], 'int32'),
      ],
      {
        Index: attr.int32,
        begin_mask: attr.int(1),
        end_mask: attr.int(1),
        ellipsis_mask: attr.int(0),
        new_axis_mask: attr.int(0),
        shrink_axis_mask: attr.int(0),
      },
    );
  const dense = (name: string, input: string, shape: [number, number], w: number[], b: number[]) =>
    g.op(`${name}/Tanh`, 'Tanh', [
      g.op(
        `${name}/BiasAdd`,
        '_FusedMatMul',
        [input, g.constant(`${name}/kernel`, shape, w), g.constant(`${name}/bias`, [shape[1]], b)],
        {
          transpose_a: attr.bool(false),
          transpose_b: attr.bool(false),
          num_args: attr.int(1),
          fused_ops: attr.strings(['BiasAdd']),
        },
      ),
    ]);
  const z1 = column('z1', 0);
  const z2 = column('z2', 1);
  const h = dense('hidden', z1, [1, 4], [0.8, -0.5, 0.3, 1.1], [0.1, -0.2, 0.05, 0]);
  const s = dense('scale', h, [4, 1], [0.6, -0.4, 0.9, 0.2], [0.1]);
  const y2 = g.op('y2', 'Mul', [z2, g.op('exp', 'Exp', [s])]);
  const x = g.op('concat', 'ConcatV2', [z1, y2, g.constant('axis', [], [1], 'int32')], {
    N: attr.int(2),
    Tidx: attr.int32,
  });
  const logDet = g.op('sum', 'Sum', [s, g.constant('axes', [1], [1], 'int32')], {
    Tidx: attr.int32,
    keep_dims: attr.bool(false),
  });
  g.op('x', 'Identity', [x]);
  g.op('logdet', 'Identity', [logDet]);
  return g.model();
}
