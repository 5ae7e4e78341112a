/**
 * Min-p: keeps the candidates whose probability is at least p times the highest
 * probability, i.e. whose logit is >= maxLogit + ln(p) (computed in float32 as llama.cpp
 * does), keeping at least minKeep. Order is preserved; survivors are renormalized when
 * anything was removed. p <= 0 disables it.
 *
 * @module
 */
import { requireInRange, requireInteger } from "./_validate.ts";
import {
  type Candidates,
  type Sampler,
  SAMPLER_API_VERSION,
  softmax,
  sortByLogit,
} from "./types.ts";

/** Drops candidates far less likely than the best one. */
export class MinPSampler implements Sampler {
  /** Interface version. */
  readonly apiVersion = SAMPLER_API_VERSION;
  /** llama.cpp's name for this sampler. */
  readonly name = "min-p";
  /** Minimum probability relative to the best candidate, in [0, 1]. */
  readonly p: number;
  /** Minimum number of candidates kept. */
  readonly minKeep: number;

  /**
   * @param p relative probability floor in [0, 1]; 0 disables the sampler.
   * @param minKeep keep at least this many candidates (integer >= 0; default 1).
   */
  constructor(p: number, minKeep = 1) {
    this.p = requireInRange("minP", p, 0, 1);
    this.minKeep = requireInteger("minKeep", minKeep, 0);
  }

  /** Removes candidates below the threshold and renormalizes. */
  apply(c: Candidates): void {
    const n = c.size, L = c.logits;
    if (this.p <= 0 || n === 0) return;
    let max = L[0];
    if (!c.sorted) { for (let i = 1; i < n; i++) if (L[i] > max) max = L[i]; }
    if (max === -Infinity) return;
    const threshold = Math.fround(max + Math.fround(Math.log(this.p)));
    let count = 0;
    for (let i = 0; i < n; i++) if (L[i] >= threshold) count++;
    if (count === n) return;
    if (count >= this.minKeep) {
      const ids = c.ids, P = c.probs;
      let w = 0;
      for (let i = 0; i < n; i++) {
        if (L[i] >= threshold) {
          ids[w] = ids[i];
          L[w] = L[i];
          P[w] = P[i];
          w++;
        }
      }
      c.size = w;
    } else {
      const keep = Math.min(this.minKeep, n);
      sortByLogit(c, keep);
      c.size = keep;
      c.sorted = true;
    }
    softmax(c);
  }

  /** A sampler with the same settings. */
  clone(): MinPSampler {
    return new MinPSampler(this.p, this.minKeep);
  }
}
