/**
 * Matrix products of the 32-element block types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL, MXFP4) in
 * the float32 arithmetic of llama.cpp's x86 kernels (AVX2/AVX512 builds), bit for bit; the
 * same arithmetic as kernels/wasm/mm_legacy.c (mm_mxfp4.c for MXFP4; IQ4_NL has no WebAssembly
 * kernel). The activation rows are quantized as ggml
 * does (quantizeQ8: Q8_1 for Q4_1/Q5_1, else Q8_0). Integer block dots are exact; what
 * must match is how they are scaled and summed:
 *
 * - "lanes" (ggml_vec_dot_*_q8_* and llamafile's tinyBLAS, which llama.cpp uses for Q8_0,
 *   Q5_0, Q4_1, Q5_1, and for Q4_0 / IQ4_NL with a row count not a multiple of 8): eight
 *   float32 accumulators per output; lane j is the integer dot of elements 4j..4j+3 of a
 *   block, acc[j] = fma(dw * dx, lane_j, acc[j]) block after block, and the output is
 *   hsum8(acc); Q4_1 / Q5_1 add the fused sum over blocks of m_w * s_x (one float32
 *   accumulator) with a float32 add.
 * - "rows" (ggml's repacked q4_0_8x8 / iq4_nl_8x8 / mxfp4_8x8 gemv and gemm, used for Q4_0,
 *   IQ4_NL and MXFP4 with a multiple of 8 rows, 2-D or 3-D expert tensors alike): one
 *   accumulator per output, acc = fma(dot, dw * dx, acc) with the block's whole integer dot.
 * - IQ4_NL with a single activation row, and MXFP4 (which llamafile never takes), when the row
 *   count is not a multiple of 8: ggml_vec_dot_iq4_nl_q8_0 / _mxfp4_q8_0 keep two sets of
 *   eight lanes, one for the even blocks and one for the odd ones, taken in pairs; the output
 *   is hsum8 of their sum, and an odd last block is added by a scalar fma of its whole dot.
 *
 * dw * dx, a product of two float16 values (MXFP4: of a float16 and a power of two), is exact
 * in float32. A bias is a float32 add. MXFP4's weights are ggml's doubled E2M1 values
 * (KVALUES_MXFP4) with half the E8M0 scale.
 *
 * @module
 */
import { GGMLType, typeTraits } from "../../../gguf/ggml_types.ts";
import { typesWhere } from "../../../gguf/type_schema.ts";
import { F16_F32 } from "../../../gguf/quants/half.ts";
import { KVALUES_IQ4NL } from "../../../gguf/quants/iq4.ts";
import { e8m0ToF32Half, KVALUES_MXFP4 } from "../../../gguf/quants/mxfp4.ts";
import { type Q8Rows, quantizeQ8 } from "./act_quant.ts";
import { fmaf, fr, hsum8 } from "./f32.ts";
import type { QuantMatrix } from "./matmul.ts";

/** Bytes per 32-element block of the types handled here (`exact` in the type schema). */
const BLOCK_BYTES: Partial<Record<number, number>> = Object.fromEntries(
  typesWhere((k) => k.exact).map((t) => [t, typeTraits(t).typeSize]),
);

/** True when matmulExact handles weights of this type and row length. */
export function exactSupported(type: GGMLType, cols: number): boolean {
  return BLOCK_BYTES[type] !== undefined && cols % 32 === 0;
}

/** One weight row decoded: integer weights, block scales and (Q4_1/Q5_1) block minimums. */
interface WeightRow {
  /** Signed weights (Q4_0 q - 8, Q5_0 q - 16, Q8_0 q, IQ4_NL kvalues[q]); Q4_1/Q5_1 codes. */
  q: Int8Array;
  d: Float32Array;
  m?: Float32Array;
}

/** Decodes row n of w into r (nb blocks). */
function decodeRow(w: QuantMatrix, n: number, nb: number, r: WeightRow): void {
  const src = w.data;
  const bytes = BLOCK_BYTES[w.type]!;
  const q = r.q;
  for (let b = 0; b < nb; b++) {
    const o = n * w.rowBytes + b * bytes;
    const y = b * 32;
    if (w.type === GGMLType.MXFP4) {
      r.d[b] = e8m0ToF32Half(src[o]);
      for (let j = 0; j < 16; j++) {
        q[y + j] = KVALUES_MXFP4[src[o + 1 + j] & 15];
        q[y + j + 16] = KVALUES_MXFP4[src[o + 1 + j] >> 4];
      }
      continue;
    }
    r.d[b] = F16_F32[src[o] | (src[o + 1] << 8)];
    if (r.m) r.m[b] = F16_F32[src[o + 2] | (src[o + 3] << 8)];
    switch (w.type) {
      case GGMLType.Q8_0:
        for (let j = 0; j < 32; j++) q[y + j] = src[o + 2 + j]; // wraps to int8
        break;
      case GGMLType.IQ4_NL:
        for (let j = 0; j < 16; j++) {
          q[y + j] = KVALUES_IQ4NL[src[o + 2 + j] & 15];
          q[y + j + 16] = KVALUES_IQ4NL[src[o + 2 + j] >> 4];
        }
        break;
      case GGMLType.Q4_0:
      case GGMLType.Q4_1: {
        const qs = o + (w.type === GGMLType.Q4_0 ? 2 : 4);
        const off = w.type === GGMLType.Q4_0 ? 8 : 0;
        for (let j = 0; j < 16; j++) {
          q[y + j] = (src[qs + j] & 15) - off;
          q[y + j + 16] = (src[qs + j] >> 4) - off;
        }
        break;
      }
      default: { // Q5_0, Q5_1: bit j of the little-endian u32 qh is bit 4 of element j
        const h = o + (w.type === GGMLType.Q5_0 ? 2 : 4);
        const qh = src[h] | (src[h + 1] << 8) | (src[h + 2] << 16) | (src[h + 3] << 24);
        const off = w.type === GGMLType.Q5_0 ? 16 : 0;
        for (let j = 0; j < 16; j++) {
          q[y + j] = ((src[h + 4 + j] & 15) | (((qh >>> j) & 1) << 4)) - off;
          q[y + j + 16] = ((src[h + 4 + j] >> 4) | (((qh >>> (j + 16)) & 1) << 4)) - off;
        }
      }
    }
  }
}

/** Integer dot of the 4 elements at wq[k..k+4) and xq[x..x+4). */
function dot4(wq: Int8Array, k: number, xq: Int8Array, x: number): number {
  return wq[k] * xq[x] + wq[k + 1] * xq[x + 1] + wq[k + 2] * xq[x + 2] + wq[k + 3] * xq[x + 3];
}

/** Integer dot of block b of the weights with block bx of the activations. */
function dot32(wq: Int8Array, b: number, xq: Int8Array, bx: number): number {
  let s = 0;
  for (let i = 0; i < 32; i += 4) s += dot4(wq, 32 * b + i, xq, 32 * bx + i);
  return s;
}

/** "lanes" output for activation row t (nb blocks per row); acc: 8 scratch lanes. */
function dotLanes(r: WeightRow, a: Q8Rows, t: number, nb: number, acc: Float64Array): number {
  acc.fill(0);
  let summs = 0;
  for (let b = 0; b < nb; b++) {
    const bx = t * nb + b;
    const d = r.d[b] * a.d[bx];
    for (let j = 0; j < 8; j++) {
      acc[j] = fmaf(d, dot4(r.q, 32 * b + 4 * j, a.qs, 32 * bx + 4 * j), acc[j]);
    }
    if (r.m) summs = fmaf(r.m[b], a.s![bx], summs);
  }
  const v = hsum8(acc);
  return r.m ? fr(v + summs) : v;
}

/** "rows" output for activation row t. */
function dotRows(r: WeightRow, a: Q8Rows, t: number, nb: number): number {
  let acc = 0;
  for (let b = 0; b < nb; b++) {
    const bx = t * nb + b;
    acc = fmaf(dot32(r.q, b, a.qs, bx), r.d[b] * a.d[bx], acc);
  }
  return acc;
}

/** ggml_vec_dot_iq4_nl_q8_0 / _mxfp4_q8_0 for activation row t; acc: 16 scratch lanes. */
function dotPairs(r: WeightRow, a: Q8Rows, t: number, nb: number, acc: Float64Array): number {
  acc.fill(0);
  const paired = nb & ~1;
  for (let b = 0; b < paired; b++) {
    const bx = t * nb + b;
    const d = r.d[b] * a.d[bx];
    const o = 8 * (b & 1);
    for (let j = 0; j < 8; j++) {
      acc[o + j] = fmaf(d, dot4(r.q, 32 * b + 4 * j, a.qs, 32 * bx + 4 * j), acc[o + j]);
    }
  }
  for (let j = 0; j < 8; j++) acc[j] = fr(acc[j] + acc[j + 8]);
  let v = hsum8(acc);
  for (let b = paired; b < nb; b++) {
    v = fmaf(a.d[t * nb + b] * r.d[b], dot32(r.q, b, a.qs, t * nb + b), v);
  }
  return v;
}

/**
 * y = x W^T (+ bias) for the types of exactSupported: x is [T, cols], y is [T, rows].
 * Each weight row is decoded once and used for all T activation rows.
 */
export function matmulExact(
  w: QuantMatrix,
  x: Float32Array,
  T: number,
  y: Float32Array,
  bias?: Float32Array,
): void {
  const K = w.cols;
  const N = w.rows;
  const nb = K / 32;
  const q1 = w.type === GGMLType.Q4_1 || w.type === GGMLType.Q5_1;
  const a = quantizeQ8(x.subarray(0, T * K), q1);
  const repacked = (w.type === GGMLType.Q4_0 || w.type === GGMLType.IQ4_NL ||
    w.type === GGMLType.MXFP4) && N % 8 === 0;
  const pairs = !repacked &&
    (w.type === GGMLType.MXFP4 || (w.type === GGMLType.IQ4_NL && T === 1));
  const r: WeightRow = {
    q: new Int8Array(K),
    d: new Float32Array(nb),
    m: q1 ? new Float32Array(nb) : undefined,
  };
  const acc = new Float64Array(16);
  for (let n = 0; n < N; n++) {
    decodeRow(w, n, nb, r);
    for (let t = 0; t < T; t++) {
      const v = repacked
        ? dotRows(r, a, t, nb)
        : pairs
        ? dotPairs(r, a, t, nb, acc)
        : dotLanes(r, a, t, nb, acc);
      y[t * N + n] = bias ? fr(v + bias[n]) : v;
    }
  }
}
