/**
 * Plain (non-block) element types: F32, F16, BF16 in both directions; F64, I8, I16 and I32
 * to float32 only. Each element is converted exactly as a C cast to float would (round to
 * nearest even); F16 and BF16 decode bit for bit, NaN payloads included.
 *
 * @module
 */
import { F16_BITS, f32BitsToBf16, f32BitsToF16 } from "./half.ts";
import type { DequantKernel, QuantKernel } from "./kernel.ts";

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function u32View(a: Float32Array, offset: number, n: number): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset + offset * 4, n);
}

/** F32 bytes (little-endian) to float32. */
export const dequantF32: DequantKernel = (src, so, n, dst, dof) => {
  if (LITTLE_ENDIAN) {
    new Uint8Array(dst.buffer, dst.byteOffset + dof * 4, n * 4).set(src.subarray(so, so + n * 4));
    return;
  }
  const d = u32View(dst, dof, n);
  for (let i = 0, o = so; i < n; i++, o += 4) {
    d[i] = src[o] | (src[o + 1] << 8) | (src[o + 2] << 16) | (src[o + 3] << 24);
  }
};

/** A 16-bit view of n elements at byte `o` of `src`, or null when `o` is not even. */
function u16View(src: Uint8Array, o: number, n: number): Uint16Array | null {
  const at = src.byteOffset + o;
  return LITTLE_ENDIAN && (at & 1) === 0 ? new Uint16Array(src.buffer, at, n) : null;
}

/** F16 to float32 through the 65536-entry table (bit patterns, so NaN payloads survive). */
export const dequantF16: DequantKernel = (src, so, n, dst, dof) => {
  const d = u32View(dst, dof, n);
  const s = u16View(src, so, n);
  if (s !== null) {
    for (let i = 0; i < n; i++) d[i] = F16_BITS[s[i]];
    return;
  }
  for (let i = 0, o = so; i < n; i++, o += 2) d[i] = F16_BITS[src[o] | (src[o + 1] << 8)];
};

/** BF16 to float32: the 16 bits become the high half. */
export const dequantBF16: DequantKernel = (src, so, n, dst, dof) => {
  const d = u32View(dst, dof, n);
  const s = u16View(src, so, n);
  if (s !== null) {
    for (let i = 0; i < n; i++) d[i] = s[i] << 16;
    return;
  }
  for (let i = 0, o = so; i < n; i++, o += 2) d[i] = (src[o] | (src[o + 1] << 8)) << 16;
};

const f64Scratch = new Float64Array(1);
const f64Bytes = new Uint8Array(f64Scratch.buffer);

/** F64 to float32 (rounded to nearest even, as a C cast). */
export const dequantF64: DequantKernel = (src, so, n, dst, dof) => {
  for (let i = 0, o = so; i < n; i++, o += 8) {
    for (let b = 0; b < 8; b++) f64Bytes[LITTLE_ENDIAN ? b : 7 - b] = src[o + b];
    dst[dof + i] = f64Scratch[0];
  }
};

/** I8 to float32. */
export const dequantI8: DequantKernel = (src, so, n, dst, dof) => {
  for (let i = 0; i < n; i++) dst[dof + i] = (src[so + i] << 24) >> 24;
};

/** I16 to float32. */
export const dequantI16: DequantKernel = (src, so, n, dst, dof) => {
  for (let i = 0, o = so; i < n; i++, o += 2) {
    dst[dof + i] = ((src[o] | (src[o + 1] << 8)) << 16) >> 16;
  }
};

/** I32 to float32 (rounded to nearest even above 2^24). */
export const dequantI32: DequantKernel = (src, so, n, dst, dof) => {
  for (let i = 0, o = so; i < n; i++, o += 4) {
    dst[dof + i] = src[o] | (src[o + 1] << 8) | (src[o + 2] << 16) | (src[o + 3] << 24);
  }
};

/** float32 to F32 bytes (little-endian). */
export const quantF32: QuantKernel = (src, so, n, dst, dof) => {
  const s = u32View(src, so, n);
  for (let i = 0, o = dof; i < n; i++, o += 4) {
    const v = s[i];
    dst[o] = v & 0xff;
    dst[o + 1] = (v >>> 8) & 0xff;
    dst[o + 2] = (v >>> 16) & 0xff;
    dst[o + 3] = v >>> 24;
  }
};

/** float32 to F16, round to nearest even. */
export const quantF16: QuantKernel = (src, so, n, dst, dof) => {
  const s = u32View(src, so, n);
  for (let i = 0, o = dof; i < n; i++, o += 2) {
    const h = f32BitsToF16(s[i]);
    dst[o] = h & 0xff;
    dst[o + 1] = h >>> 8;
  }
};

/** float32 to BF16, as ggml_compute_fp32_to_bf16. */
export const quantBF16: QuantKernel = (src, so, n, dst, dof) => {
  const s = u32View(src, so, n);
  for (let i = 0, o = dof; i < n; i++, o += 2) {
    const h = f32BitsToBf16(s[i]);
    dst[o] = h & 0xff;
    dst[o + 1] = h >>> 8;
  }
};
