/**
 * Activation rounding that matches llama.cpp's CPU matmuls: before a product with a
 * quantized weight, llama.cpp quantizes the activation row to the weight type's "vec dot"
 * format (Q8_0 for the 32-blocks, Q8_1 for Q4_1/Q5_1, Q8_K for K-quants and IQ4_XS, F16
 * for F16, BF16 for BF16). Rounding the activations the same way here keeps logits within a
 * few thousandths of the reference instead of a few hundredths.
 *
 * @module
 */
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from "../../../gguf/quants/mod.ts";

/** The activation format of a weight type, from the type schema. */
export { type ActFormat, actFormat } from "../../../gguf/type_schema.ts";
import type { ActFormat } from "../../../gguf/type_schema.ts";

const half = (x: number) => f16ToF32(f32ToF16(x));

/** Round half to even, as the x86 SIMD paths (and ggml's nearest_int) round. */
export function roundEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Returns x rounded as llama.cpp rounds activations for `fmt` (a copy; x is unchanged). */
export function roundActivations(x: Float32Array, fmt: ActFormat): Float32Array {
  if (fmt === "f32") return x;
  const y = new Float32Array(x.length);
  if (fmt === "f16") {
    for (let i = 0; i < x.length; i++) y[i] = half(x[i]);
    return y;
  }
  if (fmt === "bf16") {
    for (let i = 0; i < x.length; i++) y[i] = bf16ToF32(f32ToBf16(x[i]));
    return y;
  }
  const qk = fmt === "q8_k" ? 256 : 32;
  for (let b = 0; b + qk <= x.length; b += qk) {
    if (fmt === "q8_k") {
      let max = 0;
      let amax = 0;
      for (let i = 0; i < qk; i++) {
        const a = Math.abs(x[b + i]);
        if (a > amax) {
          amax = a;
          max = x[b + i];
        }
      }
      if (amax === 0) continue; // y stays 0
      const iscale = Math.fround(-127 / max);
      const d = Math.fround(1 / iscale);
      for (let i = 0; i < qk; i++) {
        const q = Math.min(127, roundEven(Math.fround(iscale * x[b + i])));
        y[b + i] = Math.fround(d * q);
      }
    } else {
      const { dh, id } = q8Scale(x, b);
      for (let i = 0; i < qk; i++) {
        y[b + i] = Math.fround(dh * roundEven(Math.fround(x[b + i] * id)));
      }
    }
  }
  return y;
}

/**
 * Scale of one 32-element Q8_0/Q8_1 block as the x86 quantize_row_q8_0/q8_1 compute it:
 * d = amax / 127 stored as float16 (dh), and the multiplier id = 127 / amax (float32), not
 * 1 / d as the scalar reference quantizer does; the two differ in the last bit often enough
 * to move a value across a rounding boundary.
 */
function q8Scale(x: Float32Array, b: number): { d: number; dh: number; id: number } {
  let amax = 0;
  for (let i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(x[b + i]));
  const d = Math.fround(amax / 127);
  return { d, dh: half(d), id: amax !== 0 ? Math.fround(127 / amax) : 0 };
}

/**
 * Rows quantized to 8-bit blocks of 32 (Q8_0, or Q8_1 with the block sums): qs holds the
 * integers, d the float16 scale of each block as float32, s (Q8_1 only) the float16 value of
 * d * sum(qs) that the Q4_1/Q5_1 dot products use for the weights' offsets.
 */
export interface Q8Rows {
  qs: Int8Array;
  d: Float32Array;
  s?: Float32Array;
}

/** Quantizes x (whole 32-blocks) to Q8_0, or to Q8_1 when `withSums`, as ggml's x86 code does. */
export function quantizeQ8(x: Float32Array, withSums = false): Q8Rows {
  const nb = x.length >> 5;
  const qs = new Int8Array(nb * 32);
  const d = new Float32Array(nb);
  const s = withSums ? new Float32Array(nb) : undefined;
  for (let j = 0; j < nb; j++) {
    const b = j * 32;
    const sc = q8Scale(x, b);
    let sum = 0;
    for (let i = 0; i < 32; i++) {
      const q = Math.min(127, roundEven(Math.fround(x[b + i] * sc.id)));
      qs[b + i] = q;
      sum += q;
    }
    d[j] = sc.dh;
    // y.s = fp16(d * sum) with the float32 (not float16) d.
    if (s) s[j] = half(Math.fround(sc.d * sum));
  }
  return { qs, d, s };
}
