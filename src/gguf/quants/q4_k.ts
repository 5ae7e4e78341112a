/**
 * Q4_K (144 bytes per 256 weights): f16 d, f16 dmin, scales[12] (eight 6-bit scales and
 * mins, see k_common.ts), qs[128]. Each 64 weights use 32 qs bytes: the low nibbles are
 * the first 32 weights, the high nibbles the next 32. x = (d * sc) * q - (dmin * m).
 *
 * @module
 */
import { F16_F32, f32ToF16 } from "./half.ts";
import { makeQkx2Quants, packScaleMinK4, QK_K, qkxMin, scaleMinK4 } from "./k_common.ts";
import { type DequantKernel, f32, putU16, type QuantKernel } from "./kernel.ts";
import { clampInt, nearestInt } from "./round.ts";

/** Q4_K blocks to float32. */
export const dequantQ4_K: DequantKernel = (src, so, nb, dst, dof) => {
  for (let b = 0; b < nb; b++) {
    const o = so + b * 144;
    const d = F16_F32[src[o] | (src[o + 1] << 8)];
    const dmin = F16_F32[src[o + 2] | (src[o + 3] << 8)];
    let y = dof + b * 256;
    for (let j = 0; j < 4; j++) {
      const sm1 = scaleMinK4(2 * j, src, o + 4);
      const sm2 = scaleMinK4(2 * j + 1, src, o + 4);
      const d1 = f32(d * (sm1 & 63));
      const m1 = f32(dmin * (sm1 >> 8));
      const d2 = f32(d * (sm2 & 63));
      const m2 = f32(dmin * (sm2 >> 8));
      const q = o + 16 + 32 * j;
      for (let l = 0; l < 32; l++) {
        const v = src[q + l];
        dst[y + l] = f32(d1 * (v & 15)) - m1;
        dst[y + 32 + l] = f32(d2 * (v >> 4)) - m2;
      }
      y += 64;
    }
  }
};

/** Sub-block scratch shared by the K-quantizers (single-threaded per isolate). */
export const kScratch = {
  L: new Uint8Array(QK_K),
  laux: new Uint8Array(32),
  weights: new Float32Array(32),
  scales: new Float32Array(8),
  mins: new Float32Array(8),
  ls: new Uint8Array(8),
  lm: new Uint8Array(8),
};

const TENTH = f32(0.1);

/**
 * Quantizes one super-block with a 6-bit scale and min per 32 weights (Q4_K, Q5_K): per
 * sub-block make_qkx2_quants with weights rms + |x|, then the scales and mins quantized
 * against their maxima, then every weight requantized with the final scales. Writes f16 d
 * and dmin at `o`, the scale bytes at o + 4, and the quants (0..nmax) to kScratch.L.
 */
export function quantizeScaleMinBlock(
  src: Float32Array,
  x: number,
  dst: Uint8Array,
  o: number,
  nmax: number,
  rmin: number,
  nstep: number,
): void {
  const { L, laux, weights, scales, mins, ls, lm } = kScratch;
  let maxScale = 0;
  let maxMin = 0;
  for (let j = 0; j < 8; j++) {
    const xo = x + 32 * j;
    let sumX2 = 0;
    for (let l = 0; l < 32; l++) sumX2 = f32(sumX2 + f32(src[xo + l] * src[xo + l]));
    const avX = f32(Math.sqrt(f32(sumX2 / 32)));
    for (let l = 0; l < 32; l++) weights[l] = avX + Math.abs(src[xo + l]);
    const sub = L.subarray(32 * j, 32 * j + 32);
    scales[j] = makeQkx2Quants(32, nmax, src, xo, weights, sub, laux, rmin, TENTH, nstep);
    mins[j] = qkxMin[0];
    if (scales[j] > maxScale) maxScale = scales[j];
    if (mins[j] > maxMin) maxMin = mins[j];
  }
  const invScale = maxScale > 0 ? f32(63 / maxScale) : 0;
  const invMin = maxMin > 0 ? f32(63 / maxMin) : 0;
  for (let j = 0; j < 8; j++) {
    ls[j] = clampInt(nearestInt(f32(invScale * scales[j])), 0, 63);
    lm[j] = clampInt(nearestInt(f32(invMin * mins[j])), 0, 63);
  }
  const dBits = f32ToF16(f32(maxScale / 63));
  const mBits = f32ToF16(f32(maxMin / 63));
  putU16(dst, o, dBits);
  putU16(dst, o + 2, mBits);
  dst.fill(0, o + 4, o + 16);
  packScaleMinK4(dst, o + 4, ls, lm);
  const d = F16_F32[dBits];
  const dmin = F16_F32[mBits];
  for (let j = 0; j < 8; j++) {
    const sm = scaleMinK4(j, dst, o + 4);
    const dl = f32(d * (sm & 63));
    if (dl === 0) continue;
    const dm = f32(dmin * (sm >> 8));
    for (let i = 0; i < 32; i++) {
      L[32 * j + i] = clampInt(nearestInt(f32(f32(src[x + 32 * j + i] + dm) / dl)), 0, nmax);
    }
  }
}

/** float32 to Q4_K, as quantize_row_q4_K_ref. */
export const quantQ4_K: QuantKernel = (src, so, nb, dst, dof) => {
  const L = kScratch.L;
  for (let b = 0; b < nb; b++) {
    const o = dof + b * 144;
    quantizeScaleMinBlock(src, so + b * QK_K, dst, o, 15, -1, 20);
    for (let j = 0; j < 4; j++) {
      for (let l = 0; l < 32; l++) {
        dst[o + 16 + 32 * j + l] = L[64 * j + l] | (L[64 * j + 32 + l] << 4);
      }
    }
  }
};
