import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type NpyData, encodeNpy, encodeNpz } from '@latent-langevin/cli';
import { describe, expect, it } from 'vitest';
import { hasNumpy, numpyLoad, readNpy, readNpz, tempDir } from './helpers.js';

const NUMPY = hasNumpy();

const CASES: { name: string; data: NpyData; shape: number[]; descr: string }[] = [
  {
    name: 'float32 matrix',
    data: new Float32Array([1, -2.5, 3e-8, 4]),
    shape: [2, 2],
    descr: '<f4',
  },
  {
    name: 'float64 edge values',
    data: new Float64Array([0, -0, Number.MAX_VALUE, Number.MIN_VALUE, -Infinity, Infinity]),
    shape: [6],
    descr: '<f8',
  },
  {
    name: 'uint8 cube',
    data: new Uint8Array([0, 1, 255, 7, 8, 9, 10, 11]),
    shape: [2, 2, 2],
    descr: '|u1',
  },
  {
    name: 'int32 row',
    data: new Int32Array([-2147483648, 0, 2147483647]),
    shape: [1, 3],
    descr: '<i4',
  },
  { name: 'float64 scalar', data: new Float64Array([0.125]), shape: [], descr: '<f8' },
  { name: 'empty float32', data: new Float32Array(0), shape: [0, 3], descr: '<f4' },
];

describe('encodeNpy', () => {
  it.each(CASES)(
    'writes a 64-byte aligned version 1.0 header for a $name',
    ({ data, shape, descr }) => {
      const bytes = encodeNpy({ data, shape });
      const read = readNpy(bytes);

      expect(Array.from(bytes.subarray(0, 8))).toEqual([0x93, 78, 85, 77, 80, 89, 1, 0]);
      expect(read.dataOffset % 64).toBe(0);
      expect(bytes[read.dataOffset - 1]).toBe(0x0a); // the header ends with a newline
      expect(read.descr).toBe(descr);
      expect(read.fortranOrder).toBe(false);
      expect(read.shape).toEqual(shape);
      expect(Array.from(read.data)).toEqual(Array.from(data));
    },
  );

  it('writes the shape of a 1-D array as a one-element tuple', () => {
    const header = new TextDecoder().decode(
      encodeNpy({ data: new Float32Array(5), shape: [5] }).subarray(10, 80),
    );
    expect(header).toContain("{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }");
  });

  it('throws a RangeError when the shape does not match the data', () => {
    expect(() => encodeNpy({ data: new Float32Array(5), shape: [2, 3] })).toThrow(
      /shape \[2, 3\] holds 6 values but the data has 5/,
    );
  });

  it.runIf(NUMPY).each(CASES)('gives numpy.load the same $name', ({ data, shape, descr }) => {
    const path = join(tempDir(), 'a.npy');
    writeFileSync(path, encodeNpy({ data, shape }));

    const { array } = numpyLoad(path);

    const dtype = { '<f4': 'float32', '<f8': 'float64', '|u1': 'uint8', '<i4': 'int32' }[descr];
    expect(array.dtype).toBe(dtype);
    expect(array.shape).toEqual(shape);
    expect(array.values).toEqual(Array.from(data));
  });
});

describe('encodeNpz', () => {
  it('zips one .npy per array, stored without compression and byte-for-byte reproducible', () => {
    const arrays = {
      z: { data: new Float32Array([1, 2, 3, 4, 5, 6]), shape: [1, 3, 2] },
      accepted: { data: new Uint8Array([1, 0, 1]), shape: [1, 3] },
    };
    const bytes = encodeNpz(arrays);
    const read = readNpz(bytes);

    expect(Object.keys(read).sort()).toEqual(['accepted', 'z']);
    expect(read.z.shape).toEqual([1, 3, 2]);
    expect(Array.from(read.accepted.data)).toEqual([1, 0, 1]);
    expect(encodeNpz(arrays)).toEqual(bytes);
  });

  it.runIf(NUMPY)('is read by numpy.load as a dict of arrays', () => {
    const path = join(tempDir(), 'a.npz');
    writeFileSync(
      path,
      encodeNpz({
        z: { data: new Float32Array([0.5, 1.5]), shape: [1, 1, 2] },
        log_pi: { data: new Float64Array([-1.25]), shape: [1, 1] },
      }),
    );

    const loaded = numpyLoad(path);

    expect(loaded.z).toEqual({ dtype: 'float32', shape: [1, 1, 2], values: [0.5, 1.5] });
    expect(loaded.log_pi).toEqual({ dtype: 'float64', shape: [1, 1], values: [-1.25] });
  });
});
