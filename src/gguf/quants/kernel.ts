/**
 * The shapes every per-family (de)quantizer has, so mod.ts can dispatch on the type id.
 * Kernels trust their arguments (mod.ts checks bounds once per call) and allocate nothing
 * per block.
 *
 * @module
 */

/**
 * Decodes `nBlocks` blocks that start at byte `srcOffset` of `src` into float32 values
 * starting at index `dstOffset` of `dst`.
 */
export type DequantKernel = (
  src: Uint8Array,
  srcOffset: number,
  nBlocks: number,
  dst: Float32Array,
  dstOffset: number,
) => void;

/**
 * Encodes `nBlocks` blocks of float32 values starting at index `srcOffset` of `src` into
 * bytes starting at `dstOffset` of `dst`.
 */
export type QuantKernel = (
  src: Float32Array,
  srcOffset: number,
  nBlocks: number,
  dst: Uint8Array,
  dstOffset: number,
) => void;

/** Float32 rounding of a double: every step of ggml's float arithmetic goes through it. */
export const f32: (x: number) => number = Math.fround;

/** Writes binary16 bits little-endian at `o`. */
export function putU16(dst: Uint8Array, o: number, v: number): void {
  dst[o] = v & 0xff;
  dst[o + 1] = (v >>> 8) & 0xff;
}
