/**
 * NumPy's `.npy` format (version 1.0) and `.npz` archives, written without NumPy: a magic
 * string, a little-endian header length, a Python dict literal naming the dtype, the memory
 * order and the shape, then the raw row-major data. See numpy.lib.format.
 */
import { zipSync } from 'fflate';

/** A typed array `.npy` can hold, with the dtype it is written as. */
export type NpyData = Float32Array | Float64Array | Uint8Array | Int32Array;

/** One array of an `.npz` archive: row-major data and its shape. */
export interface NpyArray {
  readonly data: NpyData;
  /** Shape, e.g. `[chains, draws, d]`; `[]` for a scalar. Its product is `data.length`. */
  readonly shape: readonly number[];
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

/** NumPy dtype descriptor of a typed array: little-endian, or `|` where order does not apply. */
export function npyDescr(data: NpyData): string {
  if (data instanceof Float32Array) return '<f4';
  if (data instanceof Float64Array) return '<f8';
  if (data instanceof Int32Array) return '<i4';
  return '|u1';
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The bytes of `data` in little-endian order, swapped on the rare big-endian host. */
function littleEndianBytes(data: NpyData): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const width = data.BYTES_PER_ELEMENT;
  if (LITTLE_ENDIAN || width === 1) return bytes;
  const swapped = new Uint8Array(bytes.length);
  for (let k = 0; k < bytes.length; k += width) {
    for (let b = 0; b < width; b++) swapped[k + b] = bytes[k + width - 1 - b];
  }
  return swapped;
}

/**
 * Encodes one array as an `.npy` file (format version 1.0, C order).
 *
 * @param array row-major data with its shape; `shape`'s product must equal `data.length`
 * @returns the file's bytes; the header is padded so the data starts on a 64-byte boundary
 * @throws RangeError when the shape does not match the data's length
 * @example
 * ```ts
 * const bytes = encodeNpy({ data: new Float32Array([1, 2, 3, 4]), shape: [2, 2] });
 * await writeFile('a.npy', bytes); // numpy.load('a.npy') -> array([[1., 2.], [3., 4.]])
 * ```
 */
export function encodeNpy(array: NpyArray): Uint8Array {
  const { data, shape } = array;
  const size = shape.reduce((product, extent) => product * extent, 1);
  if (!shape.every((extent) => Number.isInteger(extent) && extent >= 0) || size !== data.length) {
    throw new RangeError(
      `encodeNpy(): shape [${shape.join(', ')}] holds ${size} values but the data has ` +
        `${data.length}. Pass a shape whose product is the data's length.`,
    );
  }

  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${npyDescr(data)}', 'fortran_order': False, 'shape': ${tuple}, }`;
  // Magic (6) + version (2) + header length (2) + dict + spaces + '\n', a multiple of 64.
  const unpadded = MAGIC.length + 4 + dict.length + 1;
  const headerLength = Math.ceil(unpadded / 64) * 64 - MAGIC.length - 4;
  const header = dict.padEnd(headerLength - 1, ' ') + '\n';

  const out = new Uint8Array(MAGIC.length + 4 + headerLength + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1; // major version
  out[7] = 0; // minor version
  out[8] = headerLength & 0xff;
  out[9] = headerLength >> 8;
  for (let k = 0; k < header.length; k++) out[10 + k] = header.charCodeAt(k);
  out.set(littleEndianBytes(data), 10 + headerLength);
  return out;
}

/**
 * Encodes named arrays as an `.npz` archive, a zip of `<name>.npy` files, stored uncompressed
 * as `numpy.savez` does.
 *
 * @param arrays arrays by name; a name must be a valid file name without `.npy`
 * @returns the archive's bytes, which `numpy.load` opens as a dict of arrays
 * @throws RangeError when an array's shape does not match its data
 * @example
 * ```ts
 * const bytes = encodeNpz({ z: { data: run.z, shape: [run.chains, run.draws, run.latentDim] } });
 * ```
 */
export function encodeNpz(arrays: Readonly<Record<string, NpyArray>>): Uint8Array {
  const files: Record<string, Uint8Array> = {};
  for (const [name, array] of Object.entries(arrays)) files[`${name}.npy`] = encodeNpy(array);
  // A fixed timestamp keeps the archive byte-for-byte reproducible from a seed.
  return zipSync(files, { level: 0, mtime: new Date(1980, 0, 1) });
}
