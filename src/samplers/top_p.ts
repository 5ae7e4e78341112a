/**
 * Top-p (nucleus): keeps the smallest prefix of the candidates, by logit descending, whose
 * cumulative probability reaches p (llama.cpp: stop at the first i where the running sum is
 * >= p and at least minKeep tokens are kept), then renormalizes. p >= 1 disables it.
 *
 * When the candidates are not sorted, only as much is sorted as the cut needs: the prefix
 * grows (128, then x4) by partial sorts of the remainder, so a peaked distribution over a
 * 150k vocabulary costs one softmax and one selection, not a full sort.
 *
 * @module
 */
import { selectSorted } from "./_sort.ts";
import { requireInRange, requireInteger } from "./_validate.ts";
import { type Candidates, type Sampler, SAMPLER_API_VERSION, softmax } from "./types.ts";

const FIRST_PREFIX = 128;

/** Keeps the nucleus of probability mass p. */
export class TopPSampler implements Sampler {
  /** Interface version. */
  readonly apiVersion = SAMPLER_API_VERSION;
  /** llama.cpp's name for this sampler. */
  readonly name = "top-p";
  /** Probability mass to keep, in [0, 1]. */
  readonly p: number;
  /** Minimum number of candidates kept. */
  readonly minKeep: number;

  /**
   * @param p probability mass in [0, 1]; 1 disables the sampler.
   * @param minKeep keep at least this many candidates (integer >= 0; default 1).
   */
  constructor(p: number, minKeep = 1) {
    this.p = requireInRange("topP", p, 0, 1);
    this.minKeep = requireInteger("minKeep", minKeep, 0);
  }

  /** Truncates to the nucleus and renormalizes. */
  apply(c: Candidates): void {
    const n = c.size;
    if (this.p >= 1 || n === 0) return;
    softmax(c);
    const P = c.probs, p = this.p, minKeep = this.minKeep;
    let cum = 0;
    let done = 0; // [0, done) is sorted and already summed
    let keep = n;
    while (done < n) {
      const want = c.sorted ? n : Math.min(n, Math.max(FIRST_PREFIX, done * 4));
      if (!c.sorted) selectSorted(c.logits, c.ids, P, done, n, want - done);
      let cut = -1;
      for (let i = done; i < want; i++) {
        cum += P[i];
        if (cum >= p && i + 1 >= minKeep) {
          cut = i + 1;
          break;
        }
      }
      if (cut >= 0) {
        keep = cut;
        break;
      }
      done = want;
    }
    c.size = keep;
    c.sorted = true;
    softmax(c);
  }

  /** A sampler with the same settings. */
  clone(): TopPSampler {
    return new TopPSampler(this.p, this.minKeep);
  }
}
