/**
 * Element-wise CPU ops: residual add, SwiGLU, RMSNorm, last-row selection.
 *
 * @module
 */

/** out = a + b (same length). */
export function add(a: Float32Array, b: Float32Array, out: Float32Array): void {
  for (let i = 0; i < out.length; i++) out[i] = a[i] + b[i];
}

/** out = silu(gate) * up, silu(x) = x / (1 + e^-x). */
export function swiglu(gate: Float32Array, up: Float32Array, out: Float32Array): void {
  for (let i = 0; i < out.length; i++) {
    const g = gate[i];
    out[i] = (g / (1 + Math.exp(-g))) * up[i];
  }
}

/** Row-wise RMSNorm times weight: out[r] = x[r] / sqrt(mean(x[r]^2) + eps) * w. */
export function rmsNorm(
  x: Float32Array,
  w: Float32Array,
  rows: number,
  cols: number,
  eps: number,
  out: Float32Array,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let ss = 0;
    for (let i = 0; i < cols; i++) ss += x[o + i] * x[o + i];
    const scale = 1 / Math.sqrt(ss / cols + eps);
    for (let i = 0; i < cols; i++) out[o + i] = x[o + i] * scale * w[i];
  }
}

/** Copies the last row of a [rows, cols] matrix. */
export function lastRow(x: Float32Array, rows: number, cols: number, out: Float32Array): void {
  out.set(x.subarray((rows - 1) * cols, rows * cols));
}
