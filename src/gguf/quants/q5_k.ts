/**
 * Q5_K (176 bytes per 256 weights): f16 d, f16 dmin, scales[12] (as Q4_K), qh[32], qs[128].
 * Low 4 bits are packed as in Q4_K; the fifth bit of weight 64 * j + l (l < 32) is bit 2j
 * of qh[l], of weight 64 * j + 32 + l bit 2j + 1. x = (d * sc) * q - (dmin * m).
 *
 * @module
 */
import { F16_F32 } from "./half.ts";
import { QK_K, scaleMinK4 } from "./k_common.ts";
import { type DequantKernel, f32, type QuantKernel } from "./kernel.ts";
import { kScratch, quantizeScaleMinBlock } from "./q4_k.ts";

/** Q5_K blocks to float32. */
export const dequantQ5_K: DequantKernel = (src, so, nb, dst, dof) => {
  for (let b = 0; b < nb; b++) {
    const o = so + b * 176;
    const d = F16_F32[src[o] | (src[o + 1] << 8)];
    const dmin = F16_F32[src[o + 2] | (src[o + 3] << 8)];
    const qh = o + 16;
    let y = dof + b * 256;
    for (let j = 0; j < 4; j++) {
      const sm1 = scaleMinK4(2 * j, src, o + 4);
      const sm2 = scaleMinK4(2 * j + 1, src, o + 4);
      const d1 = f32(d * (sm1 & 63));
      const m1 = f32(dmin * (sm1 >> 8));
      const d2 = f32(d * (sm2 & 63));
      const m2 = f32(dmin * (sm2 >> 8));
      const q = o + 48 + 32 * j;
      const s1 = 2 * j;
      const s2 = 2 * j + 1;
      for (let l = 0; l < 32; l++) {
        const v = src[q + l];
        const h = src[qh + l];
        dst[y + l] = f32(d1 * ((v & 15) | (((h >> s1) & 1) << 4))) - m1;
        dst[y + 32 + l] = f32(d2 * ((v >> 4) | (((h >> s2) & 1) << 4))) - m2;
      }
      y += 64;
    }
  }
};

/** float32 to Q5_K, as quantize_row_q5_K_ref. */
export const quantQ5_K: QuantKernel = (src, so, nb, dst, dof) => {
  const L = kScratch.L;
  for (let b = 0; b < nb; b++) {
    const o = dof + b * 176;
    quantizeScaleMinBlock(src, so + b * QK_K, dst, o, 31, -0.5, 15);
    dst.fill(0, o + 16, o + 48);
    for (let j = 0; j < 4; j++) {
      for (let l = 0; l < 32; l++) {
        const l1 = L[64 * j + l];
        const l2 = L[64 * j + 32 + l];
        dst[o + 16 + l] |= ((l1 >> 4) << (2 * j)) | ((l2 >> 4) << (2 * j + 1));
        dst[o + 48 + 32 * j + l] = (l1 & 15) | ((l2 & 15) << 4);
      }
    }
  }
};
