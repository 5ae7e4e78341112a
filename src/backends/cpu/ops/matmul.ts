/**
 * Matrix products against weights kept in their GGUF form, on the CPU. `matmul` runs the
 * WebAssembly SIMD kernels when the weights live in the kernel memory; otherwise the 32-block
 * types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL) take `matmulExact` (ops/matmul_exact.ts,
 * Q4_K with a multiple of 8 rows `matmulQ4K` (ops/matmul_q4k.ts),
 * llama.cpp's x86 float32 arithmetic bit for bit, as the kernels) and the other types the
 * TypeScript reference `matmulRows`. Both decode each weight row once and dot it with every
 * activation row, so a prefill of T tokens decodes the weights once.
 *
 * @module
 */
import { GGMLType } from "../../../gguf/ggml_types.ts";
import { dequantizeRow } from "../../../gguf/quants/mod.ts";
import { fmaf, fr, hsum16, vecDotF16, vecDotHead } from "./f32.ts";
import type { WasmKernels } from "../wasm/runtime.ts";
import { matmulQ4K, q4kRepacked } from "./matmul_q4k.ts";
import { actFormat, roundActivations } from "./act_quant.ts";
import { exactSupported, matmulExact } from "./matmul_exact.ts";

/** A weight matrix of `rows` rows of `cols` elements, in GGUF bytes. */
export interface QuantMatrix {
  type: GGMLType;
  rows: number;
  cols: number;
  data: Uint8Array;
  /** Bytes per row. */
  rowBytes: number;
  /** For F32 weights: a float view of data (no copy). */
  f32?: Float32Array;
  /** Address of the rows in the WebAssembly kernel memory (data is then a view of it). */
  ptr?: number;
}

/**
 * y = x W^T (+ bias): x is [T, cols], y is [T, rows], with x rounded as llama.cpp rounds
 * activations for the weight type (ops/act_quant.ts). Uses `kernels` when given and the
 * matrix lives in their memory, else matmulExact or the TypeScript reference.
 */
export function matmul(
  w: QuantMatrix,
  x: Float32Array,
  T: number,
  y: Float32Array,
  bias?: Float32Array,
  kernels?: WasmKernels,
): void {
  if (kernels && w.ptr !== undefined) {
    kernels.matmul(w as QuantMatrix & { ptr: number }, x, T, y, bias);
  } else if (!w.f32 && exactSupported(w.type, w.cols)) {
    matmulExact(w, x, T, y, bias);
  } else if (!w.f32 && q4kRepacked(w)) {
    matmulQ4K(w, x, T, y, bias);
  } else if (
    w.type === GGMLType.F32 || w.type === GGMLType.F16 || w.type === GGMLType.BF16
  ) {
    matmulFloat(w, roundActivations(x, actFormat(w.type)), T, y, bias);
  } else {
    matmulRows(w, roundActivations(x, actFormat(w.type)), T, y, 0, w.rows, bias);
  }
}

/** Row n of W as floats: a view for F32 weights, else decoded into `scratch`. */
function weightRow(w: QuantMatrix, n: number, scratch: Float32Array): Float32Array {
  const K = w.cols;
  if (w.f32) return w.f32.subarray(n * K, n * K + K);
  dequantizeRow(w.type, w.data, n * w.rowBytes, K, scratch, 0);
  return scratch;
}

/**
 * F32 / F16 / BF16 weights (x already rounded to the weight's activation format), in the
 * float32 steps of the WebAssembly kernel (kernels/wasm/mm_float.c), so that both paths give
 * the same bits. F32 and F16 follow llama.cpp's x86 AVX512 build: with several rows,
 * K % 16 == 0 and N % 4 == 0 llamafile's tinyBLAS (dotTb16), otherwise ggml_vec_dot_f32 /
 * _f16 (vecDotF32, vecDotF16).
 * BF16: 8 lanes, lane l summing fr(w * x) over elements l, l + 8, ...; the elements past
 * the last multiple of 8 summed apart; then ((v0 + v1) + v2) + v3 with v_l = lane l +
 * lane l + 4, plus that tail.
 */
function matmulFloat(
  w: QuantMatrix,
  x: Float32Array,
  T: number,
  y: Float32Array,
  bias?: Float32Array,
): void {
  const K = w.cols;
  const N = w.rows;
  const k8 = K & ~7;
  const scratch = new Float32Array(K);
  const lane = new Float64Array(16);
  const tb = T >= 2 && K % 16 === 0 && N % 4 === 0;
  for (let n = 0; n < N; n++) {
    const row = weightRow(w, n, scratch);
    for (let t = 0; t < T; t++) {
      const xo = t * K;
      let v: number;
      if (w.type !== GGMLType.BF16) {
        v = tb
          ? dotTb16(row, x, xo, K, lane)
          : w.type === GGMLType.F32
          ? vecDotF32(row, x, xo, K)
          : vecDotF16(row, 0, x, xo, K);
      } else {
        lane.fill(0, 0, 8);
        for (let j = 0; j < k8; j += 8) {
          for (let l = 0; l < 8; l++) lane[l] = fr(lane[l] + fr(row[j + l] * x[xo + j + l]));
        }
        let tail = 0;
        for (let j = k8; j < K; j++) tail = fr(tail + fr(row[j] * x[xo + j]));
        const v0 = fr(lane[0] + lane[4]), v1 = fr(lane[1] + lane[5]);
        const v2 = fr(lane[2] + lane[6]), v3 = fr(lane[3] + lane[7]);
        v = fr(fr(fr(fr(v0 + v1) + v2) + v3) + tail);
      }
      y[t * N + n] = bias ? fr(v + bias[n]) : v;
    }
  }
}

/** tinyBLAS: 16 lanes, acc = fma(w, x, acc) over chunks of 16, then hsum16. */
function dotTb16(w: Float32Array, x: Float32Array, xo: number, K: number, acc: Float64Array) {
  acc.fill(0, 0, 16);
  for (let j = 0; j < K; j += 16) {
    for (let l = 0; l < 16; l++) acc[l] = fmaf(w[j + l], x[xo + j + l], acc[l]);
  }
  return hsum16(acc);
}

/**
 * ggml_vec_dot_f32: vecDotHead over the first K & ~63 values, then the remaining products
 * added in float32, the last K % 8 of them fused.
 */
function vecDotF32(w: Float32Array, x: Float32Array, xo: number, K: number): number {
  const np = K & ~63;
  let sum = vecDotHead(w, 0, x, xo, np);
  // GCC vectorized the remainder loop (sum += x * y) as chunks of 16, then one of 8, with
  // the products rounded, and fused the last few (< 8) into scalar FMAs
  let j = np;
  let rest = K - np;
  if (rest >= 16) {
    for (const e = np + (rest & ~15); j < e; j++) sum = fr(sum + fr(w[j] * x[xo + j]));
    rest = K - j;
  }
  if (rest >= 8) {
    for (const e = j + 8; j < e; j++) sum = fr(sum + fr(w[j] * x[xo + j]));
  }
  for (; j < K; j++) sum = fmaf(w[j], x[xo + j], sum);
  return sum;
}

/**
 * y[t, n] = sum_k W[n, k] * x[t, k] (+ bias[n]) for rows n in [r0, r1).
 * x is [T, cols], y is [T, rows].
 */
export function matmulRows(
  w: QuantMatrix,
  x: Float32Array,
  T: number,
  y: Float32Array,
  r0: number,
  r1: number,
  bias?: Float32Array,
): void {
  const K = w.cols;
  const N = w.rows;
  const scratch = new Float32Array(K);
  for (let n = r0; n < r1; n++) {
    const row = weightRow(w, n, scratch);
    const b = bias ? bias[n] : 0;
    for (let t = 0; t < T; t++) {
      const xo = t * K;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let k = 0;
      for (; k + 3 < K; k += 4) {
        s0 += row[k] * x[xo + k];
        s1 += row[k + 1] * x[xo + k + 1];
        s2 += row[k + 2] * x[xo + k + 2];
        s3 += row[k + 3] * x[xo + k + 3];
      }
      for (; k < K; k++) s0 += row[k] * x[xo + k];
      y[t * N + n] = s0 + s1 + s2 + s3 + b;
    }
  }
}

/** Decodes one row of a weight matrix (embedding lookup). */
export function decodeRow(w: QuantMatrix, n: number, out: Float32Array, outOffset = 0): void {
  if (w.f32) out.set(w.f32.subarray(n * w.cols, (n + 1) * w.cols), outOffset);
  else dequantizeRow(w.type, w.data, n * w.rowBytes, w.cols, out, outOffset);
}
