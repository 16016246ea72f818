/**
 * Seeded random numbers. Each chain owns one independent stream, a xoshiro128** generator
 * (Blackman and Vigna 2018) whose 128-bit state is derived from `(seed, stream index)` by
 * SplitMix64, so chain `k` draws the same numbers whether it runs alone or beside others.
 * The state is plain data: it can be saved and restored exactly.
 */
import { InvalidArgumentError, describeValue } from './errors.js';

/** Serialisable state of one stream. */
export interface RandomStreamState {
  /** The four 32-bit words of the xoshiro128** state, as unsigned integers. */
  readonly words: readonly [number, number, number, number];
  /** The second normal of the last Box-Muller pair, or null when none is pending. */
  readonly spareNormal: number | null;
}

const TWO_POW_53 = 9007199254740992;

/** One independent stream of uniform and normal variates. */
export class RandomStream {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number;
  private hasSpare: boolean;

  constructor(state: RandomStreamState) {
    [this.s0, this.s1, this.s2, this.s3] = state.words;
    this.hasSpare = state.spareNormal !== null;
    this.spare = state.spareNormal ?? 0;
  }

  /** Next unsigned 32-bit integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 67108864 + low) / TWO_POW_53;
  }

  /** Standard normal variate, by the Box-Muller transform (pairs, the second kept for later). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    const u1 = 1 - this.uniform(); // in (0, 1], so the logarithm is finite
    const u2 = this.uniform();
    const radius = Math.sqrt(-2 * Math.log(u1));
    const angle = 2 * Math.PI * u2;
    this.spare = radius * Math.sin(angle);
    this.hasSpare = true;
    return radius * Math.cos(angle);
  }

  /** Current state, to resume this stream exactly later. */
  getState(): RandomStreamState {
    return {
      words: [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0],
      spareNormal: this.hasSpare ? this.spare : null,
    };
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
 * pair through SplitMix64; the seed is an integer in [0, 2^53).
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
  return { words, spareNormal: null };
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
