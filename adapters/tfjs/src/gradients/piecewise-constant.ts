/**
 * Zero gradients for kernels whose outputs are piecewise constant in their inputs: comparisons,
 * logical operators and `SearchSorted`. tfjs 4.22 has no gradient for them, yet they sit on the
 * differentiated path of any graph that branches on `z` (`tf.where(z > 0, ...)`, the bin search of
 * a spline flow): `Select` passes a zero gradient to its condition, and backpropagation then stops
 * at the comparison with an error unless it has a gradient. Their derivative is zero almost
 * everywhere, which is what these return.
 */
import * as tf from '@tensorflow/tfjs';

/** Piecewise-constant kernels and the names of their inputs. */
const PIECEWISE_CONSTANT: Readonly<Record<string, readonly string[]>> = {
  Equal: ['a', 'b'],
  NotEqual: ['a', 'b'],
  Greater: ['a', 'b'],
  Less: ['a', 'b'],
  LessEqual: ['a', 'b'],
  LogicalAnd: ['a', 'b'],
  LogicalOr: ['a', 'b'],
  LogicalNot: ['x'],
  SearchSorted: ['sortedSequence', 'values'],
};

/** Zero-gradient configurations, one per piecewise-constant kernel. */
export const piecewiseConstantGradConfigs: readonly tf.GradConfig[] = Object.entries(
  PIECEWISE_CONSTANT,
).map(([kernelName, inputs]) => ({
  kernelName,
  inputsToSave: [...inputs],
  gradFunc: (_dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
    Object.fromEntries(inputs.map((name, k) => [name, () => tf.zeros(saved[k].shape)])),
}));
