/**
 * Q5_0 and Q5_1: 32 weights per block, 5-bit quants. The low 4 bits are packed as in Q4_0
 * (element j in the low nibble of qs[j] for j < 16, in the high nibble of qs[j - 16]
 * otherwise); bit j of the little-endian u32 qh is the fifth bit of element j.
 *
 * Q5_0 (22 bytes): f16 d, qh[4], qs[16]; x = d * (q - 16).
 * Q5_1 (24 bytes): f16 d, f16 m, qh[4], qs[16]; x = d * q + m.
 *
 * @module
 */
import { F16_F32, f32ToF16 } from "./half.ts";
import { type DequantKernel, f32, putU16, type QuantKernel } from "./kernel.ts";
import { minMax, signedAbsMax } from "./q4_legacy.ts";
import { clampInt } from "./round.ts";

/** Q5_0 blocks to float32. */
export const dequantQ5_0: DequantKernel = (src, so, nb, dst, dof) => {
  for (let b = 0; b < nb; b++) {
    const o = so + b * 22;
    const d = F16_F32[src[o] | (src[o + 1] << 8)];
    const qh = src[o + 2] | (src[o + 3] << 8) | (src[o + 4] << 16) | (src[o + 5] << 24);
    const y = dof + b * 32;
    for (let j = 0; j < 16; j++) {
      const q = src[o + 6 + j];
      dst[y + j] = d * (((q & 15) | (((qh >>> j) & 1) << 4)) - 16);
      dst[y + j + 16] = d * (((q >> 4) | (((qh >>> (j + 16)) & 1) << 4)) - 16);
    }
  }
};

/** Q5_1 blocks to float32. */
export const dequantQ5_1: DequantKernel = (src, so, nb, dst, dof) => {
  for (let b = 0; b < nb; b++) {
    const o = so + b * 24;
    const d = F16_F32[src[o] | (src[o + 1] << 8)];
    const m = F16_F32[src[o + 2] | (src[o + 3] << 8)];
    const qh = src[o + 4] | (src[o + 5] << 8) | (src[o + 6] << 16) | (src[o + 7] << 24);
    const y = dof + b * 32;
    // Exact in double (f16 operands): one rounding on store, as ggml's float arithmetic.
    for (let j = 0; j < 16; j++) {
      const q = src[o + 8 + j];
      dst[y + j] = d * ((q & 15) | (((qh >>> j) & 1) << 4)) + m;
      dst[y + j + 16] = d * ((q >> 4) | (((qh >>> (j + 16)) & 1) << 4)) + m;
    }
  }
};

function putQ5(dst: Uint8Array, qsAt: number, qhAt: number, q: Uint8Array): void {
  let qh = 0;
  for (let j = 0; j < 16; j++) {
    const q0 = q[j];
    const q1 = q[j + 16];
    dst[qsAt + j] = (q0 & 15) | ((q1 & 15) << 4);
    qh |= ((q0 >> 4) << j) | ((q1 >> 4) << (j + 16));
  }
  dst[qhAt] = qh & 0xff;
  dst[qhAt + 1] = (qh >>> 8) & 0xff;
  dst[qhAt + 2] = (qh >>> 16) & 0xff;
  dst[qhAt + 3] = qh >>> 24;
}

const qbuf = new Uint8Array(32);

/** float32 to Q5_0, as quantize_row_q5_0_ref (scale = signed max / -16). */
export const quantQ5_0: QuantKernel = (src, so, nb, dst, dof) => {
  for (let b = 0; b < nb; b++) {
    const x = so + b * 32;
    const o = dof + b * 22;
    const d = f32(signedAbsMax(src, x, 32) / -16);
    const id = d !== 0 ? f32(1 / d) : 0;
    putU16(dst, o, f32ToF16(d));
    for (let j = 0; j < 32; j++) {
      qbuf[j] = clampInt(Math.trunc(f32(f32(src[x + j] * id) + 16.5)), 0, 31);
    }
    putQ5(dst, o + 6, o + 2, qbuf);
  }
};

/** float32 to Q5_1, as quantize_row_q5_1_ref (scale = (max - min) / 31, offset = min). */
export const quantQ5_1: QuantKernel = (src, so, nb, dst, dof) => {
  for (let b = 0; b < nb; b++) {
    const x = so + b * 32;
    const o = dof + b * 24;
    const [min, max] = minMax(src, x, 32);
    const d = f32(f32(max - min) / 31);
    const id = d !== 0 ? f32(1 / d) : 0;
    putU16(dst, o, f32ToF16(d));
    putU16(dst, o + 2, f32ToF16(min));
    for (let j = 0; j < 32; j++) {
      qbuf[j] = clampInt(Math.trunc(f32(f32(f32(src[x + j] - min) * id) + 0.5)), 0, 31);
    }
    putQ5(dst, o + 8, o + 4, qbuf);
  }
};
