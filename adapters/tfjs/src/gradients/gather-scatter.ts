/**
 * Gradients of `GatherNd` and `ScatterNd`, which tfjs 4.22 has none of. Each is the other's
 * transpose: `GatherNd` reads `params` at `indices`, so its gradient scatters `dy` back, summing
 * over repeated indices (`ScatterNd` sums them too); `ScatterNd` writes `updates` at `indices`, so
 * its gradient reads `dy` there. Integer `indices` get a zero gradient.
 */
import * as tf from '@tensorflow/tfjs';

/** The gradient registered for `GatherNd`. */
export const gatherNdGradConfig: tf.GradConfig = {
  kernelName: 'GatherNd',
  inputsToSave: ['params', 'indices'],
  gradFunc: (dy, saved) => {
    const [params, indices] = saved;
    return {
      params: () => tf.scatterND(indices, dy as tf.Tensor, params.shape),
      indices: () => tf.zeros(indices.shape),
    };
  },
};

/** The gradient registered for `ScatterNd`. */
export const scatterNdGradConfig: tf.GradConfig = {
  kernelName: 'ScatterNd',
  inputsToSave: ['indices'],
  gradFunc: (dy, saved) => {
    const [indices] = saved;
    return {
      updates: () => tf.gatherND(dy as tf.Tensor, indices),
      indices: () => tf.zeros(indices.shape),
    };
  },
};
