/**
 * Gradient of `Einsum` (TensorFlow's `tf.einsum` and Keras `EinsumDense` convert to it), which
 * tfjs 4.22 has none of. Only the forms tfjs can run are covered: one or two operands, an
 * explicit `->`, no ellipsis and no index repeated within one operand.
 *
 * For `y = einsum('A,B->O', a, b)`, `da = einsum('O,B->A*', dy, b)` where `A*` keeps the indices
 * of `A` that occur in `O` or `B`; an index found only in `A` is summed out by the forward pass,
 * so its gradient is `da` broadcast along it.
 */
import * as tf from '@tensorflow/tfjs';
import { TfjsFlowError } from '../errors.js';

/**
 * Subscripts of the operands and of the output of an einsum equation.
 *
 * @throws TfjsFlowError `UNSUPPORTED_OPERATOR` for an equation without `->` or with an ellipsis
 */
export function parseEinsum(equation: string): { inputs: string[]; output: string } {
  const compact = equation.replace(/\s+/g, '');
  const arrow = compact.indexOf('->');
  if (arrow < 0 || compact.includes('.')) {
    throw new TfjsFlowError(
      'UNSUPPORTED_OPERATOR',
      `Einsum gradient: the equation '${equation}' has ${arrow < 0 ? "no '->'" : 'an ellipsis'}; ` +
        "the registered gradient covers what tfjs runs: an explicit '->' and no ellipsis. Write " +
        "the subscripts out, e.g. 'bij,bjk->bik'.",
    );
  }
  return { inputs: compact.slice(0, arrow).split(','), output: compact.slice(arrow + 2) };
}

/**
 * Gradient of operand `k` of `einsum(equation, ...operands)` for the output gradient `dy`.
 *
 * @param equation the forward equation, e.g. `'bij,bjk->bik'`
 * @param operands the forward operands (one or two)
 * @param k which operand, 0 or 1
 * @param dy gradient of the output, of the output's shape
 * @returns a float32 tensor of the shape of `operands[k]`
 */
export function einsumBackward(
  equation: string,
  operands: readonly tf.Tensor[],
  k: number,
  dy: tf.Tensor,
): tf.Tensor {
  const { inputs, output } = parseEinsum(equation);
  const own = inputs[k];
  const other = inputs.length === 2 ? inputs[1 - k] : null;
  const kept = [...own].filter((c) => output.includes(c) || (other ?? '').includes(c)).join('');

  let gradient: tf.Tensor;
  if (other !== null) gradient = tf.einsum(`${output},${other}->${kept}`, dy, operands[1 - k]);
  else gradient = kept === output ? dy : tf.einsum(`${output}->${kept}`, dy);
  if (kept.length === own.length) return gradient;

  // Indices summed within this operand alone: put them back as axes of length 1, broadcast.
  const shape = operands[k].shape;
  const withOnes = [...own].map((c, axis) => (kept.includes(c) ? shape[axis] : 1));
  return tf.broadcastTo(tf.reshape(gradient, withOnes), shape);
}

/** The gradient registered for `Einsum`. */
export const einsumGradConfig: tf.GradConfig = {
  kernelName: 'Einsum',
  saveAllInputs: true,
  gradFunc: (dy, saved, attrs) => {
    const { equation } = attrs as unknown as { equation: string };
    return Object.fromEntries(
      saved.map((_, k) => [String(k), () => einsumBackward(equation, saved, k, dy as tf.Tensor)]),
    );
  },
};
