/**
 * Pooling of per-token hidden states into one embedding.
 *
 * @module
 */

/** How token vectors become one vector: the mean over tokens, or the last token's. */
export type Pooling = "mean" | "last";

/** Pools `rows` rows of width `dim`, then L2-normalizes (a zero vector stays zero). */
export function poolNormalize(
  hidden: Float32Array,
  rows: number,
  dim: number,
  pooling: Pooling = "mean",
): Float32Array {
  const out = new Float64Array(dim);
  const first = pooling === "last" ? rows - 1 : 0;
  for (let r = first; r < rows; r++) {
    for (let i = 0; i < dim; i++) out[i] += hidden[r * dim + i];
  }
  let n2 = 0;
  for (let i = 0; i < dim; i++) {
    out[i] /= rows - first;
    n2 += out[i] * out[i];
  }
  const n = Math.sqrt(n2);
  const v = new Float32Array(dim);
  for (let i = 0; i < dim; i++) v[i] = n > 0 ? out[i] / n : 0;
  return v;
}
