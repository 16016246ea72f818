/**
 * What every adapter's parity table shares: the fixtures folder, the reference values PyTorch
 * recorded for each fixture, and the two error measures the tables use.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Absolute path of `fixtures/`, with a trailing slash. */
export const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));

/** `reference.json` of a fixture: flat row-major lists, recorded by PyTorch. */
export interface Reference {
  latentDim: number;
  dataShape: number[];
  n: number;
  /** `[n, d]` latent rows, row 0 the origin. */
  z: number[];
  /** `[n, ...dataShape]` and `[n]`: outputs of the float32 model. */
  x32: number[];
  logDet32: number[];
  /** Random cotangents of `x` and `logDet`. */
  cotangentX: number[];
  cotangentLogDet: number[];
  /** `[n, d]`: the VJP by float64 autograd. */
  vjp: number[];
}

/** Reads `fixtures/<name>/reference.json`. */
export function readReference(name: string): Reference {
  return JSON.parse(readFileSync(`${FIXTURES}${name}/reference.json`, 'utf8')) as Reference;
}

/**
 * Largest |a - b| over the largest |b|: the error relative to the output's scale. Float32 runs of
 * the same graph differ by a few ulps of the largest values, so entries near zero are judged
 * against the scale, not against themselves.
 */
export function maxRelative(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  let worst = 0;
  for (let k = 0; k < b.length; k++) {
    scale = Math.max(scale, Math.abs(b[k]));
    worst = Math.max(worst, Math.abs(a[k] - b[k]));
  }
  return worst / scale;
}

/** ||a - b|| / ||b||. */
export function relativeL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let k = 0; k < b.length; k++) {
    num += (a[k] - b[k]) ** 2;
    den += b[k] ** 2;
  }
  return Math.sqrt(num / den);
}
