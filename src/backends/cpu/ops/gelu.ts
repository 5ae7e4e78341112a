/**
 * GeGLU in llama.cpp's CPU numerics: ggml's tanh GELU goes through a table of 65536 half
 * values (GGML_GELU_FP16): gelu(x) = half(gelu_f32(half(x))) for -10 < x < 10, 0 below, x
 * above; then times the up value in float32 (ggml_vec_geglu_f32).
 *
 * @module
 */
import { F16_F32, f32ToF16 } from "../../../gguf/quants/half.ts";
import { fmaf, fr } from "./f32.ts";

const GELU_COEF_A = fr(0.044715);
const SQRT_2_OVER_PI = fr(0.79788456080286535587989211986876);

/**
 * ggml_gelu_f32 in float32 steps: 0.5f*x*(1.0f + tanhf(SQRT_2_OVER_PI*x*(1.0f +
 * GELU_COEF_A*x*x))), with GCC's contraction of the inner 1.0f + (a*x)*x into one FMA.
 */
export function geluF32(x: number): number {
  const inner = fmaf(fr(GELU_COEF_A * x), x, 1);
  const t = fr(Math.tanh(fr(fr(SQRT_2_OVER_PI * x) * inner)));
  return fr(fr(0.5 * x) * fr(1 + t));
}

let table: Float32Array | undefined;

/** ggml_table_gelu_f16, as float32 values indexed by half bits. */
export function geluTable(): Float32Array {
  if (!table) {
    table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) table[h] = F16_F32[f32ToF16(geluF32(F16_F32[h]))];
  }
  return table;
}

/** out[i] = gelu(gate[i]) * up[i] over `n` values, as ggml_vec_geglu_f32. */
export function geglu(gate: Float32Array, up: Float32Array, out: Float32Array, n: number): void {
  const t = geluTable();
  for (let i = 0; i < n; i++) {
    const x = gate[i];
    out[i] = x <= -10 ? 0 : fr((x >= 10 ? x : t[f32ToF16(x)]) * up[i]);
  }
}

/** out[i] = gelu(x[i]) over `n` values, as ggml_vec_gelu_f32 (GGML_GELU_FP16). */
export function gelu(x: Float32Array, out: Float32Array, n: number): void {
  const t = geluTable();
  for (let i = 0; i < n; i++) {
    const v = x[i];
    out[i] = v <= -10 ? 0 : v >= 10 ? v : t[f32ToF16(v)];
  }
}
