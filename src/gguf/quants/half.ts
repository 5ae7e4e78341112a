/**
 * Scalar conversions between float32 and the 16-bit float formats: IEEE binary16 (F16) and
 * bfloat16 (BF16), with the semantics of ggml's reference conversions. F16 -> F32 goes
 * through a 65536-entry table (F16_BITS / F16_F32), which the dequantizers use directly.
 *
 * @module
 */

/** float32 bit patterns of all 65536 binary16 values, indexed by the binary16 bits. */
export const F16_BITS: Uint32Array = new Uint32Array(65536);
/** The same table seen as float32 values. */
export const F16_F32: Float32Array = new Float32Array(F16_BITS.buffer);

for (let h = 0; h < 65536; h++) {
  const sign = (h & 0x8000) << 16;
  const exp = (h >> 10) & 0x1f;
  let mant = h & 0x3ff;
  let bits: number;
  if (exp === 0x1f) {
    bits = sign | 0x7f800000 | (mant << 13);
  } else if (exp !== 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant === 0) {
    bits = sign;
  } else {
    // Subnormal binary16: renormalise into a normal float32.
    let e = 113;
    while ((mant & 0x400) === 0) {
      mant <<= 1;
      e--;
    }
    bits = sign | (e << 23) | ((mant & 0x3ff) << 13);
  }
  F16_BITS[h] = bits;
}

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** float32 bit pattern of a JavaScript number (rounded to float32 first). */
export function f32Bits(f: number): number {
  scratchF32[0] = f;
  return scratchU32[0];
}

/** The float32 value with the given bit pattern. */
export function bitsToF32(bits: number): number {
  scratchU32[0] = bits;
  return scratchF32[0];
}

/**
 * binary16 bits of a float32 given by its bits: round to nearest, ties to even; overflow
 * gives infinity; NaN stays NaN (sign and the top mantissa bits kept, quiet bit set).
 */
export function f32BitsToF16(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const abs = bits & 0x7fffffff;
  if (abs >= 0x7f800000) {
    return abs === 0x7f800000 ? sign | 0x7c00 : sign | 0x7e00 | ((abs >>> 13) & 0x3ff);
  }
  if (abs >= 0x477ff000) return sign | 0x7c00; // >= 65520 rounds to infinity
  if (abs >= 0x38800000) {
    // Normal binary16: rebias the exponent, round away the low 13 mantissa bits.
    const m = abs - 0x38000000;
    return sign | ((m + 0xfff + ((m >>> 13) & 1)) >>> 13);
  }
  if (abs <= 0x33000000) return sign; // <= 2^-25: rounds (ties to even) to zero
  // Subnormal binary16: value = mant * 2^(e - 150), unit 2^-24.
  const e = abs >>> 23;
  const mant = (abs & 0x7fffff) | 0x800000;
  const shift = 126 - e;
  let q = mant >>> shift;
  const rem = mant & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rem > half || (rem === half && (q & 1) !== 0)) q++;
  return sign | q;
}

/**
 * bfloat16 bits of a float32 given by its bits, as ggml_compute_fp32_to_bf16: round to
 * nearest even (overflow gives infinity, subnormals kept), NaN forced quiet.
 */
export function f32BitsToBf16(bits: number): number {
  const u = bits >>> 0;
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) | 64) & 0xffff;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** binary16 bits (0..65535) to its float32 value; exact for every input, NaN stays NaN. */
export function f16ToF32(h: number): number {
  return F16_F32[h & 0xffff];
}

/**
 * Number to binary16 bits. The number is first rounded to float32 (as a C `float` argument
 * would be), then to binary16 with round-to-nearest-even.
 */
export function f32ToF16(f: number): number {
  scratchF32[0] = f;
  return f32BitsToF16(scratchU32[0]);
}

/** bfloat16 bits (0..65535) to float32: the bits become the top half of a float32. */
export function bf16ToF32(b: number): number {
  scratchU32[0] = (b & 0xffff) << 16;
  return scratchF32[0];
}

/** Number to bfloat16 bits, via float32, rounding as ggml does (see f32BitsToBf16). */
export function f32ToBf16(f: number): number {
  scratchF32[0] = f;
  return f32BitsToBf16(scratchU32[0]);
}
