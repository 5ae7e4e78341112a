/**
 * Matrix products against weights kept in their GGUF form, on the CPU. `matmul` runs the
 * WebAssembly SIMD kernels when the weights live in the kernel memory, and otherwise the
 * TypeScript reference `matmulRows`: each weight row is decoded once into a scratch row and
 * dotted with every activation row, so a prefill of T tokens decodes the weights once.
 *
 * @module
 */
import { GGMLType } from "../../../gguf/ggml_types.ts";
import { F16_F32 } from "../../../gguf/quants/half.ts";
import { dequantizeRow } from "../../../gguf/quants/mod.ts";
import type { WasmKernels } from "../wasm/runtime.ts";
import { actFormat, quantizeQ8, roundActivations } from "./act_quant.ts";
import { fmaf, fr, hsum8 } from "./f32.ts";

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
 * matrix lives in their memory, else the TypeScript reference.
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
  } else if (w.type === GGMLType.Q8_0 && w.cols % 32 === 0) {
    matmulQ8_0(w, x, T, y, bias);
  } else {
    matmulRows(w, roundActivations(x, actFormat(w.type)), T, y, 0, w.rows, bias);
  }
}

/**
 * Q8_0 weights, float32 arithmetic of llama.cpp's x86 kernels (AVX2/AVX512 builds; the
 * batched tinyBLAS_Q0_AVX::gemm* and the single-row ggml_vec_dot_q8_0_q8_0 do the same):
 * the activation row is quantized to Q8_0 (quantizeQ8); for each 32-block the weight and
 * activation integers are multiplied and summed four neighbours at a time into 8 int32
 * lanes (lane j: elements 4j..4j+3), exactly; each lane is converted to float and
 * accumulated across the blocks in its own float32 register with one FMA,
 * acc[j] = fma(dw * dx, lane[j], acc[j]), where dw * dx (two float16 values) is exact;
 * the 8 accumulators are then reduced with hsum8. A bias is a separate float32 add.
 */
function matmulQ8_0(
  w: QuantMatrix,
  x: Float32Array,
  T: number,
  y: Float32Array,
  bias?: Float32Array,
): void {
  const K = w.cols;
  const N = w.rows;
  const nb = K / 32;
  const a = quantizeQ8(x.subarray(0, T * K));
  const wq = new Int8Array(K);
  const wd = new Float32Array(nb);
  const acc = new Float64Array(8);
  for (let n = 0; n < N; n++) {
    const ro = n * w.rowBytes;
    for (let b = 0; b < nb; b++) {
      const o = ro + b * 34;
      wd[b] = F16_F32[w.data[o] | (w.data[o + 1] << 8)];
      for (let i = 0; i < 32; i++) wq[b * 32 + i] = w.data[o + 2 + i];
    }
    for (let t = 0; t < T; t++) {
      acc.fill(0);
      for (let b = 0; b < nb; b++) {
        const d = wd[b] * a.d[t * nb + b];
        const qo = t * K + b * 32;
        for (let j = 0; j < 8; j++) {
          let lane = 0;
          for (let i = 4 * j; i < 4 * j + 4; i++) lane += wq[b * 32 + i] * a.qs[qo + i];
          acc[j] = fmaf(d, lane, acc[j]);
        }
      }
      const v = hsum8(acc);
      y[t * N + n] = bias ? fr(v + bias[n]) : v;
    }
  }
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
    let row: Float32Array;
    if (w.f32) {
      row = w.f32.subarray(n * K, n * K + K);
    } else {
      dequantizeRow(w.type, w.data, n * w.rowBytes, K, scratch, 0);
      row = scratch;
    }
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
