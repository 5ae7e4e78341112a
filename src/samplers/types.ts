/**
 * The sampler plugin contract (llama.cpp-style): a sampler transforms a set of candidate
 * tokens in place, and one sampler in a chain finally picks a token by setting `selected`.
 *
 * Conventions every sampler here follows:
 * - `ids`, `logits` and `probs` are parallel arrays; only indices `[0, size)` are live.
 * - `probs` is valid right after {@link softmax}. Truncating samplers (top-k, top-p, min-p,
 *   typical) leave it renormalized over the survivors; samplers that change logits
 *   (temperature, penalties, logit bias) leave it stale. {@link sortByLogit} moves probs
 *   together with ids and logits.
 * - `sorted` means logits are non-increasing over `[0, size)`.
 *
 * @module
 */
import { selectSorted } from "./_sort.ts";

/** Version of the sampler plugin interface; samplers declare it as `apiVersion`. */
export const SAMPLER_API_VERSION = 1;

/** Candidate tokens; ids/logits have capacity >= size; after softmax, probs is filled. */
export interface Candidates {
  /** Token ids. */
  ids: Int32Array;
  /** Logit of each candidate. */
  logits: Float32Array;
  /** Probability of each candidate (valid after {@link softmax}). */
  probs: Float32Array;
  /** Number of live candidates. */
  size: number;
  /** Whether `[0, size)` is ordered by logit descending. */
  sorted: boolean;
  /** Index into ids of the chosen token, -1 until a sampler picks. */
  selected: number;
}

/** What a sampler may read besides the candidates. */
export interface SamplerContext {
  /** Tokens so far, including the prompt (used by penalties). */
  readonly history: readonly number[];
}

/** A sampler plugin. */
export interface Sampler {
  /** Interface version; must equal {@link SAMPLER_API_VERSION}. */
  readonly apiVersion: 1;
  /** Short name (llama.cpp's names: "top-k", "temp", "dist", ...). */
  readonly name: string;
  /** Transforms the candidates in place; a selecting sampler sets `selected`. */
  apply(c: Candidates, ctx: SamplerContext): void;
  /** Told the token that was finally chosen (for stateful samplers). Default: nothing. */
  accept?(token: number): void;
  /** Returns to the initial state (e.g. reseeds the RNG). Default: nothing. */
  reset?(): void;
  /** An independent copy with the same state. Default: the sampler is stateless and shared. */
  clone?(): Sampler;
}

/** Empty candidates with room for `capacity` tokens. */
export function createCandidates(capacity: number): Candidates {
  return {
    ids: new Int32Array(capacity),
    logits: new Float32Array(capacity),
    probs: new Float32Array(capacity),
    size: 0,
    sorted: false,
    selected: -1,
  };
}

/**
 * Candidates for every token of a vocabulary: `ids[i] = i`, `logits[i] = logits[i]`. When
 * `out` is given its buffers are reused (grown if too small) and `out` is returned. A NaN
 * logit becomes -Infinity so that it can never be chosen and never disorders a sort.
 */
export function candidatesFromLogits(logits: Float32Array, out?: Candidates): Candidates {
  const n = logits.length;
  const c = out ?? createCandidates(n);
  if (c.ids.length < n) c.ids = new Int32Array(n);
  if (c.logits.length < n) c.logits = new Float32Array(n);
  if (c.probs.length < n) c.probs = new Float32Array(n);
  const ids = c.ids, L = c.logits;
  for (let i = 0; i < n; i++) {
    const v = logits[i];
    L[i] = v === v ? v : -Infinity;
    ids[i] = i;
  }
  c.size = n;
  c.sorted = false;
  c.selected = -1;
  return c;
}

/**
 * Fills `probs[0, size)` with the softmax of the logits. Tokens at -Infinity get 0. If any
 * logit is +Infinity, those tokens share probability 1. If all are -Infinity, every
 * probability is 0 (nothing can be sampled).
 */
export function softmax(c: Candidates): void {
  const n = c.size, L = c.logits, P = c.probs;
  if (n === 0) return;
  let max = L[0];
  if (!c.sorted) {
    max = -Infinity;
    for (let i = 0; i < n; i++) if (L[i] > max) max = L[i];
  }
  if (max === -Infinity) {
    P.fill(0, 0, n);
    return;
  }
  if (max === Infinity) {
    let count = 0;
    for (let i = 0; i < n; i++) if (L[i] === Infinity) count++;
    for (let i = 0; i < n; i++) P[i] = L[i] === Infinity ? 1 / count : 0;
    return;
  }
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp(L[i] - max);
    P[i] = e;
    sum += e;
  }
  const inv = 1 / sum;
  for (let i = 0; i < n; i++) P[i] *= inv;
}

/**
 * Orders candidates by logit descending (ties: lower id first), moving ids, logits and probs
 * together. With `k < size` only a partial sort is done in O(size + k log k): the first k
 * positions hold the top k in order and the rest is unordered (`sorted` stays false).
 */
export function sortByLogit(c: Candidates, k: number = c.size): void {
  if (c.sorted) return;
  const n = c.size;
  if (k >= n) {
    selectSorted(c.logits, c.ids, c.probs, 0, n, n);
    c.sorted = true;
  } else if (k > 0) {
    selectSorted(c.logits, c.ids, c.probs, 0, n, k);
  }
}
