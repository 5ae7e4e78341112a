// mm_float.c: matrix products of F32, F16 and BF16 weights with float32 activation rows
// (F16 / BF16: activations already rounded to that format).
// F32 and F16 follow llama.cpp's x86 AVX512 build (the same as ops/matmul.ts):
// - several rows, k % 16 == 0 and n % 4 == 0 (llamafile's tinyBLAS): per output 16 lanes,
//   acc = fma(w, x, acc) over chunks of 16, then rf_hsum16;
// - otherwise (ggml_vec_dot_f32 / _f16): over the first k & ~63 values 4 x 16 lanes with FMA,
//   (a0 + a2) + (a1 + a3) lane by lane, rf_hsum16; then the remaining products are added in
//   float (F32; see dot_vd for which are fused) or rounded to float and added in double (F16).
// BF16 keeps an 8-lane float32 order of its own.
#include "rf_wasm.h"

// Loads 4 weights starting at element k as floats (F32 or F16).
RF_INLINE v128_t load4(const int type, const uint8_t* w, int k) {
  if (type == RF_F32) return wasm_v128_load(w + 4 * k);
  return rf_h2f_x4(wasm_u32x4_load16x4(w + 2 * k));
}

// tinyBLAS order, one output.
RF_INLINE float dot_tb16(const int type, const uint8_t* w, const float* x, int k) {
  v128_t acc[4];
  for (int q = 0; q < 4; q++) acc[q] = wasm_f32x4_splat(0.f);
  for (int j = 0; j < k; j += 16) {
    for (int q = 0; q < 4; q++) {
      acc[q] = rf_fma(load4(type, w, j + 4 * q), wasm_v128_load(x + j + 4 * q), acc[q]);
    }
  }
  return rf_hsum16(acc);
}

// ggml_vec_dot_f32 / _f16 order, one output.
RF_INLINE float dot_vd(const int type, const uint8_t* w, const float* x, int k) {
  const int np = k & ~63;
  v128_t acc[16];
  for (int q = 0; q < 16; q++) acc[q] = wasm_f32x4_splat(0.f);
  for (int j = 0; j < np; j += 64) {
    for (int q = 0; q < 16; q++) {
      acc[q] = rf_fma(load4(type, w, j + 4 * q), wasm_v128_load(x + j + 4 * q), acc[q]);
    }
  }
  const float h = rf_vec_dot_reduce(acc);
  if (type == RF_F32) {
    // GCC vectorized the remainder loop (sum += x * y) as chunks of 16, then one of 8, with
    // the products rounded, and fused the last few (< 8) into scalar FMAs
    float sum = h;
    int j = np, rest = k - np;
    if (rest >= 16) {
      for (const int e = np + (rest & ~15); j < e; j++) sum += rf_as_float(rf_ld32(w + 4 * j)) * x[j];
      rest = k - j;
    }
    if (rest >= 8) {
      for (const int e = j + 8; j < e; j++) sum += rf_as_float(rf_ld32(w + 4 * j)) * x[j];
    }
    for (; j < k; j++) sum = rf_fmaf(rf_as_float(rf_ld32(w + 4 * j)), x[j], sum);
    return sum;
  }
  double sum = h;
  for (int j = np; j < k; j++) sum += (double)(rf_h2f(rf_ld16(w + 2 * j)) * x[j]);
  return (float)sum;
}

// F32 / F16: rows [r0, r1) against every activation row, in llama.cpp's order.
RF_INLINE void rows_ggml(const int type, const rf_mm_args* a, int r0, int r1) {
  const int tb = a->t >= 2 && a->k % 16 == 0 && a->n % 4 == 0;
  const float* bias = (const float*)(uintptr_t)a->bias;
  float* y = (float*)(uintptr_t)a->y;
  for (int n = r0; n < r1; n++) {
    const uint8_t* w = (const uint8_t*)(uintptr_t)(a->w + (uint32_t)n * (uint32_t)a->row_bytes);
    for (int t = 0; t < a->t; t++) {
      const float* x = (const float*)(uintptr_t)(a->x + (uint32_t)t * (uint32_t)a->x_stride);
      const float v = tb ? dot_tb16(type, w, x, a->k) : dot_vd(type, w, x, a->k);
      y[t * a->ldy + n] = bias ? v + bias[n] : v;
    }
  }
}

// BF16: rows [r0, r1) against activation rows [t0, t0 + nt): 8 lanes (two vectors) of
// products summed in order, the elements past the last multiple of 8 summed apart.
RF_INLINE void tile_bf16(const int type, const int nt, const rf_mm_args* a, int r0, int r1,
                         int t0) {
  (void)type;
  const int k = a->k;
  const float* xr[4];
  for (int i = 0; i < nt; i++) {
    xr[i] = (const float*)(uintptr_t)(a->x + (uint32_t)(t0 + i) * (uint32_t)a->x_stride);
  }
  const float* bias = (const float*)(uintptr_t)a->bias;
  float* y = (float*)(uintptr_t)a->y;
  for (int n = r0; n < r1; n++) {
    const uint8_t* w = (const uint8_t*)(uintptr_t)(a->w + (uint32_t)n * (uint32_t)a->row_bytes);
    v128_t acc0[4], acc1[4];
    for (int i = 0; i < nt; i++) acc0[i] = acc1[i] = wasm_f32x4_splat(0.f);
    int j = 0;
    for (; j + 8 <= k; j += 8) {
      const v128_t h = wasm_v128_load(w + 2 * j);
      const v128_t wa = wasm_i32x4_shl(wasm_u32x4_extend_low_u16x8(h), 16);
      const v128_t wb = wasm_i32x4_shl(wasm_u32x4_extend_high_u16x8(h), 16);
      for (int i = 0; i < nt; i++) {
        acc0[i] = wasm_f32x4_add(acc0[i], wasm_f32x4_mul(wa, wasm_v128_load(xr[i] + j)));
        acc1[i] = wasm_f32x4_add(acc1[i], wasm_f32x4_mul(wb, wasm_v128_load(xr[i] + j + 4)));
      }
    }
    float tail[4] = {0.f, 0.f, 0.f, 0.f};
    for (; j < k; j++) {
      const float wj = rf_as_float((uint32_t)rf_ld16(w + 2 * j) << 16);
      for (int i = 0; i < nt; i++) tail[i] += wj * xr[i][j];
    }
    const float bn = bias ? bias[n] : 0.f;
    for (int i = 0; i < nt; i++) {
      y[(t0 + i) * a->ldy + n] = rf_hsum_f32(wasm_f32x4_add(acc0[i], acc1[i])) + tail[i] + bn;
    }
  }
}

RF_TILE_FUNCS(RF_BF16, mm_bf16, tile_bf16)

__attribute__((noinline)) static void mm_f32(const rf_mm_args* a, int r0, int r1) { rows_ggml(RF_F32, a, r0, r1); }
__attribute__((noinline)) static void mm_f16(const rf_mm_args* a, int r0, int r1) { rows_ggml(RF_F16, a, r0, r1); }

void rf_mm_float(const rf_mm_args* a, int r0, int r1) {
  switch (a->type) {
    case RF_F32: mm_f32(a, r0, r1); break;
    case RF_F16: mm_f16(a, r0, r1); break;
    case RF_BF16: rf_tile_passes(mm_bf16_tiles, a, r0, r1, 0); break;
    default: break;
  }
}
