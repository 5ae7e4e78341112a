/**
 * Non-linear 4-bit types. Each 4-bit index selects a value of the table KVALUES_IQ4NL.
 *
 * IQ4_NL (18 bytes per 32): f16 d, qs[16]; element j (< 16) in the low nibble of qs[j],
 * element j + 16 in its high nibble; x = d * kvalues[q].
 * IQ4_XS (136 bytes per 256): f16 d, u16 scales_h, scales_l[4], qs[128]; sub-block ib of
 * 32 weights has the 6-bit scale (nibble ib % 2 of scales_l[ib / 2]) | (bits 2ib of
 * scales_h) << 4, minus 32, and 16 qs bytes packed as IQ4_NL; x = (d * ls) * kvalues[q].
 *
 * @module
 */
import { F16_F32, f32ToF16 } from "./half.ts";
import { type DequantKernel, f32, putU16, type QuantKernel } from "./kernel.ts";
import { clampInt, GROUP_MAX_EPS, nearestInt } from "./round.ts";

/** ggml's kvalues_iq4nl. */
export const KVALUES_IQ4NL: Int8Array = Int8Array.from([
  -127,
  -104,
  -83,
  -65,
  -49,
  -35,
  -22,
  -10,
  1,
  13,
  25,
  38,
  53,
  69,
  89,
  113,
]);

/** IQ4_NL blocks to float32. */
export const dequantIQ4_NL: DequantKernel = (src, so, nb, dst, dof) => {
  const kv = KVALUES_IQ4NL;
  for (let b = 0; b < nb; b++) {
    const o = so + b * 18;
    const d = F16_F32[src[o] | (src[o + 1] << 8)];
    const y = dof + b * 32;
    for (let j = 0; j < 16; j++) {
      const q = src[o + 2 + j];
      dst[y + j] = d * kv[q & 15];
      dst[y + j + 16] = d * kv[q >> 4];
    }
  }
};

/** IQ4_XS blocks to float32. */
export const dequantIQ4_XS: DequantKernel = (src, so, nb, dst, dof) => {
  const kv = KVALUES_IQ4NL;
  for (let b = 0; b < nb; b++) {
    const o = so + b * 136;
    const d = F16_F32[src[o] | (src[o + 1] << 8)];
    const sh = src[o + 2] | (src[o + 3] << 8);
    for (let ib = 0; ib < 8; ib++) {
      const lo = (src[o + 4 + (ib >> 1)] >> (4 * (ib & 1))) & 15;
      const ls = (lo | (((sh >> (2 * ib)) & 3) << 4)) - 32;
      const dl = f32(d * ls);
      const q = o + 8 + 16 * ib;
      const y = dof + b * 256 + 32 * ib;
      for (let j = 0; j < 16; j++) {
        const v = src[q + j];
        dst[y + j] = dl * kv[v & 15];
        dst[y + j + 16] = dl * kv[v >> 4];
      }
    }
  }
};

/**
 * Index of the table value nearest to x (ties to the larger value), as ggml's
 * best_index_int8 for a sorted table of 16.
 */
export function bestIndexIQ4(x: number): number {
  const kv = KVALUES_IQ4NL;
  const x2 = f32(x + x);
  let idx = 0;
  for (let step = 8; step > 0; step >>= 1) {
    const j = idx + step;
    if (x2 >= kv[j - 1] + kv[j]) idx = j;
  }
  return idx;
}

const L = new Uint8Array(256);
const SCALES = new Float32Array(8);
const NTRY = 7;

/**
 * The scale of the 32 values at src[x..] as quantize_row_iq4_nl_impl searches it (no importance
 * weights: weights x^2, 15 trial scales around max / -127, then a least squares refit); 0 for
 * a group under GROUP_MAX_EPS.
 */
function groupScale(src: Float32Array, x: number): number {
  const kv = KVALUES_IQ4NL;
  let amax = 0;
  let max = 0;
  for (let j = 0; j < 32; j++) {
    const a = Math.abs(src[x + j]);
    if (a > amax) {
      amax = a;
      max = src[x + j];
    }
  }
  if (amax < GROUP_MAX_EPS) return 0;
  let d = f32(-max / kv[0]);
  let id = f32(1 / d);
  let best = 0;
  for (let itry = -NTRY - 1; itry <= NTRY; itry++) {
    // The first pass (itry = -NTRY - 1) is the plain scale -max / kv[0]; then the trials.
    if (itry >= -NTRY) id = f32((itry + kv[0]) / max);
    let sumqx = 0;
    let sumq2 = 0;
    for (let j = 0; j < 32; j++) {
      const v = src[x + j];
      const q = kv[bestIndexIQ4(f32(id * v))];
      const wq = f32(f32(v * v) * q);
      sumqx = f32(sumqx + f32(wq * v));
      sumq2 = f32(sumq2 + f32(wq * q));
    }
    if (itry < -NTRY) {
      d = f32(sumqx / sumq2);
      best = f32(d * sumqx);
    } else if (sumq2 > 0 && f32(sumqx * sumqx) > f32(best * sumq2)) {
      d = f32(sumqx / sumq2);
      best = f32(d * sumqx);
    }
  }
  return d;
}

/** Indices of the 32 values at src[x..] under scale d into L[l..], packed as IQ4_NL at dst[o..]. */
function packGroup(src: Float32Array, x: number, d: number, dst: Uint8Array, o: number): void {
  const id = d !== 0 ? f32(1 / d) : 0;
  for (let j = 0; j < 32; j++) L[j] = bestIndexIQ4(f32(id * src[x + j]));
  for (let j = 0; j < 16; j++) dst[o + j] = L[j] | (L[j + 16] << 4);
}

/** float32 to IQ4_NL, as quantize_row_iq4_nl_ref. */
export const quantIQ4_NL: QuantKernel = (src, so, nb, dst, dof) => {
  for (let b = 0; b < nb; b++) {
    const x = so + b * 32;
    const o = dof + b * 18;
    const d = groupScale(src, x);
    putU16(dst, o, f32ToF16(d));
    packGroup(src, x, d, dst, o + 2);
  }
};

/**
 * float32 to IQ4_XS, as quantize_row_iq4_xs_ref: each group's scale searched as for IQ4_NL, the
 * super-block scale d = -max_scale / 32 (max_scale: the group scale of largest magnitude), each
 * group's 6-bit l = nearest(scale / d) clamped to [-32, 31], and its indices under d * l.
 */
export const quantIQ4_XS: QuantKernel = (src, so, nb, dst, dof) => {
  for (let b = 0; b < nb; b++) {
    const x = so + b * 256;
    const o = dof + b * 136;
    let maxScale = 0;
    let amaxScale = 0;
    for (let ib = 0; ib < 8; ib++) {
      SCALES[ib] = groupScale(src, x + 32 * ib);
      if (Math.abs(SCALES[ib]) > amaxScale) {
        amaxScale = Math.abs(SCALES[ib]);
        maxScale = SCALES[ib];
      }
    }
    const d = f32(-maxScale / 32);
    putU16(dst, o, f32ToF16(d));
    const id = d !== 0 ? f32(1 / d) : 0;
    let sh = 0;
    dst.fill(0, o + 4, o + 8);
    for (let ib = 0; ib < 8; ib++) {
      const l = clampInt(nearestInt(f32(id * SCALES[ib])), -32, 31);
      packGroup(src, x + 32 * ib, f32(d * l), dst, o + 8 + 16 * ib);
      dst[o + 4 + (ib >> 1)] |= ((l + 32) & 15) << (4 * (ib & 1));
      sh |= ((l + 32) >> 4) << (2 * ib);
    }
    putU16(dst, o + 2, sh);
  }
};
