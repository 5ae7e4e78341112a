/**
 * Q3_K (110 bytes per 256 weights): hmask[32] (high bits), qs[64] (low 2 bits), scales[12]
 * (sixteen 6-bit signed scales, one per 16 weights), f16 d.
 * Weight i has its low bits in qs like Q2_K and its high bit at bit (i / 32) of
 * hmask[i % 32]; a clear high bit subtracts 4. x = (d * (sc - 32)) * q.
 * Scale j: low 4 bits in nibble (j / 8) of scales[j % 8], high 2 bits at bits
 * 2 * (j / 4) of scales[8 + j % 4].
 * Encoding follows quantize_row_q3_K_ref (make_q3_quants per 16 weights).
 *
 * @module
 */
import { F16_F32, f32ToF16 } from "./half.ts";
import { QK_K } from "./k_common.ts";
import { type DequantKernel, f32, putU16, type QuantKernel } from "./kernel.ts";
import { clampInt, GROUP_MAX_EPS, nearestInt } from "./round.ts";

/** Q3_K blocks to float32. */
export const dequantQ3_K: DequantKernel = (src, so, nb, dst, dof) => {
  for (let b = 0; b < nb; b++) {
    const o = so + b * 110;
    const hm = o;
    const s = o + 96;
    const d = F16_F32[src[o + 108] | (src[o + 109] << 8)];
    let y = dof + b * 256;
    let is = 0;
    let bit = 0;
    for (let half = 0; half < 2; half++) {
      const q = o + 32 + half * 32;
      for (let shift = 0; shift < 8; shift += 2, bit++) {
        for (let part = 0; part < 32; part += 16, is++) {
          const lo = is < 8 ? src[s + is] & 0xf : src[s + is - 8] >> 4;
          const sc = (lo | (((src[s + 8 + (is & 3)] >> (2 * (is >> 2))) & 3) << 4)) - 32;
          const dl = f32(d * sc);
          for (let l = 0; l < 16; l++) {
            const ql = (src[q + part + l] >> shift) & 3;
            const h = (src[hm + part + l] >> bit) & 1;
            dst[y++] = dl * (ql - (h ? 0 : 4));
          }
        }
      }
    }
  }
};

/**
 * Symmetric 3-bit fit of n weights (ggml make_q3_quants with do_rmse, nmax 4): quants in
 * [-4, 3] from -4 / max, then up to 5 rounds of single-quant changes that improve the
 * x^2-weighted least squares fit; stores l + 4 in L[lo, lo + n) and returns the scale.
 */
function makeQ3Quants(n: number, x: Float32Array, xo: number, L: Int8Array, lo: number): number {
  const nmax = 4;
  let max = 0;
  let amax = 0;
  for (let i = 0; i < n; i++) {
    const ax = Math.abs(x[xo + i]);
    if (ax > amax) {
      amax = ax;
      max = x[xo + i];
    }
  }
  if (amax < GROUP_MAX_EPS) {
    L.fill(0, lo, lo + n);
    return 0;
  }
  const iscale = f32(-nmax / max);
  let sumlx = 0;
  let suml2 = 0;
  for (let i = 0; i < n; i++) {
    const v = x[xo + i];
    const l = clampInt(nearestInt(f32(iscale * v)), -nmax, nmax - 1);
    L[lo + i] = l;
    const w = f32(v * v);
    sumlx = f32(sumlx + f32(f32(w * v) * l));
    suml2 = f32(suml2 + f32(f32(w * l) * l));
  }
  for (let itry = 0; itry < 5; itry++) {
    let changed = 0;
    for (let i = 0; i < n; i++) {
      const v = x[xo + i];
      const w = f32(v * v);
      const li = L[lo + i];
      let slx = f32(sumlx - f32(f32(w * v) * li));
      if (!(slx > 0)) continue;
      let sl2 = f32(suml2 - f32(f32(w * li) * li));
      const nl = clampInt(nearestInt(f32(f32(v * sl2) / slx)), -nmax, nmax - 1);
      if (nl === li) continue;
      slx = f32(slx + f32(f32(w * v) * nl));
      sl2 = f32(sl2 + f32(f32(w * nl) * nl));
      if (sl2 > 0 && f32(f32(slx * slx) * suml2) > f32(f32(sumlx * sumlx) * sl2)) {
        L[lo + i] = nl;
        sumlx = slx;
        suml2 = sl2;
        changed++;
      }
    }
    if (!changed) break;
  }
  for (let i = 0; i < n; i++) L[lo + i] += nmax;
  return suml2 > 0 ? f32(sumlx / suml2) : 0;
}

const L3 = new Int8Array(QK_K);
const scales3 = new Float32Array(16);

/** float32 to Q3_K, as quantize_row_q3_K_ref. */
export const quantQ3_K: QuantKernel = (src, so, nb, dst, dof) => {
  for (let b = 0; b < nb; b++) {
    const x = so + b * QK_K;
    const o = dof + b * 110;
    dst.fill(0, o, o + 110);
    let maxScale = 0;
    let amax = 0;
    for (let j = 0; j < 16; j++) {
      const s = makeQ3Quants(16, src, x + 16 * j, L3, 16 * j);
      scales3[j] = s;
      if (Math.abs(s) > amax) {
        amax = Math.abs(s);
        maxScale = s;
      }
    }
    const sb = o + 96;
    if (maxScale !== 0) {
      const iscale = f32(-32 / maxScale);
      for (let j = 0; j < 16; j++) {
        let l = clampInt(nearestInt(f32(iscale * scales3[j])), -32, 31) + 32;
        if (j < 8) dst[sb + j] = l & 0xf;
        else dst[sb + j - 8] |= (l & 0xf) << 4;
        l >>= 4;
        dst[sb + 8 + (j % 4)] |= l << (2 * (j >> 2));
      }
      putU16(dst, o + 108, f32ToF16(f32(1 / iscale)));
    }
    const d = F16_F32[dst[o + 108] | (dst[o + 109] << 8)];
    for (let j = 0; j < 16; j++) {
      const lo = j < 8 ? dst[sb + j] & 0xf : dst[sb + j - 8] >> 4;
      const sc = (lo | (((dst[sb + 8 + (j % 4)] >> (2 * (j >> 2))) & 3) << 4)) - 32;
      const dl = f32(d * sc);
      if (dl === 0) continue;
      for (let i = 0; i < 16; i++) {
        const k = 16 * j + i;
        L3[k] = clampInt(nearestInt(f32(src[x + k] / dl)), -4, 3) + 4;
      }
    }
    // high bit of weight j at bit j / 32 of hmask[j % 32], low 2 bits as in Q2_K
    for (let j = 0; j < QK_K; j++) {
      if (L3[j] > 3) {
        dst[o + (j % 32)] |= 1 << (j >> 5);
        L3[j] -= 4;
      }
    }
    for (let j = 0; j < QK_K; j += 128) {
      for (let l = 0; l < 32; l++) {
        dst[o + 32 + j / 4 + l] = L3[j + l] | (L3[j + l + 32] << 2) | (L3[j + l + 64] << 4) |
          (L3[j + l + 96] << 6);
      }
    }
  }
};
