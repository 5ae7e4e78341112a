/**
 * Activation rounding that matches llama.cpp's CPU matmuls: before a product with a
 * quantized weight, llama.cpp quantizes the activation row to the weight type's "vec dot"
 * format (Q8_0 for the 32-blocks, Q8_1 for Q4_1/Q5_1, Q8_K for K-quants and IQ4_XS, F16
 * for F16, BF16 for BF16). Rounding the activations the same way here keeps logits within a
 * few thousandths of the reference instead of a few hundredths.
 *
 * @module
 */
import { GGMLType } from "../../../gguf/ggml_types.ts";
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from "../../../gguf/quants/mod.ts";

/** The activation format llama.cpp pairs with a weight type. */
export type ActFormat = "f32" | "f16" | "bf16" | "q8_0" | "q8_1" | "q8_k";

/** Activation format of a weight type. */
export function actFormat(type: number): ActFormat {
  switch (type) {
    case GGMLType.F16:
      return "f16";
    case GGMLType.BF16:
      return "bf16";
    case GGMLType.Q4_0:
    case GGMLType.Q5_0:
    case GGMLType.Q8_0:
    case GGMLType.IQ4_NL:
    case GGMLType.MXFP4:
      return "q8_0";
    case GGMLType.Q4_1:
    case GGMLType.Q5_1:
      return "q8_1";
    case GGMLType.Q2_K:
    case GGMLType.Q3_K:
    case GGMLType.Q4_K:
    case GGMLType.Q5_K:
    case GGMLType.Q6_K:
    case GGMLType.IQ4_XS:
      return "q8_k";
    default:
      return "f32";
  }
}

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
      let amax = 0;
      for (let i = 0; i < qk; i++) amax = Math.max(amax, Math.abs(x[b + i]));
      const d = Math.fround(amax / 127);
      const id = d ? Math.fround(1 / d) : 0;
      const dh = half(d);
      for (let i = 0; i < qk; i++) {
        const v = Math.fround(x[b + i] * id);
        const q = roundEven(v);
        y[b + i] = Math.fround(dh * q);
      }
    }
  }
  return y;
}
