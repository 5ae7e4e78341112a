/**
 * Causal attention the way llama.cpp computes it without flash attention (build_attn_mha's
 * non-flash branch), which it runs for soft-capped models (node-llama-cpp turns flash attention
 * off for Gemma 2): KQ = mul_mat(K, Q), scale / tanh / scale, soft_max_ext with the causal mask,
 * KQV = mul_mat(V^T, KQ), over an F16 cache. The flash steps live in attention.ts.
 *
 * Both products round their float32 operand (q, then the probabilities) to float16. A batch of
 * two or more rows goes through tinyBLAS (llamafile_sgemm, AVX512: one 16-lane FMA accumulator
 * over the reduction, then hsum16); a single row through ggml_vec_dot_f16. The reduction of KQV
 * runs over llama.cpp's n_kv cells (at least 256, padded to 256, at most the cache), where masked
 * and empty cells hold a probability of exactly 0: they add nothing, but they fix which lane
 * each position falls in, so the loops below keep the absolute position as the lane index.
 *
 * @module
 */
import { BackendError } from "../../../core/errors.ts";
import type { AttentionShape, LayerKV } from "./attention.ts";
import { isFloatRows, type KVRows, roundF16 } from "./kv_rows.ts";
import { fmaf, fr, hsum16, vecDotF16, vecDotReduce } from "./f32.ts";
import { vExpf } from "./elementwise.ts";
import { expf } from "./libm.ts";

/** llama_kv_cache::get_n_kv for one sequence in cells 0..used-1 of a cache of `size` cells. */
export function nKvCells(used: number, size: number): number {
  return Math.min(size, Math.max(256, Math.ceil(used / 256) * 256));
}

const lanes = new Float64Array(16);

/**
 * tinyBLAS's f16 dot product of x[xo + i*xs] and y[yo + i] over i in [lo, hi) of a reduction of
 * length n (a multiple of 16; entries outside [lo, hi) are 0): lane i % 16 accumulates by FMA.
 */
function dotTiny(
  x: ArrayLike<number>,
  xo: number,
  xs: number,
  y: ArrayLike<number>,
  yo: number,
  lo: number,
  hi: number,
): number {
  lanes.fill(0);
  for (let i = lo; i < hi; i++) lanes[i & 15] = fmaf(x[xo + i * xs], y[yo + i], lanes[i & 15]);
  return hsum16(lanes);
}

const vlanes = new Float64Array(64);

/**
 * ggml_vec_dot_f16 of x[xo + i*xs] and y[yo + i] over a reduction of length n whose entries
 * outside [lo, hi) are 0: vecDotHead's 64 lanes (lane i % 64 takes element i; a zero product
 * leaves a lane as it is) over the elements below n & ~63, the rest summed as vecDotF16 does.
 */
function dotVec(
  x: ArrayLike<number>,
  xo: number,
  xs: number,
  y: ArrayLike<number>,
  yo: number,
  lo: number,
  hi: number,
  n: number,
): number {
  const np = n & ~63;
  vlanes.fill(0);
  const head = Math.min(hi, np);
  for (let p = lo; p < head; p++) vlanes[p & 63] = fmaf(x[xo + p * xs], y[yo + p], vlanes[p & 63]);
  let sum = np ? vecDotReduce(vlanes) : 0;
  for (let p = Math.max(np, lo); p < hi; p++) sum += fr(x[xo + p * xs] * y[yo + p]);
  return fr(sum);
}

/**
 * The values of an F16 matrix: these steps are llama.cpp's for its F16 cache only (it needs
 * flash attention for a quantized V; model loading refuses other types for such models).
 */
function f16Data(r: KVRows): Float32Array {
  if (!isFloatRows(r) || r.type !== "f16") {
    throw new BackendError(
      "BACKEND_UNSUPPORTED_OP",
      `attention without flash steps takes an f16 KV cache, not ${r.type}`,
      { expected: "f16", actual: r.type },
    );
  }
  return r.data;
}

/**
 * Writes k/v rows for positions pos0..pos0+rows-1 into the cache, then out[t] for each query row
 * over positions [first, pos0 + t] (first = 0, or the start of the sliding window), in the
 * non-flash steps above. s.scale multiplies inside soft_max_ext; s.softcap, when set, is applied
 * as ggml_scale(1/cap), ggml_tanh, ggml_scale(cap) before it. With `sinks` (ggml_soft_max_add_sinks)
 * the head's sink logit joins the maximum and adds expf(sink - max) to the double sum.
 */
export function attentionSoftmax(
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
  const kCols = s.nHeadKV * s.headDim, vCols = s.nHeadKV * s.valueDim;
  const K = f16Data(kv.k), V = f16Data(kv.v);
  for (let i = 0; i < rows * kCols; i++) K[pos0 * kCols + i] = roundF16(k[i]);
  for (let i = 0; i < rows * vCols; i++) V[pos0 * vCols + i] = roundF16(v[i]);
  const group = s.nHead / s.nHeadKV;
  const nKv = nKvCells(pos0 + rows, K.length / kCols);
  // llamafile_sgemm takes batches of two or more rows whose reduction is a multiple of 16.
  const tinyKQ = rows >= 2 && s.headDim % 16 === 0;
  const tinyKQV = rows >= 2 && nKv % 16 === 0;
  const cap = s.softcap ? fr(s.softcap) : 0;
  const invCap = cap ? fr(1 / cap) : 0;
  const scale = fr(s.scale);
  const qh = new Float32Array(s.headDim);
  const e = new Float32Array(nKv);
  for (let t = 0; t < rows; t++) {
    const last = pos0 + t;
    const first = s.window === undefined ? 0 : Math.max(0, last - s.window + 1);
    for (let h = 0; h < s.nHead; h++) {
      const kvh = Math.floor(h / group);
      const qo = t * s.nHead * s.headDim + h * s.headDim;
      for (let d = 0; d < s.headDim; d++) qh[d] = roundF16(q[qo + d]);
      let max = -Infinity;
      for (let p = first; p <= last; p++) {
        const ko = p * kCols + kvh * s.headDim;
        let sc = tinyKQ
          ? dotTiny(K, ko, 1, qh, 0, 0, s.headDim)
          : vecDotF16(K, ko, qh, 0, s.headDim);
        if (cap) sc = fr(fr(Math.tanh(fr(sc * invCap))) * cap);
        sc = fr(sc * scale);
        e[p] = sc;
        if (sc > max) max = sc;
      }
      if (sinks) max = Math.max(max, sinks[h]);
      // ggml_vec_soft_max_f32: ggml_v_expf per 16 lanes, each group's hsum added in double;
      // groups of masked cells add 0; the tail past nKv & ~15 through expf (none: nKv % 16 = 0
      // whenever the cache is).
      let sum = 0;
      const g0 = first & ~15, g1 = Math.min(nKv & ~15, (last + 16) & ~15);
      for (let g = g0; g < g1; g += 16) {
        for (let l = 0; l < 16; l++) {
          const p = g + l;
          lanes[l] = p >= first && p <= last ? vExpf(fr(e[p] - max)) : 0;
          if (p >= first && p <= last) e[p] = lanes[l];
        }
        sum += hsum16(lanes);
      }
      for (let p = Math.max(g1, first); p <= last; p++) {
        e[p] = expf(fr(e[p] - max));
        sum += e[p];
      }
      if (sinks) sum += expf(fr(sinks[h] - max));
      const inv = fr(1 / sum);
      for (let p = first; p <= last; p++) e[p] = roundF16(fr(e[p] * inv));
      const o = t * s.nHead * s.valueDim + h * s.valueDim;
      for (let d = 0; d < s.valueDim; d++) {
        const vo = kvh * s.valueDim + d;
        out[o + d] = tinyKQV
          ? dotTiny(V, vo, vCols, e, 0, first, last + 1)
          : dotVec(V, vo, vCols, e, 0, first, last + 1, nKv);
      }
    }
  }
}
