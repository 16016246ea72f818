/**
 * Small dense linear algebra in float64 for the position-dependent preconditioner: one `d x d`
 * symmetric positive definite matrix per chain, stored row-major at an offset of a flat array.
 */

/**
 * In-place Cholesky factorisation `A = L L^T` of the `d x d` matrix at `a[offset...]`; the lower
 * triangle receives `L`, the strict upper triangle is zeroed. Returns `log det A`, or NaN when the
 * matrix is not numerically positive definite.
 */
export function choleskyInPlace(a: Float64Array, offset: number, d: number): number {
  let logDet = 0;
  for (let j = 0; j < d; j++) {
    const rowJ = offset + j * d;
    let diagonal = a[rowJ + j];
    for (let k = 0; k < j; k++) diagonal -= a[rowJ + k] * a[rowJ + k];
    if (!(diagonal > 0) || !Number.isFinite(diagonal)) return Number.NaN;
    const pivot = Math.sqrt(diagonal);
    a[rowJ + j] = pivot;
    logDet += 2 * Math.log(pivot);
    for (let i = j + 1; i < d; i++) {
      const rowI = offset + i * d;
      let sum = a[rowI + j];
      for (let k = 0; k < j; k++) sum -= a[rowI + k] * a[rowJ + k];
      a[rowI + j] = sum / pivot;
    }
    for (let k = j + 1; k < d; k++) a[rowJ + k] = 0;
  }
  return logDet;
}

/** Solves `L y = b` in place (`b` becomes `y`), `L` lower triangular at `l[offset...]`. */
export function solveLower(l: Float64Array, offset: number, d: number, b: Float64Array): void {
  for (let i = 0; i < d; i++) {
    let sum = b[i];
    for (let k = 0; k < i; k++) sum -= l[offset + i * d + k] * b[k];
    b[i] = sum / l[offset + i * d + i];
  }
}

/** Solves `L^T y = b` in place, `L` lower triangular at `l[offset...]`. */
export function solveUpper(l: Float64Array, offset: number, d: number, b: Float64Array): void {
  for (let i = d - 1; i >= 0; i--) {
    let sum = b[i];
    for (let k = i + 1; k < d; k++) sum -= l[offset + k * d + i] * b[k];
    b[i] = sum / l[offset + i * d + i];
  }
}

/** `|L^T v|^2 = v^T A v` for `A = L L^T`, without forming `A`. */
export function quadraticForm(l: Float64Array, offset: number, d: number, v: Float64Array): number {
  let total = 0;
  for (let j = 0; j < d; j++) {
    let sum = 0;
    for (let i = j; i < d; i++) sum += l[offset + i * d + j] * v[i];
    total += sum * sum;
  }
  return total;
}
