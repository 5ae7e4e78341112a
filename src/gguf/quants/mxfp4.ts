/**
 * MXFP4 (17 bytes per 32 weights, OCP microscaling): e (E8M0 shared exponent), qs[16]
 * (FP4 E2M1 codes; element j < 16 in the low nibble of qs[j], j + 16 in the high nibble).
 * ggml stores the E2M1 values doubled (KVALUES_MXFP4) and halves the scale:
 * x = kvalues[q] * 2^(e - 128).
 *
 * @module
 */
import { bitsToF32 } from "./half.ts";
import type { DequantKernel, QuantKernel } from "./kernel.ts";
import { f32 } from "./kernel.ts";

/** ggml's kvalues_mxfp4: twice the FP4 E2M1 values, indexed by the 4-bit code. */
export const KVALUES_MXFP4: Int8Array = Int8Array.from([
  0,
  1,
  2,
  3,
  4,
  6,
  8,
  12,
  0,
  -1,
  -2,
  -3,
  -4,
  -6,
  -8,
  -12,
]);

/** Half the E8M0 scale, 2^(e - 128), as ggml_e8m0_to_fp32_half (e < 2 gives subnormals). */
export function e8m0ToF32Half(e: number): number {
  return bitsToF32(e < 2 ? 0x00200000 << e : (e - 1) << 23);
}

const HALF_SCALE = new Float32Array(256);
for (let e = 0; e < 256; e++) HALF_SCALE[e] = e8m0ToF32Half(e);

/** MXFP4 blocks to float32. */
export const dequantMXFP4: DequantKernel = (src, so, nb, dst, dof) => {
  const kv = KVALUES_MXFP4;
  for (let b = 0; b < nb; b++) {
    const o = so + b * 17;
    const d = HALF_SCALE[src[o]];
    const y = dof + b * 32;
    for (let j = 0; j < 16; j++) {
      const q = src[o + 1 + j];
      dst[y + j] = kv[q & 15] * d;
      dst[y + j + 16] = kv[q >> 4] * d;
    }
  }
};

function bestIndexMXFP4(x: number, d: number): number {
  const kv = KVALUES_MXFP4;
  let best = 0;
  let bestErr = Math.abs(f32(f32(kv[0] * d) - x));
  for (let i = 1; i < 16; i++) {
    const err = Math.abs(f32(f32(kv[i] * d) - x));
    if (err < bestErr) {
      best = i;
      bestErr = err;
    }
  }
  return best;
}

/**
 * float32 to MXFP4, as quantize_row_mxfp4_ref: e = floor(log2(amax)) - 2 + 127, each
 * value to the nearest code (first one on ties).
 */
export const quantMXFP4: QuantKernel = (src, so, nb, dst, dof) => {
  for (let b = 0; b < nb; b++) {
    const x = so + b * 32;
    const o = dof + b * 17;
    let amax = 0;
    for (let j = 0; j < 32; j++) {
      const a = Math.abs(src[x + j]);
      if (amax < a) amax = a;
    }
    let e = 0;
    if (amax > 0) {
      const t = Math.floor(f32(Math.log2(amax))) - 2 + 127;
      e = t < 0 ? 0 : t > 255 ? 255 : t;
    }
    const d = HALF_SCALE[e];
    dst[o] = e;
    for (let j = 0; j < 16; j++) {
      dst[o + 1 + j] = bestIndexMXFP4(src[x + j], d) | (bestIndexMXFP4(src[x + 16 + j], d) << 4);
    }
  }
};
