/**
 * The gradients this package adds to tfjs: those of kernels that converted flows put on the path
 * from `z` to `x` and `logDet` and that tfjs 4.22 cannot differentiate.
 */
import * as tf from '@tensorflow/tfjs';
import { einsumGradConfig } from './einsum.js';
import { gatherNdGradConfig, scatterNdGradConfig } from './gather-scatter.js';
import { piecewiseConstantGradConfigs } from './piecewise-constant.js';
import { stridedSliceGradConfig } from './strided-slice.js';

/** Every gradient this package can register, by kernel name. */
export const GRADIENT_CONFIGS: readonly tf.GradConfig[] = [
  stridedSliceGradConfig,
  einsumGradConfig,
  gatherNdGradConfig,
  scatterNdGradConfig,
  ...piecewiseConstantGradConfigs,
];

let registered: readonly string[] | null = null;

/**
 * Registers, once per process, the gradients of the kernels in {@link GRADIENT_CONFIGS} that tfjs
 * has none for: `StridedSlice`, `Einsum`, `GatherNd`, `ScatterNd` and zero gradients for
 * comparisons, logical operators and `SearchSorted`. A kernel that already has a gradient (from
 * tfjs itself, a later tfjs version or another library) keeps it. `fromGraphModel()`,
 * `fromLayersModel()` and `fromFunction()` call it; call it yourself to use `tf.grad` on such
 * kernels directly.
 *
 * @returns the kernel names whose gradients this package registered (the same on every call)
 * @example
 * ```ts
 * registerGradients();
 * const dx = tf.grad((x: tf.Tensor) => tf.stridedSlice(x, [0, 1], [0, 2], [1, 1], 1, 1).sum());
 * ```
 */
export function registerGradients(): readonly string[] {
  if (registered !== null) return registered;
  const names: string[] = [];
  for (const config of GRADIENT_CONFIGS) {
    if (tf.getGradient(config.kernelName) != null) continue;
    tf.registerGradient(config);
    names.push(config.kernelName);
  }
  registered = Object.freeze(names);
  return registered;
}
