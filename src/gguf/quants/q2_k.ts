/**
 * Q2_K (84 bytes per 256 weights): scales[16] (low nibble: 4-bit scale, high nibble: 4-bit
 * min, one pair per 16 weights), qs[64] (2-bit quants), f16 d, f16 dmin.
 * Each half of 128 weights uses 32 qs bytes; bit pair `shift` (0, 2, 4, 6) of qs[l] holds
 * weight 32 * (shift / 2) + l of that half. x = (d * sc) * q - (dmin * m).
 *
 * @module
 */
import { F16_F32 } from "./half.ts";
import { type DequantKernel, f32 } from "./kernel.ts";

/** Q2_K blocks to float32. */
export const dequantQ2_K: DequantKernel = (src, so, nb, dst, dof) => {
  for (let b = 0; b < nb; b++) {
    const o = so + b * 84;
    const d = F16_F32[src[o + 80] | (src[o + 81] << 8)];
    const dmin = F16_F32[src[o + 82] | (src[o + 83] << 8)];
    let y = dof + b * 256;
    let is = 0;
    for (let half = 0; half < 2; half++) {
      const q = o + 16 + half * 32;
      for (let shift = 0; shift < 8; shift += 2) {
        for (let part = 0; part < 32; part += 16) {
          const sc = src[o + is++];
          const dl = f32(d * (sc & 0xf));
          const ml = f32(dmin * (sc >> 4));
          for (let l = 0; l < 16; l++) {
            dst[y++] = f32(dl * ((src[q + part + l] >> shift) & 3)) - ml;
          }
        }
      }
    }
  }
};
