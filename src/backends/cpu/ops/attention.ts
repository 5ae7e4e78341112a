/**
 * Causal grouped-query attention over a KV cache, on the CPU. K and V are stored rounded to
 * half precision and the query and probabilities are rounded the same way, as llama.cpp's
 * default F16 KV cache does, so logits track the reference closely.
 *
 * @module
 */
import { f16ToF32, f32ToF16 } from "../../../gguf/quants/mod.ts";

/** Rounds to the nearest float16 value. */
export function roundF16(x: number): number {
  return f16ToF32(f32ToF16(x));
}

/** Per-layer K and V rows: [capacity, nHeadKV * dim]. */
export interface LayerKV {
  k: Float32Array;
  v: Float32Array;
}

/** Attention shape parameters. */
export interface AttentionShape {
  nHead: number;
  nHeadKV: number;
  headDim: number;
  valueDim: number;
  scale: number;
}

/**
 * Writes k/v rows for positions pos0..pos0+T-1 into the cache, then computes out[t] for each
 * query row over positions [0, pos0 + t].
 */
export function attention(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  rows: number,
  pos0: number,
  kv: LayerKV,
  s: AttentionShape,
  out: Float32Array,
): void {
  const kCols = s.nHeadKV * s.headDim;
  const vCols = s.nHeadKV * s.valueDim;
  for (let i = 0; i < rows * kCols; i++) kv.k[pos0 * kCols + i] = roundF16(k[i]);
  for (let i = 0; i < rows * vCols; i++) kv.v[pos0 * vCols + i] = roundF16(v[i]);
  const group = s.nHead / s.nHeadKV;
  const qh = new Float32Array(s.headDim);
  const acc = new Float32Array(s.valueDim);
  for (let t = 0; t < rows; t++) {
    const last = pos0 + t;
    for (let h = 0; h < s.nHead; h++) {
      const kvh = Math.floor(h / group);
      const qo = t * s.nHead * s.headDim + h * s.headDim;
      for (let d = 0; d < s.headDim; d++) qh[d] = roundF16(q[qo + d]);
      // Online softmax with the value accumulator rounded to half precision after every
      // update, as llama.cpp's CPU flash attention does with an F16 V cache.
      let max = -Infinity;
      let sum = 0;
      acc.fill(0);
      for (let p = 0; p <= last; p++) {
        const ko = p * kCols + kvh * s.headDim;
        let dot = 0;
        for (let d = 0; d < s.headDim; d++) dot += qh[d] * kv.k[ko + d];
        const sc = Math.fround(Math.fround(dot) * s.scale);
        let ms = 1;
        let vs = 1;
        if (sc > max) {
          ms = Math.fround(Math.exp(max - sc));
          max = sc;
          if (ms !== 1) {
            for (let d = 0; d < s.valueDim; d++) acc[d] = roundF16(Math.fround(acc[d] * ms));
          }
        } else {
          vs = Math.fround(Math.exp(sc - max));
        }
        const vo = p * vCols + kvh * s.valueDim;
        for (let d = 0; d < s.valueDim; d++) {
          acc[d] = roundF16(Math.fround(acc[d] + kv.v[vo + d] * vs));
        }
        sum = Math.fround(sum * ms + vs);
      }
      const o = t * s.nHead * s.valueDim + h * s.valueDim;
      const inv = 1 / sum;
      for (let d = 0; d < s.valueDim; d++) out[o + d] = acc[d] * inv;
    }
  }
}
