/**
 * Q4_K matrix products in the float32 arithmetic of llama.cpp's repacked q4_K_8x8 kernels
 * (ggml-cpu/arch/x86/repack.cpp), which its x86 AVX2 / AVX512 builds use for Q4_K weights with
 * a multiple of 8 rows; the same arithmetic as kernels/wasm/mm_kquant.c, bit for bit.
 *
 * Activations are Q8_K blocks (quantize_row_q8_K_ref: d = 1 / (-127 / max), q = round-even).
 * Per output, two float32 sums: acc = fma(float(dot), d * dx, acc) over integer dots of the
 * 6-bit-scaled sub-blocks, and accm = fma(float(mins dot), dmin * dx, accm) over the 6-bit
 * minimums times the activation sums; the output is acc - accm (+ bias). llama.cpp's gemm,
 * which takes the first T - T % 4 activation rows, makes one term of each sum per 64-element
 * pair of sub-blocks; its gemv, which takes the other rows, one per 256-element super-block.
 *
 * @module
 */
import { GGMLType } from "../../../gguf/ggml_types.ts";
import { F16_F32 } from "../../../gguf/quants/half.ts";
import { scaleMinK4 } from "../../../gguf/quants/k_common.ts";
import { roundEven } from "./act_quant.ts";
import { fmaf, fr } from "./f32.ts";
import type { QuantMatrix } from "./matmul.ts";

const QK = 256;
const BLOCK = 144;

/** True when llama.cpp's repacked Q4_K kernels take this matrix (and matmulQ4K does). */
export function q4kRepacked(w: { type: GGMLType; rows: number; cols: number }): boolean {
  return w.type === GGMLType.Q4_K && w.rows % 8 === 0 && w.cols % QK === 0;
}

/** Q8_K rows: int8 values, one scale per 256 and sums per 32 values. */
function quantizeQ8K(x: Float32Array, n: number): { q: Int8Array; d: Float32Array; s: Int32Array } {
  const nb = n / QK;
  const q = new Int8Array(n), d = new Float32Array(nb), s = new Int32Array(nb * 8);
  for (let b = 0; b < nb; b++) {
    let max = 0, amax = 0;
    for (let i = 0; i < QK; i++) {
      const a = Math.abs(x[b * QK + i]);
      if (a > amax) {
        amax = a;
        max = x[b * QK + i];
      }
    }
    if (amax === 0) continue;
    const iscale = fr(-127 / max);
    d[b] = fr(1 / iscale);
    for (let i = 0; i < QK; i++) {
      const v = Math.min(127, roundEven(fr(iscale * x[b * QK + i])));
      q[b * QK + i] = v;
      s[b * 8 + (i >> 5)] += v;
    }
  }
  return { q, d, s };
}

/** y = x W^T (+ bias) for a Q4_K matrix of q4kRepacked: x is [T, cols], y is [T, rows]. */
export function matmulQ4K(
  w: QuantMatrix,
  x: Float32Array,
  T: number,
  y: Float32Array,
  bias?: Float32Array,
): void {
  const K = w.cols, N = w.rows, nb = K / QK;
  const a = quantizeQ8K(x, T * K);
  const gemmRows = T - (T % 4);
  const dot = new Int32Array(8), mins = new Int32Array(8);
  for (let n = 0; n < N; n++) {
    for (let t = 0; t < T; t++) {
      const pairs = t < gemmRows;
      let acc = 0, accm = 0;
      for (let b = 0; b < nb; b++) {
        const o = n * w.rowBytes + b * BLOCK;
        const src = w.data;
        const d = F16_F32[src[o] | (src[o + 1] << 8)];
        const dmin = F16_F32[src[o + 2] | (src[o + 3] << 8)];
        const xb = (t * nb + b) * QK;
        for (let j = 0; j < 8; j++) {
          const sm = scaleMinK4(j, src, o + 4);
          let s = 0;
          for (let l = 0; l < 32; l++) {
            const byte = src[o + 16 + 32 * (j >> 1) + l];
            s += ((j & 1) ? byte >> 4 : byte & 15) * a.q[xb + 32 * j + l];
          }
          dot[j] = (sm & 255) * s;
          mins[j] = (sm >> 8) * a.s[(t * nb + b) * 8 + j];
        }
        const dd = fr(d * a.d[t * nb + b]), dm = fr(dmin * a.d[t * nb + b]);
        const step = pairs ? 2 : 8;
        for (let j = 0; j < 8; j += step) {
          let s = 0, m = 0;
          for (let k = j; k < j + step; k++) {
            s += dot[k];
            m += mins[k];
          }
          acc = fmaf(s, dd, acc);
          accm = fmaf(m, dm, accm);
        }
      }
      const v = fr(acc - accm);
      y[t * N + n] = bias ? fr(v + bias[n]) : v;
    }
  }
}
