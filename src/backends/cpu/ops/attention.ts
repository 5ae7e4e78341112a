/**
 * Causal grouped-query attention over a KV cache, on the CPU, in the steps of llama.cpp's CPU
 * flash attention for the cache's K and V types (ops/kv_rows.ts): with its default F16 cache,
 * K and V are stored rounded to half precision and the query and the value accumulator are
 * rounded the same way, so logits track the reference closely.
 *
 * @module
 */
import { fmaf, fr } from "./f32.ts";
import {
  dotK,
  halfAccumulator,
  type KVRows,
  prepareQuery,
  roundF16,
  rowV,
  storeRows,
} from "./kv_rows.ts";
import { rotate, rotationK, rotationV } from "./kv_rotation.ts";
import { expf } from "./libm.ts";

export { roundF16 };

/** Per-layer K and V rows: [capacity, nHeadKV * dim], each in its cache type. */
export interface LayerKV {
  k: KVRows;
  v: KVRows;
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
 * Float32 steps of ggml_compute_forward_flash_attn_ext_f16_one_chunk (for an F16 cache, the
 * path for fewer than GGML_FA_TILE_Q query rows and fewer than 512 cache rows in single-token
 * steps; for a quantized or mixed cache, the only path): the query row in K's vec-dot type;
 * s = fr(dotK(k, q) * scale); online softmax with glibc's expf. With an F16 V, a float16
 * accumulator: on a new maximum acc = f16(acc * ms), ms = expf(Mold - M), vs = 1; otherwise
 * vs = expf(s - M); then acc = f16(fma(v, vs, acc)) (an F32 cache too: llama.cpp casts it to
 * F16). A quantized V: the same in float32 over V rows converted to float32. S = fr(fr(S * ms) + vs); with attention sinks, the head's sink
 * logit s then joins as ggml does after the loop (on a new maximum acc = fr(acc * expf(M - s)),
 * else S += expf(s - M), in float32); finally out = fr(acc * fr(1 / S)). Quantized caches
 * take llama.cpp's Hadamard rotations of q, k, v and the output (kv_rotation.ts).
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
  // A quantized cache: llama.cpp's Hadamard rotations around it (kv_rotation.ts).
  const rk = rotationK(kv.k.type, s.headDim), rv = rotationV(kv.v.type, s.valueDim);
  if (rk) [q, k] = [rotate(q.subarray(0, rows * s.nHead * s.headDim), rk), rotate(k, rk)];
  if (!rv) return attend(q, k, v, rows, pos0, kv, s, out, sinks);
  const o = new Float32Array(rows * s.nHead * s.valueDim);
  attend(
    q,
    k,
    rotate(v.subarray(0, rows * s.nHeadKV * s.valueDim), rv),
    rows,
    pos0,
    kv,
    s,
    o,
    sinks,
  );
  out.set(rotate(o, rv));
}

/** attention() inside the rotations. */
function attend(
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
  storeRows(kv.k, pos0 * kCols, k, rows * kCols);
  storeRows(kv.v, pos0 * vCols, v, rows * vCols);
  const halfAcc = halfAccumulator(kv.v);
  const round = halfAcc ? roundF16 : (x: number) => x;
  const group = s.nHead / s.nHeadKV;
  // ggml_compute_forward_flash_attn_ext: with a soft-cap the scale is divided by it first.
  const cap = s.softcap ? fr(s.softcap) : 0;
  const scale = cap ? fr(fr(s.scale) / cap) : fr(s.scale);
  const acc = new Float32Array(s.valueDim);
  const vRow = new Float32Array(s.valueDim);
  for (let t = 0; t < rows; t++) {
    const last = pos0 + t;
    const first = s.window === undefined ? 0 : Math.max(0, last - s.window + 1);
    for (let h = 0; h < s.nHead; h++) {
      const kvh = Math.floor(h / group);
      const qo = t * s.nHead * s.headDim + h * s.headDim;
      const qh = prepareQuery(kv.k.type, q, qo, s.headDim);
      let max = -Infinity;
      let sum = 0;
      acc.fill(0);
      for (let p = first; p <= last; p++) {
        let sc = fr(dotK(kv.k, p * kCols + kvh * s.headDim, qh, s.headDim) * scale);
        if (cap) sc = fr(cap * fr(Math.tanh(sc)));
        let ms = 1;
        let vs = 1;
        if (sc > max) {
          ms = expf(fr(max - sc));
          max = sc;
          for (let d = 0; d < s.valueDim; d++) acc[d] = round(fr(acc[d] * ms));
        } else {
          vs = expf(fr(sc - max));
        }
        const vr = rowV(kv.v, p * vCols + kvh * s.valueDim, s.valueDim, vRow);
        for (let d = 0; d < s.valueDim; d++) acc[d] = round(fmaf(vr[d], vs, acc[d]));
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
