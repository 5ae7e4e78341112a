/**
 * Top-k: keeps the k candidates with the highest logits, sorted descending, and renormalizes
 * their probabilities. Uses a partial sort, O(size + k log k). k = 0 disables it; k >= size
 * leaves the candidates unchanged.
 *
 * @module
 */
import { requireInteger } from "./_validate.ts";
import {
  type Candidates,
  type Sampler,
  SAMPLER_API_VERSION,
  softmax,
  sortByLogit,
} from "./types.ts";

/** Keeps the top k candidates. */
export class TopKSampler implements Sampler {
  /** Interface version. */
  readonly apiVersion = SAMPLER_API_VERSION;
  /** llama.cpp's name for this sampler. */
  readonly name = "top-k";
  /** How many candidates survive (0 = all). */
  readonly k: number;

  /** @param k an integer >= 0; 0 disables the sampler. */
  constructor(k: number) {
    this.k = requireInteger("topK", k, 0);
  }

  /** Truncates to the top k (ties broken by lower id) and renormalizes. */
  apply(c: Candidates): void {
    const k = this.k;
    if (k <= 0 || k >= c.size) return;
    sortByLogit(c, k);
    c.size = k;
    c.sorted = true;
    softmax(c);
  }

  /** A sampler with the same k. */
  clone(): TopKSampler {
    return new TopKSampler(this.k);
  }
}
