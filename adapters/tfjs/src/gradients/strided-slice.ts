/**
 * Gradient of `StridedSlice`, the kernel behind every Python slice `y[:, a:b]` in a converted
 * graph. tfjs 4.22 has none.
 *
 * The slice reads `x[begin_j + k * stride_j]` for `k < size_j` along each axis `j` of `x`, so its
 * gradient scatters `dy` back to those positions and leaves zeros elsewhere (TensorFlow's
 * `StridedSliceGrad`). It is built from pad, reshape, reverse and slice, which every backend has:
 * along an axis with `|stride| > 1`, each entry is followed by `|stride| - 1` zeros; a negative
 * stride is read backwards first; then the axis is padded to its length in `x`.
 *
 * It follows TensorFlow's semantics. tfjs 4.22's own forward kernel (cpu and wasm) reads the
 * wrong entries when a shrunk axis (`y[3::-2, 1]`) meets a stride other than 1 on another axis;
 * converted flows do not slice that way, and the gradient is not bent to match.
 */
import * as tf from '@tensorflow/tfjs';

/** The attributes of the `StridedSlice` kernel, as tfjs records them. */
interface StridedSliceAttrs {
  readonly begin: number[];
  readonly end: number[];
  readonly strides: number[];
  readonly beginMask: number;
  readonly endMask: number;
  readonly ellipsisMask: number;
  readonly newAxisMask: number;
  readonly shrinkAxisMask: number;
}

/**
 * `dx` of a strided slice of an input of shape `xShape`, for the output gradient `dy`.
 *
 * @param dy gradient of the slice's output, any shape of the slice's output
 * @param xShape shape of the sliced input
 * @param attrs the kernel's attributes (begin, end, strides and the five masks)
 * @returns a float32 tensor of shape `xShape`
 */
export function stridedSliceBackward(
  dy: tf.Tensor,
  xShape: readonly number[],
  attrs: StridedSliceAttrs,
): tf.Tensor {
  // Per axis of x: first position read, step, and count (shrunk axes count 1, new axes none).
  const info = tf.slice_util.sliceInfo(
    [...xShape],
    attrs.begin,
    attrs.end,
    attrs.strides,
    attrs.beginMask,
    attrs.endMask,
    attrs.ellipsisMask,
    attrs.newAxisMask,
    attrs.shrinkAxisMask,
  );
  const sizes = tf.slice_util
    .computeOutShape(info.begin, info.end, info.strides)
    .map((size) => Math.max(0, size));
  if (sizes.some((size) => size === 0)) return tf.zeros([...xShape]);

  let dx = tf.reshape(dy, sizes);
  for (let axis = 0; axis < xShape.length; axis++) {
    const size = sizes[axis];
    const stride = info.strides[axis];
    const step = Math.abs(stride);
    // Lowest position read along this axis.
    const low = stride > 0 ? info.begin[axis] : info.begin[axis] - (size - 1) * step;
    if (stride < 0) dx = tf.reverse(dx, axis);
    if (step > 1 && size > 1) {
      // Follow each entry with step - 1 zeros: pad a new axis after this one, merge the two,
      // and drop the zeros after the last entry.
      const shape = dx.shape;
      const none = (): [number, number] => [0, 0];
      const padded = tf.pad(tf.expandDims(dx, axis + 1), [
        ...shape.slice(0, axis + 1).map(none),
        [0, step - 1],
        ...shape.slice(axis + 1).map(none),
      ]);
      const spread = [...shape.slice(0, axis), size * step, ...shape.slice(axis + 1)];
      const keep = [...shape.slice(0, axis), (size - 1) * step + 1, ...shape.slice(axis + 1)];
      dx = tf.slice(tf.reshape(padded, spread), new Array<number>(shape.length).fill(0), keep);
    }
    const span = (size - 1) * step + 1;
    if (low !== 0 || low + span !== xShape[axis]) {
      const paddings = xShape.map((): [number, number] => [0, 0]);
      paddings[axis] = [low, xShape[axis] - low - span];
      dx = tf.pad(dx, paddings);
    }
  }
  return dx;
}

/** The gradient registered for `StridedSlice`. */
export const stridedSliceGradConfig: tf.GradConfig = {
  kernelName: 'StridedSlice',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved;
    return {
      x: () =>
        stridedSliceBackward(dy as tf.Tensor, x.shape, attrs as unknown as StridedSliceAttrs),
    };
  },
};
