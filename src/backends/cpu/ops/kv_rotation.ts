/**
 * llama.cpp's attention rotation for quantized KV caches (llama_kv_cache attn_rot_k /
 * attn_rot_v, on unless LLAMA_ATTN_ROT_DISABLE is set): before a quantized K is cached, q and
 * k are multiplied by an orthonormal Walsh-Hadamard matrix in chunks of `rotationK` elements
 * (which leaves q·k as it is but spreads outliers over the block, so they quantize better);
 * before a quantized V is cached, v is rotated in chunks of 64 and the attention output is
 * rotated back (the matrix is its own inverse). On the CPU the product is ggml's fast
 * transform (ggml_compute_forward_fwht_f32, taken for GGML_HINT_SRC0_IS_HADAMARD): x scaled
 * by 1 / sqrtf(n), then log2(n) butterfly passes of float32 u + v, u - v.
 *
 * @module
 */
import type { KVType } from "../../../gguf/kv_type.ts";
import { fr } from "./f32.ts";

const quantized = (t: KVType) => t !== "f32" && t !== "f16";

/**
 * Chunk size of K's rotation for heads of `headDim` keys: the largest power of two >= 64
 * that divides headDim (build_input_k_rot); 0 when there is none (an f16/f32 K, or a head
 * size not a multiple of 64).
 */
export function rotationK(type: KVType, headDim: number): number {
  if (!quantized(type) || headDim % 64 !== 0) return 0;
  let n = 64;
  do n *= 2; while (headDim % n === 0);
  return n / 2;
}

/** Chunk size of V's rotation (build_input_v_rot: always 64), 0 for none. */
export function rotationV(type: KVType, valueDim: number): number {
  return quantized(type) && valueDim % 64 === 0 ? 64 : 0;
}

/** x rotated in consecutive chunks of n (a power of two), as a new array. */
export function rotate(x: Float32Array, n: number): Float32Array {
  const y = new Float32Array(x.length);
  const scale = fr(1 / fr(Math.sqrt(n)));
  for (let o = 0; o + n <= x.length; o += n) {
    for (let j = 0; j < n; j++) y[o + j] = x[o + j] * scale;
    for (let len = 1; len < n; len <<= 1) {
      for (let i = o; i < o + n; i += 2 * len) {
        for (let j = i; j < i + len; j++) {
          const u = y[j], v = y[j + len];
          y[j] = u + v;
          y[j + len] = u - v;
        }
      }
    }
  }
  return y;
}
