/**
 * Seeded pseudo-random numbers for sampling: MT19937, the 32-bit Mersenne Twister.
 *
 * MT19937 is the generator llama.cpp uses (`std::mt19937`), and this implementation yields
 * the same 32-bit stream for the same seed (seeded with the standard init_genrand
 * recurrence; the 10000th output for seed 5489 is 4123659995, as the C++ standard requires).
 * {@link Mt19937.nextDouble} follows libstdc++'s `generate_canonical<double, 53>`: two draws,
 * `(a + b * 2^32) / 2^64`, clamped below 1. Its state (624 words + position) serializes to
 * plain JSON with {@link Mt19937.getState} and restores with {@link Mt19937.fromState}.
 *
 * @module
 */
import { fieldError, requireInteger } from "./_validate.ts";

const N = 624;
const M = 397;
const UPPER = 0x80000000;
const LOWER = 0x7fffffff;
const MATRIX_A = 0x9908b0df;
const TWO_32 = 4294967296;
const TWO_64 = 18446744073709551616;
const BELOW_ONE = 1 - 2 ** -53;

/** Serializable generator state (plain JSON data). */
export interface RngState {
  /** Always "mt19937". */
  algorithm: "mt19937";
  /** The seed the generator started from. */
  seed: number;
  /** Position in the current block of words, 0..624. */
  index: number;
  /** The 624 state words, each an unsigned 32-bit integer. */
  words: number[];
}

/** A random 32-bit seed from the platform's crypto source (Math.random if absent). */
export function randomSeed(): number {
  const crypto = (globalThis as { crypto?: { getRandomValues(a: Uint32Array): Uint32Array } })
    .crypto;
  if (crypto) return crypto.getRandomValues(new Uint32Array(1))[0];
  return Math.floor(Math.random() * TWO_32) >>> 0;
}

/** The 32-bit Mersenne Twister. Same seed, same sequence. */
export class Mt19937 {
  readonly #mt = new Uint32Array(N);
  #index = N;
  #seed = 0;

  /** Seeds with an integer in [0, 2^32). */
  constructor(seed: number) {
    this.seed(seed);
  }

  /** Restores a generator from {@link RngState}; throws InvalidArgumentError if malformed. */
  static fromState(state: RngState): Mt19937 {
    const rng = new Mt19937(0);
    rng.setState(state);
    return rng;
  }

  /** Restarts the sequence from `seed` (an integer in [0, 2^32)). */
  seed(seed: number): void {
    requireInteger("seed", seed, 0, TWO_32 - 1);
    const mt = this.#mt;
    mt[0] = seed;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = Math.imul(1812433253, prev) + i;
    }
    this.#index = N;
    this.#seed = seed;
  }

  /** The seed this generator was last seeded with. */
  get initialSeed(): number {
    return this.#seed;
  }

  #twist(): void {
    const mt = this.#mt;
    for (let i = 0; i < N; i++) {
      const y = (mt[i] & UPPER) | (mt[(i + 1) % N] & LOWER);
      mt[i] = mt[(i + M) % N] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    this.#index = 0;
  }

  /** The next unsigned 32-bit integer. */
  nextUint32(): number {
    if (this.#index >= N) this.#twist();
    let y = this.#mt[this.#index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** A uniform double in [0, 1) from two 32-bit draws (libstdc++ generate_canonical). */
  nextDouble(): number {
    const a = this.nextUint32();
    const b = this.nextUint32();
    const r = (a + b * TWO_32) / TWO_64;
    return r >= 1 ? BELOW_ONE : r;
  }

  /** A snapshot of the state as plain data. */
  getState(): RngState {
    return {
      algorithm: "mt19937",
      seed: this.#seed,
      index: this.#index,
      words: Array.from(this.#mt),
    };
  }

  /** Replaces the state with a snapshot from {@link getState}. */
  setState(state: RngState): void {
    if (typeof state !== "object" || state === null) fieldError("rngState", "an object", state);
    if (state.algorithm !== "mt19937") {
      fieldError("rngState.algorithm", '"mt19937"', state.algorithm);
    }
    const seed = requireInteger("rngState.seed", state.seed, 0, TWO_32 - 1);
    const index = requireInteger("rngState.index", state.index, 0, N);
    const words = state.words;
    if (!Array.isArray(words) || words.length !== N) {
      fieldError("rngState.words", `an array of ${N} integers`, words);
    }
    for (let i = 0; i < N; i++) requireInteger(`rngState.words[${i}]`, words[i], 0, TWO_32 - 1);
    this.#mt.set(words);
    this.#index = index;
    this.#seed = seed;
  }

  /** An independent generator in the same state. */
  clone(): Mt19937 {
    const copy = new Mt19937(0);
    copy.#mt.set(this.#mt);
    copy.#index = this.#index;
    copy.#seed = this.#seed;
    return copy;
  }
}
