/**
 * Q4_0 and Q4_1: 32 weights per block, 4-bit quants. Element j of the block is in the low
 * nibble of qs[j] for j < 16 and in the high nibble of qs[j - 16] otherwise.
 *
 * Q4_0 (18 bytes): f16 d, qs[16]; x = d * (q - 8).
 * Q4_1 (20 bytes): f16 d, f16 m, qs[16]; x = d * q + m.
 *
 * @module
 */
import { F16_F32, f32ToF16 } from "./half.ts";
import { type DequantKernel, f32, putU16, type QuantKernel } from "./kernel.ts";
import { clampInt } from "./round.ts";

/** Q4_0 blocks to float32. */
export const dequantQ4_0: DequantKernel = (src, so, nb, dst, dof) => {
  for (let b = 0; b < nb; b++) {
    const o = so + b * 18;
    const d = F16_F32[src[o] | (src[o + 1] << 8)];
    const y = dof + b * 32;
    for (let j = 0; j < 16; j++) {
      const q = src[o + 2 + j];
      dst[y + j] = d * ((q & 15) - 8);
      dst[y + j + 16] = d * ((q >> 4) - 8);
    }
  }
};

/** Q4_1 blocks to float32. */
export const dequantQ4_1: DequantKernel = (src, so, nb, dst, dof) => {
  for (let b = 0; b < nb; b++) {
    const o = so + b * 20;
    const d = F16_F32[src[o] | (src[o + 1] << 8)];
    const m = F16_F32[src[o + 2] | (src[o + 3] << 8)];
    const y = dof + b * 32;
    // d * q and d * q + m are exact in double (f16 operands), so the single rounding on
    // store equals ggml's float32 arithmetic.
    for (let j = 0; j < 16; j++) {
      const q = src[o + 4 + j];
      dst[y + j] = d * (q & 15) + m;
      dst[y + j + 16] = d * (q >> 4) + m;
    }
  }
};

/** Index and value of the first element with the largest magnitude in x[o, o + n). */
export function signedAbsMax(x: Float32Array, o: number, n: number): number {
  let amax = 0;
  let max = 0;
  for (let j = 0; j < n; j++) {
    const v = x[o + j];
    const a = Math.abs(v);
    if (amax < a) {
      amax = a;
      max = v;
    }
  }
  return max;
}

/** float32 to Q4_0, as quantize_row_q4_0_ref (scale = signed max / -8). */
export const quantQ4_0: QuantKernel = (src, so, nb, dst, dof) => {
  for (let b = 0; b < nb; b++) {
    const x = so + b * 32;
    const o = dof + b * 18;
    const d = f32(signedAbsMax(src, x, 32) / -8);
    const id = d !== 0 ? f32(1 / d) : 0;
    putU16(dst, o, f32ToF16(d));
    for (let j = 0; j < 16; j++) {
      const x0 = f32(src[x + j] * id);
      const x1 = f32(src[x + 16 + j] * id);
      const q0 = clampInt(Math.trunc(f32(x0 + 8.5)), 0, 15);
      const q1 = clampInt(Math.trunc(f32(x1 + 8.5)), 0, 15);
      dst[o + 2 + j] = q0 | (q1 << 4);
    }
  }
};

/** float32 to Q4_1, as quantize_row_q4_1_ref (scale = (max - min) / 15, offset = min). */
export const quantQ4_1: QuantKernel = (src, so, nb, dst, dof) => {
  for (let b = 0; b < nb; b++) {
    const x = so + b * 32;
    const o = dof + b * 20;
    const [min, max] = minMax(src, x, 32);
    const d = f32(f32(max - min) / 15);
    const id = d !== 0 ? f32(1 / d) : 0;
    putU16(dst, o, f32ToF16(d));
    putU16(dst, o + 2, f32ToF16(min));
    for (let j = 0; j < 16; j++) {
      const x0 = f32(f32(src[x + j] - min) * id);
      const x1 = f32(f32(src[x + 16 + j] - min) * id);
      const q0 = clampInt(Math.trunc(f32(x0 + 0.5)), 0, 15);
      const q1 = clampInt(Math.trunc(f32(x1 + 0.5)), 0, 15);
      dst[o + 4 + j] = q0 | (q1 << 4);
    }
  }
};

/** Minimum and maximum of x[o, o + n) starting from ±FLT_MAX, as the C reference does. */
export function minMax(x: Float32Array, o: number, n: number): [number, number] {
  let min = 3.4028234663852886e38;
  let max = -3.4028234663852886e38;
  for (let j = 0; j < n; j++) {
    const v = x[o + j];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [min, max];
}
