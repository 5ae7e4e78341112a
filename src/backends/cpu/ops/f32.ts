/**
 * Exact float32 arithmetic in JavaScript numbers, for reproducing llama.cpp's CPU kernels
 * operation by operation. A sum, difference, product, quotient or square root of float32
 * values computed in float64 and rounded once with Math.fround is the correctly rounded
 * float32 result (53 >= 2 * 24 + 2), so plain `fr(a + b)` is float32 addition. A fused
 * multiply-add is not: `fr(a * b + c)` rounds twice, so `fmaf` below finishes the job.
 *
 * @module
 */

/** Rounds to float32. */
export const fr: (x: number) => number = Math.fround;

/**
 * fmaf(a, b, c): a * b + c with a single rounding to float32, as the x86 FMA instructions
 * (_mm256_fmadd_ps, vfmadd231ss) compute it. a, b and c must be float32 values.
 *
 * a * b is exact in float64 (two 24-bit significands), so s = a * b + c is off from the
 * exact sum by less than half a float64 ulp. Rounding s to float32 then gives the right
 * answer except when s lands exactly on the midpoint between two float32 values while the
 * exact sum does not: there the error term of s (TwoSum) says which way to go.
 */
export function fmaf(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const r = fr(s);
  if (r === s) return r;
  // When s is the midpoint between r and its neighbour g, g = 2s - r is a float32.
  const g = 2 * s - r;
  if (fr(g) !== g) return r;
  const bb = s - p;
  const err = (p - (s - bb)) + (c - bb);
  if (err === 0) return r; // a true tie: fround already rounded it to even
  return (err > 0) === (g > r) ? g : r;
}

/**
 * Horizontal sum of 8 float32 lanes in the order of ggml's hsum_float_8 and tinyBLAS's
 * hsum(__m256): high half + low half, then lanes 0+2 and 1+3, then those two.
 */
export function hsum8(a: ArrayLike<number>, o = 0): number {
  const s0 = fr(a[o] + a[o + 4]);
  const s1 = fr(a[o + 1] + a[o + 5]);
  const s2 = fr(a[o + 2] + a[o + 6]);
  const s3 = fr(a[o + 3] + a[o + 7]);
  return fr(fr(s0 + s2) + fr(s1 + s3));
}

const hsumHalves = new Float64Array(8);

/**
 * Horizontal sum of 16 float32 lanes as _mm512_reduce_add_ps does with GCC: the two
 * 256-bit halves, then the two 128-bit halves, then lanes 0+2 / 1+3, then those two.
 */
export function hsum16(a: ArrayLike<number>, o = 0): number {
  const h = hsumHalves;
  for (let i = 0; i < 8; i++) h[i] = fr(a[o + i] + a[o + 8 + i]);
  return hsum8(h);
}

const d64 = new Float64Array(1);
const d32 = new Uint32Array(d64.buffer); // little-endian: [lo, hi]

/** Exact a * b as hi + lo (Dekker/Veltkamp; no overflow assumed). */
function twoProd(a: number, b: number): [number, number] {
  const p = a * b;
  const ca = 134217729 * a;
  const ah = ca - (ca - a);
  const al = a - ah;
  const cb = 134217729 * b;
  const bh = cb - (cb - b);
  const bl = b - bh;
  return [p, ((ah * bh - p) + ah * bl + al * bh) + al * bl];
}

/** x + y rounded to odd (the last significand bit is set when the sum is inexact). */
function addRoundOdd(x: number, y: number): number {
  const s = x + y;
  const bb = s - x;
  const err = (x - (s - bb)) + (y - bb);
  if (err === 0 || s === 0) return s;
  d64[0] = s;
  if (d32[0] & 1) return s;
  // Step one ulp towards the exact sum: away from zero when err has the sign of s.
  const away = (err > 0) === (s > 0);
  const lo = d32[0] + (away ? 1 : -1);
  d32[1] += lo > 0xffffffff ? 1 : lo < 0 ? -1 : 0;
  d32[0] = lo >>> 0;
  return d64[0];
}

/**
 * fma(a, b, c) in double precision with a single rounding (the double FMA that glibc's
 * __expf_fma and __sincosf_fma use), after Boldo and Melquiond: the exact product and sum
 * are split into error-free parts and the low parts are added with rounding to odd.
 */
export function fma64(a: number, b: number, c: number): number {
  const [uh, ul] = twoProd(a, b);
  const th = c + ul;
  let bb = th - c;
  const tl = (c - (th - bb)) + (ul - bb);
  const vh = uh + th;
  bb = vh - uh;
  const vl = (uh - (vh - bb)) + (th - bb);
  return vh + addRoundOdd(tl, vl);
}

const vdAcc = new Float64Array(64);
const vdRed = new Float64Array(16);

/**
 * The SIMD part of ggml_vec_dot_f32 / _f16 on AVX512 builds over the first `np` elements (a
 * multiple of 64; x, y float32 values): 4 accumulators of 16 lanes with FMA (accumulator j
 * takes elements i + 16j .. i + 16j + 15 of each 64-block), reduced as (a0 + a2) + (a1 + a3)
 * lane by lane, then hsum16. 0 when np is 0.
 */
export function vecDotHead(
  x: ArrayLike<number>,
  xo: number,
  y: ArrayLike<number>,
  yo: number,
  np: number,
): number {
  if (!np) return 0;
  vdAcc.fill(0);
  for (let i = 0; i < np; i += 64) {
    for (let l = 0; l < 64; l++) vdAcc[l] = fmaf(x[xo + i + l], y[yo + i + l], vdAcc[l]);
  }
  return vecDotReduce(vdAcc);
}

/** vecDotHead's reduction of its 64 lanes (lane i % 64 takes element i). */
export function vecDotReduce(acc: ArrayLike<number>): number {
  for (let l = 0; l < 16; l++) {
    vdRed[l] = fr(fr(acc[l] + acc[32 + l]) + fr(acc[16 + l] + acc[48 + l]));
  }
  return hsum16(vdRed);
}

/**
 * ggml_vec_dot_f16 on AVX512 builds (x, y float16 values as float32): vecDotHead over the
 * first n & ~63 elements, then the rest as float32 products summed in double; the result is
 * rounded to float32.
 */
export function vecDotF16(
  x: ArrayLike<number>,
  xo: number,
  y: ArrayLike<number>,
  yo: number,
  n: number,
): number {
  const np = n & ~63;
  let sum = vecDotHead(x, xo, y, yo, np);
  for (let i = np; i < n; i++) sum += fr(x[xo + i] * y[yo + i]);
  return fr(sum);
}
