/**
 * Q3_K (110 bytes per 256 weights): hmask[32] (high bits), qs[64] (low 2 bits), scales[12]
 * (sixteen 6-bit signed scales, one per 16 weights), f16 d.
 * Weight i has its low bits in qs like Q2_K and its high bit at bit (i / 32) of
 * hmask[i % 32]; a clear high bit subtracts 4. x = (d * (sc - 32)) * q.
 * Scale j: low 4 bits in nibble (j / 8) of scales[j % 8], high 2 bits at bits
 * 2 * (j / 4) of scales[8 + j % 4].
 *
 * @module
 */
import { F16_F32 } from "./half.ts";
import { type DequantKernel, f32 } from "./kernel.ts";

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
