/**
 * Distances and scores of the three metrics, in one place: the exact search (SQL or scan),
 * HNSW and the brute-force reference all report these. `distance` is smaller-is-nearer
 * (cosine 1 - cos, dot -dot, l2 Euclidean); `score` is larger-is-better (cos, dot, -l2).
 *
 * @module
 */
import type { VectorMetric } from "../runtime/hnsw.ts";

export type { VectorMetric };

/** The metrics, for validation. */
export const METRICS: readonly VectorMetric[] = ["cosine", "dot", "l2"];

/** Euclidean norm. */
export function norm(v: Float32Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/** Distance of `a` from `b` under `metric` (double precision). */
export function distance(metric: VectorMetric, a: Float32Array, b: Float32Array): number {
  let dot = 0, na = 0, nb = 0, l2 = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
    const d = a[i] - b[i];
    l2 += d * d;
  }
  if (metric === "dot") return -dot;
  if (metric === "l2") return Math.sqrt(l2);
  const den = Math.sqrt(na) * Math.sqrt(nb);
  return den > 0 ? 1 - dot / den : 1;
}

/** Score (larger is better) of a distance. */
export function scoreOf(metric: VectorMetric, dist: number): number {
  return metric === "cosine" ? 1 - dist : -dist;
}
