/**
 * Locally typical sampling (Meister et al. 2022, llama.cpp semantics): with entropy
 * H = -sum p ln p, orders candidates by |-ln p - H| ascending and keeps the shortest prefix
 * whose cumulative probability exceeds p (strictly, and at least minKeep tokens). Survivors
 * stay in that typicality order (`sorted` becomes false) and are renormalized. p >= 1
 * disables it. Ordering is a growing partial sort; scratch buffers are reused across calls.
 *
 * @module
 */
import { selectSorted } from "./_sort.ts";
import { requireInRange, requireInteger } from "./_validate.ts";
import { type Candidates, type Sampler, SAMPLER_API_VERSION, softmax } from "./types.ts";

const FIRST_PREFIX = 128;

/** Keeps the candidates whose information content is closest to the entropy. */
export class TypicalPSampler implements Sampler {
  /** Interface version. */
  readonly apiVersion = SAMPLER_API_VERSION;
  /** llama.cpp's name for this sampler. */
  readonly name = "typical";
  /** Probability mass to keep, in [0, 1]. */
  readonly p: number;
  /** Minimum number of candidates kept. */
  readonly minKeep: number;
  #key = new Float32Array(0);
  #idx = new Int32Array(0);
  #aux = new Float32Array(0);
  #auxIds = new Int32Array(0);

  /**
   * @param p probability mass in [0, 1]; 1 disables the sampler.
   * @param minKeep keep at least this many candidates (integer >= 0; default 1).
   */
  constructor(p: number, minKeep = 1) {
    this.p = requireInRange("typicalP", p, 0, 1);
    this.minKeep = requireInteger("minKeep", minKeep, 0);
  }

  #reserve(n: number): void {
    if (this.#key.length >= n) return;
    this.#key = new Float32Array(n);
    this.#idx = new Int32Array(n);
    this.#aux = new Float32Array(n);
    this.#auxIds = new Int32Array(n);
  }

  /** Truncates to the typical set and renormalizes. */
  apply(c: Candidates): void {
    const n = c.size;
    if (this.p >= 1 || n === 0) return;
    softmax(c);
    const ids = c.ids, L = c.logits, P = c.probs;
    this.#reserve(n);
    const key = this.#key, idx = this.#idx, aux = this.#aux, auxIds = this.#auxIds;
    // ln p = logit - logsumexp; logsumexp = L[best] - ln P[best] (one log instead of n)
    let best = 0;
    for (let i = 1; i < n; i++) if (P[i] > P[best]) best = i;
    const lse = L[best] - Math.log(P[best]);
    const exact = !Number.isFinite(lse);
    let entropy = 0;
    for (let i = 0; i < n; i++) {
      const logp = exact ? Math.log(P[i]) : L[i] - lse;
      aux[i] = logp;
      if (P[i] > 0) entropy -= P[i] * logp;
    }
    for (let i = 0; i < n; i++) {
      key[i] = -Math.abs(-aux[i] - entropy); // descending key = ascending distance
      idx[i] = i;
    }
    const p = this.p, minKeep = this.minKeep;
    let cum = 0, done = 0, keep = n;
    while (done < n) {
      const want = Math.min(n, Math.max(FIRST_PREFIX, done * 4));
      selectSorted(key, idx, aux, done, n, want - done);
      let cut = -1;
      for (let j = done; j < want; j++) {
        cum += P[idx[j]];
        if (cum > p && j + 1 >= minKeep) {
          cut = j + 1;
          break;
        }
      }
      if (cut >= 0) {
        keep = cut;
        break;
      }
      done = want;
    }
    for (let j = 0; j < keep; j++) {
      const i = idx[j];
      auxIds[j] = ids[i];
      key[j] = L[i];
      aux[j] = P[i];
    }
    ids.set(auxIds.subarray(0, keep));
    L.set(key.subarray(0, keep));
    P.set(aux.subarray(0, keep));
    c.size = keep;
    c.sorted = false;
    softmax(c);
  }

  /** A sampler with the same settings (own scratch buffers). */
  clone(): TypicalPSampler {
    return new TypicalPSampler(this.p, this.minKeep);
  }
}
