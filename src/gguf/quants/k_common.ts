/**
 * Shared pieces of the K-quants (256 weights per super-block): the 6-bit scale/min packing
 * of Q4_K/Q5_K and the scale searches of ggml's reference quantizers (make_qkx2_quants for
 * quants with a minimum, make_qx_quants for symmetric ones), in float32 arithmetic.
 *
 * @module
 */
import { f32 } from "./kernel.ts";
import { clampInt, GROUP_MAX_EPS, nearestInt } from "./round.ts";

/** Elements per K-quant super-block. */
export const QK_K = 256;

/**
 * Unpacks the 6-bit scale (low 8 bits of the result) and min (bits 8..13) of sub-block
 * j (0..7) from the 12 scale bytes at `q`, as ggml's get_scale_min_k4.
 */
export function scaleMinK4(j: number, src: Uint8Array, q: number): number {
  if (j < 4) return (src[q + j] & 63) | ((src[q + j + 4] & 63) << 8);
  const sc = (src[q + j + 4] & 0xf) | ((src[q + j - 4] >> 6) << 4);
  const m = (src[q + j + 4] >> 4) | ((src[q + j] >> 6) << 4);
  return sc | (m << 8);
}

/** Packs eight 6-bit scales and mins into 12 bytes at `q` (inverse of scaleMinK4). */
export function packScaleMinK4(
  dst: Uint8Array,
  q: number,
  ls: Uint8Array,
  lm: Uint8Array,
): void {
  for (let j = 0; j < 8; j++) {
    if (j < 4) {
      dst[q + j] = ls[j];
      dst[q + j + 4] = lm[j];
    } else {
      dst[q + j + 4] = (ls[j] & 0xf) | ((lm[j] & 0xf) << 4);
      dst[q + j - 4] |= (ls[j] >> 4) << 6;
      dst[q + j] |= (lm[j] >> 4) << 6;
    }
  }
}

/** Result slot of makeQkx2Quants: the (positive) minimum to subtract. */
export const qkxMin: Float32Array = new Float32Array(1);

/**
 * Scale and min search for quants 0..nmax with an offset (ggml make_qkx2_quants): tries
 * nstep + 1 inverse scales around nmax / (max - min) and keeps the weighted least squares
 * fit with the smallest weighted squared error. Writes the quants to L[0, n), the minimum
 * (a value to subtract, >= 0) to qkxMin[0], and returns the scale.
 */
export function makeQkx2Quants(
  n: number,
  nmax: number,
  x: Float32Array,
  xo: number,
  weights: Float32Array,
  L: Uint8Array,
  laux: Uint8Array,
  rmin: number,
  rdelta: number,
  nstep: number,
): number {
  let min = x[xo];
  let max = x[xo];
  let sumW = weights[0];
  let sumX = f32(sumW * x[xo]);
  for (let i = 1; i < n; i++) {
    const v = x[xo + i];
    if (v < min) min = v;
    if (v > max) max = v;
    const w = weights[i];
    sumW = f32(sumW + w);
    sumX = f32(sumX + f32(w * v));
  }
  if (min > 0) min = 0;
  if (max === min) {
    L.fill(0, 0, n);
    qkxMin[0] = -min;
    return 0;
  }
  const range = f32(max - min);
  let iscale = f32(nmax / range);
  let scale = f32(1 / iscale);
  let bestError = 0;
  for (let i = 0; i < n; i++) {
    const v = x[xo + i];
    const l = clampInt(nearestInt(f32(iscale * f32(v - min))), 0, nmax);
    L[i] = l;
    const diff = f32(f32(f32(scale * l) + min) - v);
    bestError = f32(bestError + f32(weights[i] * f32(diff * diff)));
  }
  for (let is = 0; is <= nstep; is++) {
    iscale = f32(f32(f32(rmin + f32(rdelta * is)) + nmax) / range);
    let sumL = 0;
    let sumL2 = 0;
    let sumXL = 0;
    for (let i = 0; i < n; i++) {
      const v = x[xo + i];
      const l = clampInt(nearestInt(f32(iscale * f32(v - min))), 0, nmax);
      laux[i] = l;
      const wl = f32(weights[i] * l);
      sumL = f32(sumL + wl);
      sumL2 = f32(sumL2 + f32(wl * l));
      sumXL = f32(sumXL + f32(wl * v));
    }
    const D = f32(f32(sumW * sumL2) - f32(sumL * sumL));
    if (D > 0) {
      let thisScale = f32(f32(f32(sumW * sumXL) - f32(sumX * sumL)) / D);
      let thisMin = f32(f32(f32(sumL2 * sumX) - f32(sumL * sumXL)) / D);
      if (thisMin > 0) {
        thisMin = 0;
        thisScale = f32(sumXL / sumL2);
      }
      let curError = 0;
      for (let i = 0; i < n; i++) {
        const diff = f32(f32(f32(thisScale * laux[i]) + thisMin) - x[xo + i]);
        curError = f32(curError + f32(weights[i] * f32(diff * diff)));
      }
      if (curError < bestError) {
        L.set(laux.subarray(0, n));
        bestError = curError;
        scale = thisScale;
        min = thisMin;
      }
    }
  }
  qkxMin[0] = -min;
  return scale;
}

const TENTH = f32(0.1);

/**
 * Symmetric scale search (ggml make_qx_quants with rmse_type 1, no importance weights):
 * quants in [-nmax, nmax - 1] stored as l + nmax in L[lo, lo + n), weights x^2; tries
 * 19 inverse scales around -nmax / max and keeps the best least squares fit. Returns the
 * scale (0 for an all-zero group).
 */
export function makeQxQuants(
  n: number,
  nmax: number,
  x: Float32Array,
  xo: number,
  L: Uint8Array,
  lo: number,
): number {
  let max = 0;
  let amax = 0;
  for (let i = 0; i < n; i++) {
    const v = x[xo + i];
    const ax = Math.abs(v);
    if (ax > amax) {
      amax = ax;
      max = v;
    }
  }
  if (amax < GROUP_MAX_EPS) {
    L.fill(0, lo, lo + n);
    return 0;
  }
  let iscale = f32(-nmax / max);
  let sumlx = 0;
  let suml2 = 0;
  for (let i = 0; i < n; i++) {
    const v = x[xo + i];
    const l = clampInt(nearestInt(f32(iscale * v)), -nmax, nmax - 1);
    L[lo + i] = l + nmax;
    const w = f32(v * v);
    sumlx = f32(sumlx + f32(f32(w * v) * l));
    suml2 = f32(suml2 + f32(f32(w * l) * l));
  }
  let scale = suml2 !== 0 ? f32(sumlx / suml2) : 0;
  let best = f32(scale * sumlx);
  for (let is = -9; is <= 9; is++) {
    if (is === 0) continue;
    iscale = f32(-f32(nmax + f32(TENTH * is)) / max);
    sumlx = 0;
    suml2 = 0;
    for (let i = 0; i < n; i++) {
      const v = x[xo + i];
      const l = clampInt(nearestInt(f32(iscale * v)), -nmax, nmax - 1);
      const w = f32(v * v);
      sumlx = f32(sumlx + f32(f32(w * v) * l));
      suml2 = f32(suml2 + f32(f32(w * l) * l));
    }
    if (suml2 > 0 && f32(sumlx * sumlx) > f32(best * suml2)) {
      for (let i = 0; i < n; i++) {
        L[lo + i] = clampInt(nearestInt(f32(iscale * x[xo + i])), -nmax, nmax - 1) + nmax;
      }
      scale = f32(sumlx / suml2);
      best = f32(scale * sumlx);
    }
  }
  return scale;
}
