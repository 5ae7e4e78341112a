/**
 * Helpers for the sampler unit tests: build candidates from plain numbers, read the live part
 * back, and a reference (naive, full-sort) ordering to compare the fast paths against.
 *
 * @module
 */
import { type Candidates, candidatesFromLogits } from "./types.ts";

/** Candidates for the given logits (ids 0..n-1). */
export function cands(logits: number[]): Candidates {
  return candidatesFromLogits(Float32Array.from(logits));
}

/** Candidates whose softmax is exactly (up to float32) the given probabilities. */
export function candsFromProbs(probs: number[]): Candidates {
  return cands(probs.map((p) => Math.log(p)));
}

/** The live ids, in order. */
export function liveIds(c: Candidates): number[] {
  return Array.from(c.ids.subarray(0, c.size));
}

/** The live probabilities, in order. */
export function liveProbs(c: Candidates): number[] {
  return Array.from(c.probs.subarray(0, c.size));
}

/** The live logits, in order. */
export function liveLogits(c: Candidates): number[] {
  return Array.from(c.logits.subarray(0, c.size));
}

/** Ids of `logits` ordered by logit descending, then id ascending (plain Array.sort). */
export function referenceOrder(logits: ArrayLike<number>): number[] {
  const ids = Array.from({ length: logits.length }, (_, i) => i);
  return ids.sort((a, b) => (logits[b] - logits[a]) || (a - b));
}

/** Float32-rounded softmax of `logits`, computed naively in double. */
export function referenceSoftmax(logits: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const e = Array.from(logits, (l) => Math.exp(l - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((x) => Math.fround(x / sum));
}

/** A small deterministic generator for test data (not the sampler RNG). */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** Random logits: `n` values, from `distinct` levels if given (to force ties). */
export function randomLogits(n: number, seed: number, distinct = 0): Float32Array {
  const r = lcg(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = distinct > 0 ? Math.floor(r() * distinct) : (r() - 0.5) * 20;
  }
  return out;
}
