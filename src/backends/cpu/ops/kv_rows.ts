/**
 * One K or V matrix of the CPU's KV cache in its cache type, with the three things attention
 * does with it, each in the arithmetic of ggml's CPU flash attention
 * (ggml_compute_forward_flash_attn_ext_f16_one_chunk) for that type:
 *
 * - store (ggml_set_rows: the type's CPU `from_float`): f16 rounded (kept as float32 values
 *   so the WebAssembly kernel reads them in place); q8_0 by the x86 quantize_row_q8_0
 *   (quantizeQ8); q4_0 by quantize_row_q4_0_ref. Quantized rows keep the signed integers
 *   (q4_0: q - 8) and each block's float16 scale as float32: 36 bytes per 32 elements for
 *   both, so q4_0 here takes q8_0's memory (llama.cpp: q8_0 34 bytes per 32, q4_0 18). An f32
 *   cache is rounded the same way as f16: llama.cpp casts an F32 K and V to F16 before flash attention
 *   (build_attn_mha), so what attention reads from it is f16's values and arithmetic; it
 *   differs from f16 in memory only (4 bytes an element in llama.cpp; here both take 4).
 * - the query row in K's "vec dot" type (q_to_vec_dot): f16 rounded, or for q8_0 / q4_0
 *   quantized to Q8_0 blocks; and the K·q dot (kq_vec_dot): ggml_vec_dot_f16, or the x86
 *   ggml_vec_dot_q8_0_q8_0 / _q4_0_q8_0 (eight float32 lanes, lane j the integer dot of
 *   elements 4j..4j+3 of a block, acc[j] = fma(dk * dq, lane, acc[j]), then hsum8).
 * - a V row as float32 (v_to_float: dequantize_row_*, exact products of small integers and a
 *   float16 scale).
 *
 * @module
 */
import type { KVType } from "../../../gguf/kv_type.ts";
import { quantQ4_0 } from "../../../gguf/quants/q4_legacy.ts";
import { f16ToF32, f32ToF16 } from "../../../gguf/quants/mod.ts";
import { F16_F32 } from "../../../gguf/quants/half.ts";
import { type Q8Rows, quantizeQ8 } from "./act_quant.ts";
import { fmaf, hsum8, vecDotF16 } from "./f32.ts";

/** Rounds to the nearest float16 value. */
export function roundF16(x: number): number {
  return f16ToF32(f32ToF16(x));
}

/** A matrix of float32 values rounded to half precision (f16, and f32: see above). */
export interface FloatRows {
  readonly type: "f32" | "f16";
  readonly data: Float32Array;
}

/** A matrix of 32-element blocks: qs the signed integers, d each block's scale. */
export interface BlockRows {
  readonly type: "q8_0" | "q4_0";
  readonly qs: Int8Array;
  readonly d: Float32Array;
}

/** One K or V matrix of a layer. */
export type KVRows = FloatRows | BlockRows;

/** True when attention accumulates this V in float16 (ggml's VKQ16): f16, and f32 cast to it. */
export function halfAccumulator(v: KVRows): boolean {
  return isFloatRows(v);
}

/** True for f32 / f16 matrices. */
export function isFloatRows(r: KVRows): r is FloatRows {
  return r.type === "f32" || r.type === "f16";
}

/** A query row in K's vec-dot type. */
export type PreparedQuery = { readonly f: Float32Array } | { readonly q8: Q8Rows };

/** A matrix of `n` elements; `floats` allocates float32 storage (kernel memory or not). */
export function allocRows(type: KVType, n: number, floats: (n: number) => Float32Array): KVRows {
  if (type === "f32" || type === "f16") return { type, data: floats(n) };
  return { type, qs: new Int8Array(n), d: new Float32Array(Math.ceil(n / 32)) };
}

/** Bytes a matrix takes in this store (f16 is held as float32 values). */
export function rowsBytes(r: KVRows): number {
  return isFloatRows(r) ? r.data.byteLength : r.qs.byteLength + r.d.byteLength;
}

const q4Block = new Uint8Array(18);

/** Stores src[0..n) at element `at` (quantized types: at and n multiples of 32). */
export function storeRows(r: KVRows, at: number, src: Float32Array, n: number): void {
  if (isFloatRows(r)) {
    for (let i = 0; i < n; i++) r.data[at + i] = roundF16(src[i]);
    return;
  }
  switch (r.type) {
    case "q8_0": {
      const q = quantizeQ8(src.subarray(0, n));
      r.qs.set(q.qs, at);
      r.d.set(q.d, at / 32);
      return;
    }
    case "q4_0":
      for (let b = 0; b < n / 32; b++) {
        quantQ4_0(src, b * 32, 1, q4Block, 0);
        r.d[at / 32 + b] = F16_F32[q4Block[0] | (q4Block[1] << 8)];
        const o = at + b * 32;
        for (let j = 0; j < 16; j++) {
          r.qs[o + j] = (q4Block[2 + j] & 15) - 8;
          r.qs[o + j + 16] = (q4Block[2 + j] >> 4) - 8;
        }
      }
  }
}

/** Copies elements [0, n) of `from` into `to` (same type). */
export function copyRows(from: KVRows, to: KVRows, n: number): void {
  if (isFloatRows(from)) {
    if (isFloatRows(to) && to.type === from.type) to.data.set(from.data.subarray(0, n));
    return;
  }
  if (isFloatRows(to) || to.type !== from.type) return;
  to.qs.set(from.qs.subarray(0, n));
  to.d.set(from.d.subarray(0, Math.ceil(n / 32)));
}

/** The query row q[qo..qo+n) in the vec-dot type of K matrices of `type`. */
export function prepareQuery(type: KVType, q: Float32Array, qo: number, n: number): PreparedQuery {
  const x = q.slice(qo, qo + n);
  if (type === "f32" || type === "f16") {
    for (let d = 0; d < n; d++) x[d] = roundF16(x[d]);
    return { f: x };
  }
  return { q8: quantizeQ8(x) };
}

const lanes = new Float64Array(8);

/** K·q over the n elements of K from element `ko` (kq_vec_dot), float32. */
export function dotK(k: KVRows, ko: number, q: PreparedQuery, n: number): number {
  if (isFloatRows(k)) return vecDotF16(k.data, ko, (q as { f: Float32Array }).f, 0, n);
  const a = (q as { q8: Q8Rows }).q8;
  lanes.fill(0);
  for (let b = 0; b < n / 32; b++) {
    const d = k.d[ko / 32 + b] * a.d[b];
    const kb = ko + 32 * b, xb = 32 * b;
    for (let j = 0; j < 8; j++) {
      const i = 4 * j;
      const dot = k.qs[kb + i] * a.qs[xb + i] + k.qs[kb + i + 1] * a.qs[xb + i + 1] +
        k.qs[kb + i + 2] * a.qs[xb + i + 2] + k.qs[kb + i + 3] * a.qs[xb + i + 3];
      lanes[j] = fmaf(d, dot, lanes[j]);
    }
  }
  return hsum8(lanes);
}

/**
 * Elements [vo, vo + n) of V as float32 (v_to_float; into `out` for block types). f16 and
 * f32 caches accumulate in float16 (halfAccumulator).
 */
export function rowV(v: KVRows, vo: number, n: number, out: Float32Array): Float32Array {
  if (isFloatRows(v)) return v.data.subarray(vo, vo + n);
  for (let i = 0; i < n; i++) out[i] = v.qs[vo + i] * v.d[(vo + i) >> 5];
  return out;
}

/** An f16 layer of kn K and vn V elements in ordinary arrays (llama.cpp's default cache). */
export function f16Layer(kn: number, vn: number): { k: FloatRows; v: FloatRows } {
  return {
    k: { type: "f16", data: new Float32Array(kn) },
    v: { type: "f16", data: new Float32Array(vn) },
  };
}
