/**
 * Dist: samples a candidate from the softmax of the logits with a seeded MT19937 (see
 * rng.ts) and sets `selected`. One draw u in [0, 1) picks the first candidate, in current
 * order, whose cumulative probability exceeds u times the total, so a zero-probability
 * (banned) candidate is never picked. `reset()` reseeds like llama.cpp: back to the seed when
 * one was given, a fresh random seed otherwise. `clone()` copies the RNG state, so a clone
 * draws the same tokens as the original from then on.
 *
 * @module
 */
import { nothingToSample, requireInteger } from "./_validate.ts";
import { Mt19937, randomSeed, type RngState } from "./rng.ts";
import { type Candidates, type Sampler, SAMPLER_API_VERSION, softmax } from "./types.ts";

/** Draws an index of `[0, size)` with probability `probs[i] / sum(probs)`; -1 if all are 0. */
export function sampleIndex(probs: Float32Array, size: number, u: number): number {
  let total = 0;
  for (let i = 0; i < size; i++) total += probs[i];
  if (!(total > 0)) return -1;
  const target = u * total;
  let cum = 0, last = -1;
  for (let i = 0; i < size; i++) {
    const p = probs[i];
    if (p > 0) {
      cum += p;
      last = i;
      if (cum > target) return i;
    }
  }
  return last;
}

/** Samples from the distribution with a seeded RNG. */
export class DistSampler implements Sampler {
  /** Interface version. */
  readonly apiVersion = SAMPLER_API_VERSION;
  /** llama.cpp's name for this sampler. */
  readonly name = "dist";
  #fixedSeed: boolean;
  #rng: Mt19937;

  /** @param seed an integer in [0, 2^32); omitted or -1 means a random seed. */
  constructor(seed?: number) {
    if (seed === undefined || seed === -1) {
      this.#fixedSeed = false;
      this.#rng = new Mt19937(randomSeed());
    } else {
      this.#fixedSeed = true;
      this.#rng = new Mt19937(requireInteger("seed", seed, 0, 0xffffffff));
    }
  }

  /** The seed in use (the random one when none was given). */
  get seed(): number {
    return this.#rng.initialSeed;
  }

  /** Snapshot of the RNG (plain JSON data). */
  getRngState(): RngState {
    return this.#rng.getState();
  }

  /** Restores an RNG snapshot (InvalidArgumentError if malformed). */
  setRngState(state: RngState): void {
    this.#rng.setState(state);
  }

  /** Softmax, then one weighted draw; throws InvalidArgumentError if nothing can be drawn. */
  apply(c: Candidates): void {
    softmax(c);
    const sel = sampleIndex(c.probs, c.size, this.#rng.nextDouble());
    if (sel < 0) nothingToSample(this.name, c.size);
    c.selected = sel;
  }

  /** Reseeds: the same seed if one was given, else a new random one. */
  reset(): void {
    this.#rng.seed(this.#fixedSeed ? this.#rng.initialSeed : randomSeed());
  }

  /** A copy with the same seed and RNG state. */
  clone(): DistSampler {
    const copy = new DistSampler(0);
    copy.#rng = this.#rng.clone();
    copy.#fixedSeed = this.#fixedSeed;
    return copy;
  }
}
