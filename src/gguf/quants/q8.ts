/**
 * 8-bit block types.
 *
 * Q8_0 (34 bytes per 32): f16 d, int8 qs[32]; x = d * q.
 * Q8_K (292 bytes per 256): float32 d, int8 qs[256], int16 bsums[16] (sums of 16 quants,
 * used by dot products only); x = d * q.
 *
 * @module
 */
import { bitsToF32, F16_F32, f32Bits, f32ToF16 } from "./half.ts";
import { type DequantKernel, f32, putU16, type QuantKernel } from "./kernel.ts";
import { signedAbsMax } from "./q4_legacy.ts";
import { nearestInt, roundAway } from "./round.ts";

/** Q8_0 blocks to float32. */
export const dequantQ8_0: DequantKernel = (src, so, nb, dst, dof) => {
  const s8 = new Int8Array(src.buffer, src.byteOffset, src.length);
  for (let b = 0; b < nb; b++) {
    const o = so + b * 34;
    const d = F16_F32[src[o] | (src[o + 1] << 8)];
    const y = dof + b * 32;
    const q = o + 2;
    for (let j = 0; j < 32; j++) dst[y + j] = d * s8[q + j];
  }
};

/** float32 to Q8_0, as quantize_row_q8_0_ref (scale = amax / 127, roundf). */
export const quantQ8_0: QuantKernel = (src, so, nb, dst, dof) => {
  for (let b = 0; b < nb; b++) {
    const x = so + b * 32;
    const o = dof + b * 34;
    let amax = 0;
    for (let j = 0; j < 32; j++) {
      const a = Math.abs(src[x + j]);
      if (a > amax) amax = a;
    }
    const d = f32(amax / 127);
    const id = d !== 0 ? f32(1 / d) : 0;
    putU16(dst, o, f32ToF16(d));
    for (let j = 0; j < 32; j++) {
      const q = roundAway(f32(src[x + j] * id));
      dst[o + 2 + j] = (q >= -128 && q <= 127 ? q : 0) & 0xff;
    }
  }
};

/** Q8_K blocks to float32. */
export const dequantQ8_K: DequantKernel = (src, so, nb, dst, dof) => {
  for (let b = 0; b < nb; b++) {
    const o = so + b * 292;
    const d = bitsToF32(src[o] | (src[o + 1] << 8) | (src[o + 2] << 16) | (src[o + 3] << 24));
    const y = dof + b * 256;
    for (let j = 0; j < 256; j++) dst[y + j] = d * ((src[o + 4 + j] << 24) >> 24);
  }
};

/** float32 to Q8_K, as quantize_row_q8_K_ref (scale = signed max / -127). */
export const quantQ8_K: QuantKernel = (src, so, nb, dst, dof) => {
  for (let b = 0; b < nb; b++) {
    const x = so + b * 256;
    const o = dof + b * 292;
    dst.fill(0, o, o + 292);
    const max = signedAbsMax(src, x, 256);
    if (max === 0 || max !== max) continue;
    const iscale = f32(-127 / max);
    for (let j = 0; j < 256; j++) {
      const v = nearestInt(f32(iscale * src[x + j]));
      dst[o + 4 + j] = (v >= -128 ? (v <= 127 ? v : 127) : -128) & 0xff;
    }
    for (let g = 0; g < 16; g++) {
      let sum = 0;
      for (let j = 0; j < 16; j++) sum += (dst[o + 4 + g * 16 + j] << 24) >> 24;
      putU16(dst, o + 260 + 2 * g, sum & 0xffff);
    }
    const bits = f32Bits(1 / iscale);
    dst[o] = bits & 0xff;
    dst[o + 1] = (bits >>> 8) & 0xff;
    dst[o + 2] = (bits >>> 16) & 0xff;
    dst[o + 3] = bits >>> 24;
  }
};
