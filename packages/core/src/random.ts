/**
 * Seeded random numbers. Each chain owns one independent stream, a xoshiro128** generator
 * (Blackman and Vigna 2018) whose 128-bit state is derived from `(seed, stream index)` by
 * SplitMix64, so chain `k` draws the same numbers whether it runs alone or beside others.
 * Normals come from a 256-layer ziggurat (Marsaglia and Tsang 2000). The state is four integers:
 * it can be saved and restored exactly.
 */
import { InvalidArgumentError, describeValue } from './errors.js';

/** Serialisable state of one stream. */
export interface RandomStreamState {
  /** The four 32-bit words of the xoshiro128** state, as unsigned integers. */
  readonly words: readonly [number, number, number, number];
}

const TWO_POW_53 = 9007199254740992;

/*
 * Ziggurat tables. The half-density f(x) = exp(-x^2 / 2) on x >= 0 is covered by 256 layers of
 * equal area V: layer 0 is the strip under f below f(R) together with the tail beyond R, layer i
 * (1 <= i <= 255) is the rectangle [0, X[i]] x [f(X[i]), f(X[i + 1])], with X[1] = R and
 * X[256] = 0. R and V are the values for which the 256 layers close exactly at the mode.
 */
const LAYERS = 256;
const TAIL_START = 3.654152885361009; // R
const LAYER_AREA = 0.00492867323399; // V
const halfDensity = (x: number): number => Math.exp(-0.5 * x * x);

/** `X[i]`: the right edge of layer i; `X[0] = V / f(R)` is the width that gives layer 0 area V. */
const LAYER_EDGE = new Float64Array(LAYERS + 1);
/** `f(X[i])`. */
const LAYER_DENSITY = new Float64Array(LAYERS + 1);
/** `X[i] / 2^53`: turns 53 random bits into a uniform point of `[0, X[i])`. */
const LAYER_SCALE = new Float64Array(LAYERS);
/** `2^53 X[i + 1] / X[i]`: below it, the point lies under f whatever its height. */
const LAYER_INNER = new Float64Array(LAYERS);

LAYER_EDGE[0] = LAYER_AREA / halfDensity(TAIL_START);
LAYER_EDGE[1] = TAIL_START;
for (let i = 1; i < LAYERS - 1; i++) {
  const edge = LAYER_EDGE[i];
  LAYER_EDGE[i + 1] = Math.sqrt(-2 * Math.log(LAYER_AREA / edge + halfDensity(edge)));
}
LAYER_EDGE[LAYERS] = 0;
for (let i = 0; i <= LAYERS; i++) LAYER_DENSITY[i] = halfDensity(LAYER_EDGE[i]);
for (let i = 0; i < LAYERS; i++) {
  LAYER_SCALE[i] = LAYER_EDGE[i] / TWO_POW_53;
  LAYER_INNER[i] = (LAYER_EDGE[i + 1] / LAYER_EDGE[i]) * TWO_POW_53;
}

/** One independent stream of uniform and normal variates. */
export class RandomStream {
  /** xoshiro128** state, held as signed 32-bit integers so that no update leaves int32. */
  private readonly state = new Int32Array(4);

  constructor(state: RandomStreamState) {
    this.state.set(state.words.map((word) => word | 0));
  }

  /** Next unsigned 32-bit integer. */
  nextUint32(): number {
    const s = this.state;
    const s0 = s[0];
    const s1 = s[1];
    const s2 = s[2] ^ s0;
    const s3 = s[3] ^ s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    s[0] = s0 ^ s3;
    s[1] = s1 ^ s2;
    s[2] = s2 ^ (s1 << 9);
    s[3] = rotl(s3, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 67108864 + low) / TWO_POW_53;
  }

  /**
   * Standard normal variate, by the ziggurat. One draw takes two 32-bit words: 8 bits choose the
   * layer, 1 the sign and the other 53 the point within the layer, so the three are independent.
   * About 99% of draws end at the first comparison.
   */
  normal(): number {
    for (;;) {
      const first = this.nextUint32();
      const second = this.nextUint32();
      const layer = first & 0xff;
      const bits = (first >>> 9) * 1073741824 + (second >>> 2); // 23 + 30 bits
      const negative = (first & 0x100) !== 0;
      const magnitude = bits * LAYER_SCALE[layer];
      const x = negative ? -magnitude : magnitude;
      if (bits < LAYER_INNER[layer]) return x;
      if (layer === 0) return this.tail(negative);
      // The point is in the wedge between the inner rectangle and f: accept it under f.
      const below = LAYER_DENSITY[layer];
      const height = below + this.uniform() * (LAYER_DENSITY[layer + 1] - below);
      if (height < halfDensity(magnitude)) return x;
    }
  }

  /** A draw of the normal beyond `R` (Marsaglia 1964), with the given sign. */
  private tail(negative: boolean): number {
    for (;;) {
      const excess = -Math.log(1 - this.uniform()) / TAIL_START;
      const y = -Math.log(1 - this.uniform());
      if (2 * y >= excess * excess) return negative ? -(TAIL_START + excess) : TAIL_START + excess;
    }
  }

  /** Current state, to resume this stream exactly later. */
  getState(): RandomStreamState {
    const s = this.state;
    return { words: [s[0] >>> 0, s[1] >>> 0, s[2] >>> 0, s[3] >>> 0] };
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

const MASK_64 = (1n << 64n) - 1n;

function splitMix64(state: bigint): [bigint, bigint] {
  const next = (state + 0x9e3779b97f4a7c15n) & MASK_64;
  let z = next;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK_64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK_64;
  return [next, z ^ (z >> 31n)];
}

/**
 * State of stream `index` for a given seed. Streams of one seed are decorrelated by hashing the
 * pair through SplitMix64. Chain `k` of a sampler uses stream `chainOffset + k`.
 *
 * @param seed integer in [0, 2^53)
 * @param index stream index, integer in [0, 2^53)
 * @returns the four words of a xoshiro128** state, never all zero
 * @throws InvalidArgumentError when seed or index is not an integer in [0, 2^53)
 * @example
 * ```ts
 * const third = new RandomStream(streamState(42, 2)); // chain 2 of seed 42
 * const u = third.uniform();
 * ```
 */
export function streamState(seed: number, index: number): RandomStreamState {
  for (const [name, value] of [
    ['seed', seed],
    ['index', index],
  ] as const) {
    if (!Number.isInteger(value) || value < 0 || value >= 2 ** 53) {
      throw new InvalidArgumentError('streamState()', [
        `${name} must be an integer in [0, 2^53); received ${describeValue(value)}. ` +
          'Pass e.g. 42.',
      ]);
    }
  }
  let state = (BigInt(seed) * 0x100000001b3n + BigInt(index) * 0xd1b54a32d192ed03n) & MASK_64;
  let a: bigint;
  [state, a] = splitMix64(state);
  [state, a] = splitMix64(state ^ a);
  const [, b] = splitMix64(state);
  const words: [number, number, number, number] = [
    Number(a & 0xffffffffn),
    Number(a >> 32n),
    Number(b & 0xffffffffn),
    Number(b >> 32n),
  ];
  if (words.every((w) => w === 0)) words[0] = 1; // xoshiro must not start from the zero state
  return { words };
}

/**
 * Creates `count` independent streams for `seed`, stream `k` being the same for every `count`.
 *
 * @param seed integer in [0, 2^53)
 * @param count number of streams, usually one per chain
 * @example
 * ```ts
 * const [chain0, chain1] = createStreams(42, 2);
 * const u = chain0.uniform();
 * ```
 */
export function createStreams(seed: number, count: number, first = 0): RandomStream[] {
  const streams: RandomStream[] = [];
  for (let k = 0; k < count; k++) streams.push(new RandomStream(streamState(seed, first + k)));
  return streams;
}
