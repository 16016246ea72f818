/**
 * Test helpers of the command line: captured streams, a reader of the `.npy` and `.npz`
 * formats written independently of the writer, and NumPy through Debian's Python when present.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CliIo, run } from '@latent-langevin/cli';
import { unzipSync, unzlibSync } from 'fflate';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The two-moons RealNVP fixture, `z` `[batch, 2]` -> `x` `[batch, 2]`. */
export const MOONS = join(ROOT, 'fixtures/two-moons-realnvp/model.onnx');

/** A fresh temporary directory. */
export function tempDir(prefix = 'latent-langevin-cli-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** What an in-process run printed and returned. */
export interface Captured {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the command line in-process with captured, non-TTY streams. */
export async function runCli(
  argv: readonly string[],
  options: { cwd?: string; signal?: AbortSignal } = {},
): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}

/** An array read back from `.npy` bytes. */
export interface ReadArray {
  readonly descr: string;
  readonly fortranOrder: boolean;
  readonly shape: number[];
  readonly data: Float32Array | Float64Array | Uint8Array | Int32Array;
  /** Total header length (magic to newline), which NumPy aligns to 64 bytes. */
  readonly dataOffset: number;
}

/** Reads `.npy` bytes (format 1.0 or 2.0, little-endian numeric dtypes), per numpy.lib.format. */
export function readNpy(bytes: Uint8Array): ReadArray {
  const magic = String.fromCharCode(...bytes.subarray(1, 6));
  if (bytes[0] !== 0x93 || magic !== 'NUMPY') throw new Error('not an .npy file');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder('latin1').decode(bytes.subarray(start, start + headerLength));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1] ?? '';
  const fortranOrder = /'fortran_order':\s*True/.test(header);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '';
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  const offset = start + headerLength;
  const body = new Uint8Array(bytes.subarray(offset)).buffer; // a copy: Buffers share pools
  const data =
    descr === '<f4'
      ? new Float32Array(body)
      : descr === '<f8'
        ? new Float64Array(body)
        : descr === '<i4'
          ? new Int32Array(body)
          : new Uint8Array(body);
  return { descr, fortranOrder, shape, data, dataOffset: offset };
}

/** Reads `.npz` bytes into arrays by name (without the `.npy` suffix). */
export function readNpz(bytes: Uint8Array): Record<string, ReadArray> {
  const files = unzipSync(bytes);
  const arrays: Record<string, ReadArray> = {};
  for (const [name, content] of Object.entries(files)) {
    arrays[name.replace(/\.npy$/, '')] = readNpy(content);
  }
  return arrays;
}

/** A decoded PNG: 8-bit RGBA pixels, row-major `[height, width, 4]`. */
export interface ReadPng {
  readonly width: number;
  readonly height: number;
  readonly rgba: Uint8Array;
}

/**
 * Decodes a PNG of 8-bit greyscale, RGB or RGBA pixels without interlacing (what the plots
 * write), per the PNG specification: IHDR, the zlib stream of the IDAT chunks, and the five
 * scanline filters.
 *
 * @throws Error for anything else, or a file that is not a PNG
 */
export function readPng(bytes: Uint8Array): ReadPng {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (!signature.every((b, k) => bytes[k] === b)) throw new Error('not a PNG file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Uint8Array[] = [];
  for (let at = 8; at < bytes.length;) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    const data = bytes.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') {
      width = view.getUint32(at + 8);
      height = view.getUint32(at + 12);
      const [depth, colour, , , interlace] = data.subarray(8, 13);
      channels = ({ 0: 1, 2: 3, 6: 4 } as Record<number, number>)[colour] ?? 0;
      if (depth !== 8 || channels === 0 || interlace !== 0) {
        throw new Error(
          `unsupported PNG: depth ${depth}, colour ${colour}, interlace ${interlace}`,
        );
      }
    }
    if (type === 'IDAT') idat.push(data);
    at += 12 + length;
  }
  const packed = new Uint8Array(idat.reduce((n, d) => n + d.length, 0));
  idat.reduce((offset, d) => (packed.set(d, offset), offset + d.length), 0);
  const raw = unzlibSync(packed);

  const stride = width * channels;
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pixels[y * stride + x - channels] : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels] : 0;
      const p = a + b - c;
      const paeth =
        Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c)
          ? a
          : Math.abs(p - b) <= Math.abs(p - c)
            ? b
            : c;
      const predictor = [0, a, b, (a + b) >> 1, paeth][filter];
      if (predictor === undefined) throw new Error(`bad PNG filter ${filter} on row ${y}`);
      pixels[y * stride + x] = (line[x] + predictor) & 0xff;
    }
  }

  const rgba = new Uint8Array(width * height * 4);
  for (let k = 0; k < width * height; k++) {
    const px = pixels.subarray(k * channels, (k + 1) * channels);
    rgba.set(
      channels === 1 ? [px[0], px[0], px[0], 255] : [px[0], px[1], px[2], px[3] ?? 255],
      4 * k,
    );
  }
  return { width, height, rgba };
}

/** Debian's Python, when it is installed with NumPy. */
export const PYTHON = '/usr/bin/python3';

/** Whether `/usr/bin/python3` can import NumPy here. */
export function hasNumpy(): boolean {
  const result = spawnSync(PYTHON, ['-c', 'import numpy'], { stdio: 'ignore' });
  return result.status === 0;
}

/**
 * Loads a `.npy` or `.npz` file with `numpy.load` and returns every array as
 * `{ dtype, shape, values }`, the values flattened in C order.
 */
export function numpyLoad(
  path: string,
): Record<string, { dtype: string; shape: number[]; values: number[] }> {
  // JSON has no infinities or NaN: Python sends them as strings, turned back into numbers here.
  const script = [
    'import json, math, sys, numpy as np',
    'f = np.load(sys.argv[1], allow_pickle=False)',
    "items = f.items() if hasattr(f, 'files') else [('array', f)]",
    'num = lambda x: x if math.isfinite(x) else repr(x)',
    'out = {k: {"dtype": str(v.dtype), "shape": list(v.shape),',
    '           "values": [num(x) for x in v.astype("float64").ravel().tolist()]}',
    '       for k, v in items}',
    'print(json.dumps(out))',
  ].join('\n');
  const parsed = JSON.parse(
    execFileSync(PYTHON, ['-c', script, path], { encoding: 'utf8' }),
  ) as Record<string, { dtype: string; shape: number[]; values: (number | string)[] }>;
  const special: Record<string, number> = { inf: Infinity, '-inf': -Infinity, nan: NaN };
  return Object.fromEntries(
    Object.entries(parsed).map(([name, array]) => [
      name,
      { ...array, values: array.values.map((v) => (typeof v === 'number' ? v : special[v])) },
    ]),
  );
}
