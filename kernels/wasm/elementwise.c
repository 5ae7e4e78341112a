// elementwise.c: SwiGLU and RMSNorm in llama.cpp's float32 steps (the same as
// src/backends/cpu/ops/elementwise.ts, which documents them).
#include "rf_libm.h"
#include "rf_wasm.h"

// 2^n * j for integral n in [-192, 192], rounded once (through float64, where it is exact).
RF_INLINE v128_t scale_pow2(v128_t j, v128_t n) {
  const v128_t ni = wasm_i32x4_trunc_sat_f32x4(n);
  // 2^n as doubles: exponent field n + 1023
  const v128_t e = wasm_i32x4_add(ni, wasm_i32x4_splat(1023));
  const v128_t p0 = wasm_i64x2_shl(wasm_i64x2_extend_low_i32x4(e), 52);
  const v128_t p1 = wasm_i64x2_shl(wasm_i64x2_extend_high_i32x4(e), 52);
  const v128_t j2 = wasm_i32x4_shuffle(j, j, 2, 3, 2, 3);
  const v128_t lo = wasm_f64x2_mul(wasm_f64x2_promote_low_f32x4(j), p0);
  const v128_t hi = wasm_f64x2_mul(wasm_f64x2_promote_low_f32x4(j2), p1);
  return wasm_i32x4_shuffle(wasm_f32x4_demote_f64x2_zero(lo), wasm_f32x4_demote_f64x2_zero(hi),
                            0, 1, 4, 5);
}

// ggml_v_expf (ggml-cpu/vec.h, AVX512 / AVX2 form) on four lanes.
RF_INLINE v128_t v_expf(v128_t x) {
  const v128_t r = wasm_f32x4_splat(0x1.8p23f);
  const v128_t z = rf_fma(x, wasm_f32x4_splat(0x1.715476p+0f), r);
  const v128_t n = wasm_f32x4_sub(z, r);
  const v128_t nn = wasm_f32x4_neg(n);
  const v128_t b =
      rf_fma(nn, wasm_f32x4_splat(0x1.7f7d1cp-20f), rf_fma(nn, wasm_f32x4_splat(0x1.62e4p-1f), x));
  const v128_t u = wasm_f32x4_mul(b, b);
  const v128_t j = rf_fma(
      rf_fma(rf_fma(wasm_f32x4_splat(0x1.0e4020p-7f), b, wasm_f32x4_splat(0x1.573e2ep-5f)), u,
             rf_fma(wasm_f32x4_splat(0x1.555e66p-3f), b, wasm_f32x4_splat(0x1.fffdb6p-2f))),
      u, rf_fma(wasm_f32x4_splat(0x1.ffffecp-1f), b, wasm_f32x4_splat(1.f)));
  const v128_t big = wasm_f32x4_gt(wasm_f32x4_abs(n), wasm_f32x4_splat(192.f));
  if (!wasm_v128_any_true(big)) return scale_pow2(j, n);
  const v128_t nc = wasm_f32x4_min(wasm_f32x4_max(n, wasm_f32x4_splat(-192.f)),
                                   wasm_f32x4_splat(192.f));
  const v128_t alt = wasm_v128_bitselect(wasm_f32x4_splat(0.f), wasm_f32x4_splat(__builtin_inff()),
                                         wasm_f32x4_le(n, wasm_f32x4_splat(0.f)));
  return wasm_v128_bitselect(alt, scale_pow2(j, nc), big);
}

// out = silu(gate) * up over rows of `cols`: ggml_vec_swiglu_f32 of AVX512 builds (groups
// of 16 through the vector expf, the rest through glibc's expf).
void rf_swiglu(const float* gate, const float* up, float* out, int rows, int cols) {
  const int vec = cols & ~15;
  const v128_t one = wasm_f32x4_splat(1.f);
  for (int r = 0; r < rows; r++) {
    const float* g = gate + (int64_t)r * cols;
    const float* u = up + (int64_t)r * cols;
    float* o = out + (int64_t)r * cols;
    for (int i = 0; i < vec; i += 4) {
      const v128_t x = wasm_v128_load(g + i);
      const v128_t e = v_expf(wasm_f32x4_neg(x));
      wasm_v128_store(o + i, wasm_f32x4_mul(wasm_f32x4_div(x, wasm_f32x4_add(one, e)),
                                            wasm_v128_load(u + i)));
    }
    for (int i = vec; i < cols; i++) o[i] = g[i] / (1.f + rf_expf(-g[i])) * u[i];
  }
}

// Row-wise RMSNorm times weight: squares rounded to float and summed in double, mean and
// scale in float, out = (x * scale) * w.
void rf_rms_norm(const float* x, const float* w, float* out, int rows, int cols, float eps) {
  for (int r = 0; r < rows; r++) {
    const float* xr = x + (int64_t)r * cols;
    float* o = out + (int64_t)r * cols;
    double ss = 0.0;
    for (int i = 0; i < cols; i++) ss += (double)(xr[i] * xr[i]);
    const float mean = (float)(ss / cols);
    const float scale = 1.f / __builtin_sqrtf(mean + eps);
    const v128_t s4 = wasm_f32x4_splat(scale);
    int i = 0;
    for (; i + 4 <= cols; i += 4) {
      wasm_v128_store(o + i, wasm_f32x4_mul(wasm_f32x4_mul(wasm_v128_load(xr + i), s4),
                                            wasm_v128_load(w + i)));
    }
    for (; i < cols; i++) o[i] = xr[i] * scale * w[i];
  }
}

// RoPE rotation of rows [t][n_head * head_dim] with per-row tables cos/sin [t][n_rot / 2]
// (ops/rope.ts ropeAngles): pair (x0, x1) -> (fma(x0, c, -(x1 * s)), fma(x0, s, x1 * c)), as
// GCC compiled ggml's rotate_pairs. Pairs are (2i, 2i + 1) or, for NeoX, (i, i + n_rot / 2);
// dimensions from n_rot on are copied. out may equal x. `neox`: the RoPE mode code of the op
// schema (nonzero, RF_ROPE_MODE_NEOX = 2, for NeoX; 0 normal).
RF_EXPORT(rf_rope)
void rf_rope(const float* x, float* out, int rows, int n_head, int head_dim, int n_rot, int neox,
             const float* cos, const float* sin) {
  const int half = n_rot / 2;
  for (int t = 0; t < rows; t++) {
    const float* c = cos + (int64_t)t * half;
    const float* s = sin + (int64_t)t * half;
    for (int h = 0; h < n_head; h++) {
      const float* xr = x + ((int64_t)t * n_head + h) * head_dim;
      float* o = out + ((int64_t)t * n_head + h) * head_dim;
      int i = 0;
      for (; i + 4 <= half; i += 4) {
        const v128_t c4 = wasm_v128_load(c + i), s4 = wasm_v128_load(s + i);
        v128_t x0, x1;
        if (neox) {
          x0 = wasm_v128_load(xr + i);
          x1 = wasm_v128_load(xr + half + i);
        } else {
          const v128_t a = wasm_v128_load(xr + 2 * i), b = wasm_v128_load(xr + 2 * i + 4);
          x0 = wasm_i32x4_shuffle(a, b, 0, 2, 4, 6);
          x1 = wasm_i32x4_shuffle(a, b, 1, 3, 5, 7);
        }
        const v128_t y0 = rf_fma(x0, c4, wasm_f32x4_neg(wasm_f32x4_mul(x1, s4)));
        const v128_t y1 = rf_fma(x0, s4, wasm_f32x4_mul(x1, c4));
        if (neox) {
          wasm_v128_store(o + i, y0);
          wasm_v128_store(o + half + i, y1);
        } else {
          wasm_v128_store(o + 2 * i, wasm_i32x4_shuffle(y0, y1, 0, 4, 1, 5));
          wasm_v128_store(o + 2 * i + 4, wasm_i32x4_shuffle(y0, y1, 2, 6, 3, 7));
        }
      }
      for (; i < half; i++) {
        const int ia = neox ? i : 2 * i, ib = neox ? i + half : 2 * i + 1;
        const float x0 = xr[ia], x1 = xr[ib];
        const v128_t r = rf_fma(wasm_f32x4_make(x0, x0, 0.f, 0.f), wasm_f32x4_make(c[i], s[i], 0.f, 0.f),
                                wasm_f32x4_make(-(x1 * s[i]), x1 * c[i], 0.f, 0.f));
        o[ia] = wasm_f32x4_extract_lane(r, 0);
        o[ib] = wasm_f32x4_extract_lane(r, 1);
      }
      for (int d = n_rot; d < head_dim; d++) o[d] = xr[d];
    }
  }
}

void rf_rows_range(const rf_rows_args* a, int r0, int r1) {
  const int64_t o = (int64_t)r0 * a->cols;
  const float* x = (const float*)(uintptr_t)a->a + o;
  float* out = (float*)(uintptr_t)a->out + o;
  if (a->kind == 1) rf_swiglu(x, (const float*)(uintptr_t)a->b + o, out, r1 - r0, a->cols);
  else rf_rms_norm(x, (const float*)(uintptr_t)a->w, out, r1 - r0, a->cols, a->eps);
}
