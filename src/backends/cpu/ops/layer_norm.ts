/**
 * LayerNorm as ggml_norm followed by ggml_mul (weight) and ggml_add (bias): the row sum in
 * double, mean and variance in float32, scale 1/sqrtf(variance + eps). Not bit-identical to
 * ggml's SIMD centered-variance loop (ggml_vec_cvar_f32), which sums in its own lane order.
 *
 * @module
 */
import { fr } from "./f32.ts";

/** out = layer_norm(x) * w (+ b), x and out [rows, cols]. */
export function layerNorm(
  x: Float32Array,
  w: Float32Array,
  b: Float32Array | undefined,
  rows: number,
  cols: number,
  eps: number,
  out: Float32Array,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let sum = 0;
    for (let i = 0; i < cols; i++) sum += x[o + i];
    const mean = fr(fr(sum) / cols);
    let sq = 0;
    for (let i = 0; i < cols; i++) {
      const d = fr(x[o + i] - mean);
      out[o + i] = d;
      sq += d * d;
    }
    const variance = fr(sq / cols);
    const scale = fr(1 / fr(Math.sqrt(fr(variance + fr(eps)))));
    for (let i = 0; i < cols; i++) {
      const y = fr(fr(out[o + i] * scale) * w[i]);
      out[o + i] = b ? fr(y + b[i]) : y;
    }
  }
}
