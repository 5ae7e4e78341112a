/**
 * Q6_K (210 bytes per 256 weights): ql[128] (low 4 bits), qh[64] (high 2 bits), int8
 * scales[16] (one per 16 weights), f16 d. Each half of 128 weights uses 64 ql and 32 qh
 * bytes: weight 32 * k + l (k = 0..3, l < 32) has its low bits in the low (k < 2) or high
 * (k >= 2) nibble of ql[l + 32 * (k & 1)] and its high bits at bits 2k of qh[l].
 * x = (d * sc) * (q - 32).
 *
 * @module
 */
import { F16_F32, f32ToF16 } from "./half.ts";
import { makeQxQuants, QK_K } from "./k_common.ts";
import { type DequantKernel, f32, putU16, type QuantKernel } from "./kernel.ts";
import { clampInt, GROUP_MAX_EPS, nearestInt } from "./round.ts";

/** Q6_K blocks to float32. */
export const dequantQ6_K: DequantKernel = (src, so, nb, dst, dof) => {
  for (let b = 0; b < nb; b++) {
    const o = so + b * 210;
    const d = F16_F32[src[o + 208] | (src[o + 209] << 8)];
    for (let half = 0; half < 2; half++) {
      const ql = o + 64 * half;
      const qh = o + 128 + 32 * half;
      const sc = o + 192 + 8 * half;
      const y = dof + b * 256 + 128 * half;
      for (let g = 0; g < 2; g++) {
        const s = sc + g;
        const d0 = f32(d * ((src[s] << 24) >> 24));
        const d1 = f32(d * ((src[s + 2] << 24) >> 24));
        const d2 = f32(d * ((src[s + 4] << 24) >> 24));
        const d3 = f32(d * ((src[s + 6] << 24) >> 24));
        for (let l = 16 * g; l < 16 * g + 16; l++) {
          const a = src[ql + l];
          const c = src[ql + l + 32];
          const h = src[qh + l];
          dst[y + l] = d0 * (((a & 15) | ((h & 3) << 4)) - 32);
          dst[y + l + 32] = d1 * (((c & 15) | (((h >> 2) & 3) << 4)) - 32);
          dst[y + l + 64] = d2 * (((a >> 4) | (((h >> 4) & 3) << 4)) - 32);
          dst[y + l + 96] = d3 * (((c >> 4) | (((h >> 6) & 3) << 4)) - 32);
        }
      }
    }
  }
};

const L = new Uint8Array(QK_K);
const scales = new Float32Array(16);

/** float32 to Q6_K, as quantize_row_q6_K_ref (make_qx_quants per 16 weights). */
export const quantQ6_K: QuantKernel = (src, so, nb, dst, dof) => {
  for (let b = 0; b < nb; b++) {
    const x = so + b * QK_K;
    const o = dof + b * 210;
    dst.fill(0, o, o + 210);
    let maxScale = 0;
    let maxAbsScale = 0;
    for (let ib = 0; ib < 16; ib++) {
      const s = makeQxQuants(16, 32, src, x + 16 * ib, L, 16 * ib);
      scales[ib] = s;
      if (Math.abs(s) > maxAbsScale) {
        maxAbsScale = Math.abs(s);
        maxScale = s;
      }
    }
    if (!(maxAbsScale >= GROUP_MAX_EPS)) continue;
    const iscale = f32(-128 / maxScale);
    const dBits = f32ToF16(f32(1 / iscale));
    putU16(dst, o + 208, dBits);
    const d = F16_F32[dBits];
    for (let ib = 0; ib < 16; ib++) {
      const sc = clampInt(nearestInt(f32(iscale * scales[ib])), -128, 127);
      dst[o + 192 + ib] = sc & 0xff;
      const dl = f32(d * sc);
      if (dl === 0) continue;
      for (let i = 0; i < 16; i++) {
        const k = 16 * ib + i;
        L[k] = clampInt(nearestInt(f32(src[x + k] / dl)), -32, 31) + 32;
      }
    }
    for (let half = 0; half < 2; half++) {
      const Lh = 128 * half;
      const ql = o + 64 * half;
      const qh = o + 128 + 32 * half;
      for (let l = 0; l < 32; l++) {
        const q1 = L[Lh + l];
        const q2 = L[Lh + l + 32];
        const q3 = L[Lh + l + 64];
        const q4 = L[Lh + l + 96];
        dst[ql + l] = (q1 & 15) | ((q3 & 15) << 4);
        dst[ql + l + 32] = (q2 & 15) | ((q4 & 15) << 4);
        dst[qh + l] = (q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6);
      }
    }
  }
};
