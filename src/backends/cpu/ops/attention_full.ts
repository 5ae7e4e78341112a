/**
 * Non-causal attention over one batch without a cache (BERT encoders): every row attends to
 * every row of the batch, in float32 with a max-subtracted softmax (glibc expf). llama.cpp runs
 * encoders through its flash-attention kernel with f32 K/V; this is its arithmetic in a plain
 * order, close to it (cosine ~1e-7) but not bit-identical.
 *
 * @module
 */
import type { AttentionShape } from "./attention.ts";
import { fr } from "./f32.ts";
import { expf } from "./libm.ts";

/** out [rows, nHead * valueDim] from q [rows, nHead * headDim], k/v [rows, nHeadKV * dim]. */
export function attentionFull(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  rows: number,
  s: AttentionShape,
  out: Float32Array,
): void {
  const kCols = s.nHeadKV * s.headDim, vCols = s.nHeadKV * s.valueDim;
  const group = s.nHead / s.nHeadKV;
  const scale = fr(s.scale);
  const scores = new Float32Array(rows);
  for (let t = 0; t < rows; t++) {
    for (let h = 0; h < s.nHead; h++) {
      const kvh = Math.floor(h / group);
      const qo = t * s.nHead * s.headDim + h * s.headDim;
      let max = -Infinity;
      for (let p = 0; p < rows; p++) {
        const ko = p * kCols + kvh * s.headDim;
        let dot = 0;
        for (let d = 0; d < s.headDim; d++) dot += q[qo + d] * k[ko + d];
        scores[p] = fr(fr(dot) * scale);
        max = Math.max(max, scores[p]);
      }
      let sum = 0;
      for (let p = 0; p < rows; p++) {
        scores[p] = expf(fr(scores[p] - max));
        sum += scores[p];
      }
      const inv = fr(1 / sum);
      const o = t * s.nHead * s.valueDim + h * s.valueDim;
      for (let d = 0; d < s.valueDim; d++) {
        let acc = 0;
        for (let p = 0; p < rows; p++) acc += scores[p] * v[p * vCols + kvh * s.valueDim + d];
        out[o + d] = fr(fr(acc) * inv);
      }
    }
  }
}
