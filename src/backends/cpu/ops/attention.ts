/**
 * Causal grouped-query attention over a KV cache, on the CPU. K and V are stored rounded to
 * half precision and the query and probabilities are rounded the same way, as llama.cpp's
 * default F16 KV cache does, so logits track the reference closely.
 *
 * @module
 */
import { f16ToF32, f32ToF16 } from "../../../gguf/quants/mod.ts";
import { fmaf, fr, vecDotF16 } from "./f32.ts";
import { expf } from "./libm.ts";

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
  /** Sliding window (see the attention node in graph.ts); default none. */
  window?: number;
  /** Logit soft-cap (see the attention node in graph.ts); default none. */
  softcap?: number;
}

/**
 * Writes k/v rows for positions pos0..pos0+T-1 into the cache, then computes out[t] for each
 * query row over positions [0, pos0 + t] (the last `window` of them with a sliding window:
 * llama.cpp skips masked keys entirely).
 *
 * Float32 steps of ggml's CPU flash attention with an F16 KV cache
 * (ggml_compute_forward_flash_attn_ext_f16_one_chunk, the path for fewer than
 * GGML_FA_TILE_Q query rows and fewer than 512 cache rows in single-token steps):
 * the query row is rounded to float16; s = fr(vecDotF16(k, q) * scale); online softmax with
 * glibc's expf and a float16 value accumulator: on a new maximum acc = f16(acc * ms),
 * ms = expf(Mold - M), vs = 1; otherwise vs = expf(s - M); then acc = f16(fma(v, vs, acc))
 * and S = fr(fr(S * ms) + vs); with attention sinks, the head's sink logit s then joins as
 * ggml does after the loop (on a new maximum acc = fr(acc * expf(M - s)), else
 * S += expf(s - M), in float32); finally out = fr(acc * fr(1 / S)).
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
  sinks?: Float32Array,
): void {
  const kCols = s.nHeadKV * s.headDim;
  const vCols = s.nHeadKV * s.valueDim;
  for (let i = 0; i < rows * kCols; i++) kv.k[pos0 * kCols + i] = roundF16(k[i]);
  for (let i = 0; i < rows * vCols; i++) kv.v[pos0 * vCols + i] = roundF16(v[i]);
  const group = s.nHead / s.nHeadKV;
  // ggml_compute_forward_flash_attn_ext: with a soft-cap the scale is divided by it first.
  const cap = s.softcap ? fr(s.softcap) : 0;
  const scale = cap ? fr(fr(s.scale) / cap) : fr(s.scale);
  const qh = new Float32Array(s.headDim);
  const acc = new Float32Array(s.valueDim);
  for (let t = 0; t < rows; t++) {
    const last = pos0 + t;
    const first = s.window === undefined ? 0 : Math.max(0, last - s.window + 1);
    for (let h = 0; h < s.nHead; h++) {
      const kvh = Math.floor(h / group);
      const qo = t * s.nHead * s.headDim + h * s.headDim;
      for (let d = 0; d < s.headDim; d++) qh[d] = roundF16(q[qo + d]);
      let max = -Infinity;
      let sum = 0;
      acc.fill(0);
      for (let p = first; p <= last; p++) {
        let sc = fr(vecDotF16(kv.k, p * kCols + kvh * s.headDim, qh, 0, s.headDim) * scale);
        if (cap) sc = fr(cap * fr(Math.tanh(sc)));
        let ms = 1;
        let vs = 1;
        if (sc > max) {
          ms = expf(fr(max - sc));
          max = sc;
          for (let d = 0; d < s.valueDim; d++) acc[d] = roundF16(fr(acc[d] * ms));
        } else {
          vs = expf(fr(sc - max));
        }
        const vo = p * vCols + kvh * s.valueDim;
        for (let d = 0; d < s.valueDim; d++) acc[d] = roundF16(fmaf(kv.v[vo + d], vs, acc[d]));
        sum = fr(fr(sum * ms) + vs);
      }
      if (sinks) {
        const sk = sinks[h];
        let ms = 1, vs = 1;
        if (sk > max) {
          ms = expf(fr(max - sk));
          max = sk;
          for (let d = 0; d < s.valueDim; d++) acc[d] = fr(acc[d] * ms);
        } else {
          vs = expf(fr(sk - max));
        }
        sum = fr(fr(sum * ms) + vs);
      }
      const o = t * s.nHead * s.valueDim + h * s.valueDim;
      const inv = sum === 0 ? 0 : fr(1 / sum);
      for (let d = 0; d < s.valueDim; d++) out[o + d] = fr(acc[d] * inv);
    }
  }
}
