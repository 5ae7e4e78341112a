/**
 * Tensor (de)quantization for every ggml type this project reads or writes: decoding is
 * bit for bit what ggml's dequantize_row_* (and gguf-py) produce; encoding follows ggml's
 * quantize_row_*_ref reference quantizers. Also the scalar F16/BF16 conversions.
 *
 * Dequantize: F32, F16, BF16, F64, I8, I16, I32, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_K, Q2_K,
 * Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS, MXFP4.
 * Quantize: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL,
 * IQ4_XS, MXFP4.
 *
 * @module
 */
import { UnsupportedTypeError } from "../../core/errors.ts";
import { GGMLType, isKnownType, typeTraits } from "../ggml_types.ts";
import { QuantError } from "./errors.ts";
import {
  dequantBF16,
  dequantF16,
  dequantF32,
  dequantF64,
  dequantI16,
  dequantI32,
  dequantI8,
  quantBF16,
  quantF16,
  quantF32,
} from "./float.ts";
import { dequantIQ4_NL, dequantIQ4_XS, quantIQ4_NL, quantIQ4_XS } from "./iq4.ts";
import type { DequantKernel, QuantKernel } from "./kernel.ts";
import { dequantMXFP4, quantMXFP4 } from "./mxfp4.ts";
import { dequantQ2_K } from "./q2_k.ts";
import { dequantQ3_K, quantQ3_K } from "./q3_k.ts";
import { dequantQ4_0, dequantQ4_1, quantQ4_0, quantQ4_1 } from "./q4_legacy.ts";
import { dequantQ4_K, quantQ4_K } from "./q4_k.ts";
import { dequantQ5_0, dequantQ5_1, quantQ5_0, quantQ5_1 } from "./q5_legacy.ts";
import { dequantQ5_K, quantQ5_K } from "./q5_k.ts";
import { dequantQ6_K, quantQ6_K } from "./q6_k.ts";
import { dequantQ8_0, dequantQ8_K, quantQ8_0, quantQ8_K } from "./q8.ts";

export { QuantError, type QuantErrorCode } from "./errors.ts";
export { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from "./half.ts";
export type { DequantKernel, QuantKernel } from "./kernel.ts";

const DEQUANT = new Map<number, DequantKernel>([
  [GGMLType.F32, dequantF32],
  [GGMLType.F16, dequantF16],
  [GGMLType.BF16, dequantBF16],
  [GGMLType.F64, dequantF64],
  [GGMLType.I8, dequantI8],
  [GGMLType.I16, dequantI16],
  [GGMLType.I32, dequantI32],
  [GGMLType.Q4_0, dequantQ4_0],
  [GGMLType.Q4_1, dequantQ4_1],
  [GGMLType.Q5_0, dequantQ5_0],
  [GGMLType.Q5_1, dequantQ5_1],
  [GGMLType.Q8_0, dequantQ8_0],
  [GGMLType.Q8_K, dequantQ8_K],
  [GGMLType.Q2_K, dequantQ2_K],
  [GGMLType.Q3_K, dequantQ3_K],
  [GGMLType.Q4_K, dequantQ4_K],
  [GGMLType.Q5_K, dequantQ5_K],
  [GGMLType.Q6_K, dequantQ6_K],
  [GGMLType.IQ4_NL, dequantIQ4_NL],
  [GGMLType.IQ4_XS, dequantIQ4_XS],
  [GGMLType.MXFP4, dequantMXFP4],
]);

const QUANT = new Map<number, QuantKernel>([
  [GGMLType.F32, quantF32],
  [GGMLType.F16, quantF16],
  [GGMLType.BF16, quantBF16],
  [GGMLType.Q4_0, quantQ4_0],
  [GGMLType.Q4_1, quantQ4_1],
  [GGMLType.Q5_0, quantQ5_0],
  [GGMLType.Q5_1, quantQ5_1],
  [GGMLType.Q8_0, quantQ8_0],
  [GGMLType.Q8_K, quantQ8_K],
  [GGMLType.Q3_K, quantQ3_K],
  [GGMLType.Q4_K, quantQ4_K],
  [GGMLType.Q5_K, quantQ5_K],
  [GGMLType.Q6_K, quantQ6_K],
  [GGMLType.IQ4_NL, quantIQ4_NL],
  [GGMLType.IQ4_XS, quantIQ4_XS],
  [GGMLType.MXFP4, quantMXFP4],
]);

/** True when `type` is a ggml type id that dequantize() can decode. */
export function canDequantize(type: number): boolean {
  return DEQUANT.has(type);
}

/** True when `type` is a ggml type id that quantize() can encode. */
export function canQuantize(type: number): boolean {
  return QUANT.has(type);
}

function kernelOf<K>(table: Map<number, K>, type: number, what: string): K {
  const k = table.get(type);
  if (k !== undefined) return k;
  const name = isKnownType(type) ? typeTraits(type).name : `id ${type}`;
  throw new UnsupportedTypeError(`no ${what} for ggml type ${name}`, { actual: type });
}

/** Number of blocks in `n` elements; throws QuantError unless n is a whole number of them. */
function blockCount(n: number, blockSize: number, name: string): number {
  if (!Number.isSafeInteger(n) || n < 0 || n % blockSize !== 0) {
    throw new QuantError(
      "QUANT_BAD_LENGTH",
      `${n} elements is not a whole number of ${name} blocks of ${blockSize}`,
      { expected: blockSize, actual: n },
    );
  }
  return n / blockSize;
}

/**
 * Decodes `n` elements (a whole number of blocks) of `type` from `src` starting at byte
 * `srcOffset` into `dst` starting at `dstOffset`. The hot path of the CPU backend: checks
 * bounds once per call and allocates nothing per block (the F32, F16, BF16 and Q8_0
 * kernels create one typed-array view per call).
 */
export function dequantizeRow(
  type: GGMLType,
  src: Uint8Array,
  srcOffset: number,
  n: number,
  dst: Float32Array,
  dstOffset = 0,
): void {
  const kernel = kernelOf(DEQUANT, type, "dequantizer");
  const t = typeTraits(type);
  const nb = blockCount(n, t.blockSize, t.name);
  const bytes = nb * t.typeSize;
  if (!Number.isSafeInteger(srcOffset) || srcOffset < 0 || srcOffset + bytes > src.length) {
    throw new QuantError(
      "QUANT_INPUT_TOO_SHORT",
      `${n} ${t.name} elements need ${bytes} bytes at offset ${srcOffset}, source has ${src.length}`,
      { expected: srcOffset + bytes, actual: src.length, offset: srcOffset, bytes },
    );
  }
  if (!Number.isSafeInteger(dstOffset) || dstOffset < 0 || dstOffset + n > dst.length) {
    throw new QuantError(
      "QUANT_OUTPUT_TOO_SHORT",
      `destination of ${dst.length} floats cannot take ${n} at offset ${dstOffset}`,
      { expected: dstOffset + n, actual: dst.length, offset: dstOffset },
    );
  }
  if (nb > 0) kernel(src, srcOffset, nb, dst, dstOffset);
}

/**
 * Decodes `nElements` elements of `type` held in `src` (the blocks, from byte 0) to
 * float32, into `dst` when given (it must hold nElements) or a new array. Throws
 * UnsupportedTypeError for a type without a dequantizer and QuantError when `src` is
 * shorter than the blocks or nElements is not a whole number of blocks.
 */
export function dequantize(
  type: GGMLType,
  src: Uint8Array,
  nElements: number,
  dst?: Float32Array,
): Float32Array {
  kernelOf(DEQUANT, type, "dequantizer");
  const t = typeTraits(type);
  const nb = blockCount(nElements, t.blockSize, t.name);
  if (nb * t.typeSize > src.length) {
    throw new QuantError(
      "QUANT_INPUT_TOO_SHORT",
      `${nElements} ${t.name} elements need ${nb * t.typeSize} bytes, source has ${src.length}`,
      { expected: nb * t.typeSize, actual: src.length, bytes: nb * t.typeSize },
    );
  }
  const out = dst ?? new Float32Array(nElements);
  dequantizeRow(type, src, 0, nElements, out, 0);
  return out;
}

/**
 * Encodes float32 values as `type` (src.length must be a whole number of blocks, else
 * QuantError QUANT_BAD_LENGTH). Follows ggml's reference quantizers; throws
 * UnsupportedTypeError for a type without a quantizer.
 */
export function quantize(type: GGMLType, src: Float32Array): Uint8Array {
  const kernel = kernelOf(QUANT, type, "quantizer");
  const t = typeTraits(type);
  const nb = blockCount(src.length, t.blockSize, t.name);
  const out = new Uint8Array(nb * t.typeSize);
  if (nb > 0) kernel(src, 0, nb, out, 0);
  return out;
}
