/**
 * Element-wise CPU ops: residual add, SwiGLU, RMSNorm, last-row selection.
 *
 * @module
 */
import { fmaf, fr } from "./f32.ts";
import { expf } from "./libm.ts";

/** out = a + b (same length). */
export function add(a: Float32Array, b: Float32Array, out: Float32Array): void {
  for (let i = 0; i < out.length; i++) out[i] = a[i] + b[i];
}

/**
 * out = silu(gate) * up, silu(x) = x / (1 + e^-x), as ggml_vec_swiglu_f32 computes it on
 * AVX512 builds: per row, whole groups of 16 use ggml_v_silu (the vector expf below), the
 * remaining columns the scalar x / (1 + expf(-x)) with glibc's expf; every step float32.
 */
export function swiglu(
  gate: Float32Array,
  up: Float32Array,
  out: Float32Array,
  cols: number = out.length,
): void {
  const vec = cols & ~15;
  for (let i = 0; i < out.length; i++) {
    const g = gate[i];
    const e = i % cols < vec ? vExpf(-g) : expf(-g);
    out[i] = fr(fr(g / fr(1 + e)) * up[i]);
  }
}

/** A float32 constant written as C's hex float 0x1.<frac>p<exp>. */
const hexf = (frac: string, exp: number) =>
  fr((1 + parseInt(frac, 16) / 16 ** frac.length) * 2 ** exp);
const VEXP_LOG2E = hexf("715476", 0);
const VEXP_LN2_HI = hexf("62e4", -1);
const VEXP_LN2_LO = hexf("7f7d1c", -20);
const VEXP_P = [
  hexf("ffffec", -1),
  hexf("fffdb6", -2),
  hexf("555e66", -3),
  hexf("573e2e", -5),
  hexf("0e4020", -7),
];

/**
 * ggml_v_expf for one lane (the AVX512/AVX2 vector expf of ggml's vec.h): n = round(x / ln 2)
 * with the 1.5 * 2^23 trick, b = x - n * ln2 in two FMA steps, a degree-5 polynomial in FMAs,
 * scaled by 2^n; |n| > 192 saturates to 0 or infinity.
 */
export function vExpf(x: number): number {
  const r = 12582912; // 0x1.8p23f
  const z = fmaf(x, VEXP_LOG2E, r);
  const n = fr(z - r);
  const b = fmaf(-n, VEXP_LN2_LO, fmaf(-n, VEXP_LN2_HI, x));
  const u = fr(b * b);
  const j = fmaf(
    fmaf(fmaf(VEXP_P[4], b, VEXP_P[3]), u, fmaf(VEXP_P[2], b, VEXP_P[1])),
    u,
    fmaf(VEXP_P[0], b, 1),
  );
  if (Math.abs(n) > 192) return n <= 0 ? 0 : Infinity;
  return fr(j * 2 ** n);
}

/**
 * Row-wise RMSNorm times weight, in llama.cpp's float32 steps (ggml_compute_forward_rms_norm_f32,
 * fused or not with the following MUL): each square x*x is rounded to float32 and summed in
 * double; mean = float(sum / cols); scale = 1 / sqrtf(mean + eps) in float32 with eps as a
 * float32; out = (x * scale) * w, two float32 products.
 */
export function rmsNorm(
  x: Float32Array,
  w: Float32Array,
  rows: number,
  cols: number,
  eps: number,
  out: Float32Array,
): void {
  const eps32 = fr(eps);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let ss = 0;
    for (let i = 0; i < cols; i++) ss += fr(x[o + i] * x[o + i]);
    const mean = fr(ss / cols);
    const scale = fr(1 / fr(Math.sqrt(fr(mean + eps32))));
    for (let i = 0; i < cols; i++) out[o + i] = fr(x[o + i] * scale) * w[i];
  }
}

/** Copies the last row of a [rows, cols] matrix. */
export function lastRow(x: Float32Array, rows: number, cols: number, out: Float32Array): void {
  out.set(x.subarray((rows - 1) * cols, rows * cols));
}
