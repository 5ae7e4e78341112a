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

// Loads 8 weights starting at element k of row w as two float vectors.
RF_INLINE void load8(const int type, const uint8_t* w, int k, v128_t* a, v128_t* b) {
  if (type == RF_F32) {
    *a = wasm_v128_load(w + 4 * k);
    *b = wasm_v128_load(w + 4 * k + 16);
    return;
  }
  const v128_t h = wasm_v128_load(w + 2 * k);
  const v128_t lo = wasm_u32x4_extend_low_u16x8(h);
  const v128_t hi = wasm_u32x4_extend_high_u16x8(h);
  if (type == RF_F16) {
    *a = rf_h2f_x4(lo);
    *b = rf_h2f_x4(hi);
  } else {
    *a = wasm_i32x4_shl(lo, 16);
    *b = wasm_i32x4_shl(hi, 16);
  }
}

RF_INLINE float load1(const int type, const uint8_t* w, int k) {
  if (type == RF_F32) return rf_as_float(rf_ld32(w + 4 * k));
  const uint16_t h = rf_ld16(w + 2 * k);
  return type == RF_F16 ? rf_h2f(h) : rf_as_float((uint32_t)h << 16);
}

// Sum of 16 float lanes as _mm512_reduce_add_ps compiled by GCC: halves added (8 lanes), then
// rf_hsum8.
RF_INLINE float hsum16(const v128_t* v) {
  return rf_hsum8(wasm_f32x4_add(v[2], v[0]), wasm_f32x4_add(v[3], v[1]));
}

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
  return hsum16(acc);
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
  v128_t r[4];
  for (int q = 0; q < 4; q++) {
    r[q] = wasm_f32x4_add(wasm_f32x4_add(acc[q], acc[8 + q]), wasm_f32x4_add(acc[4 + q], acc[12 + q]));
  }
  const float h = hsum16(r);
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
    for (; j < k; j++) {
      sum = wasm_f32x4_extract_lane(rf_fma(wasm_f32x4_splat(rf_as_float(rf_ld32(w + 4 * j))),
                                           wasm_f32x4_splat(x[j]), wasm_f32x4_splat(sum)),
                                    0);
    }
    return sum;
  }
  double sum = h;
  for (int j = np; j < k; j++) sum += (double)(rf_h2f(rf_ld16(w + 2 * j)) * x[j]);
  return (float)sum;
}

// F32 / F16: rows [r0, r1) against activation rows [t0, t0 + nt) in llama.cpp's order.
RF_INLINE void tile_ggml(const int type, const int nt, const rf_mm_args* a, int r0, int r1,
                         int t0) {
  const int tb = a->t >= 2 && a->k % 16 == 0 && a->n % 4 == 0;
  const float* bias = (const float*)(uintptr_t)a->bias;
  float* y = (float*)(uintptr_t)a->y;
  for (int n = r0; n < r1; n++) {
    const uint8_t* w = (const uint8_t*)(uintptr_t)(a->w + (uint32_t)n * (uint32_t)a->row_bytes);
    for (int i = 0; i < nt; i++) {
      const float* x = (const float*)(uintptr_t)(a->x + (uint32_t)(t0 + i) * (uint32_t)a->x_stride);
      const float v = tb ? dot_tb16(type, w, x, a->k) : dot_vd(type, w, x, a->k);
      y[(t0 + i) * a->ldy + n] = bias ? v + bias[n] : v;
    }
  }
}

RF_INLINE void tile(const int type, const int nt, const rf_mm_args* a, int r0, int r1, int t0) {
  if (type != RF_BF16) {
    tile_ggml(type, nt, a, r0, r1, t0);
    return;
  }
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
      v128_t wa, wb;
      load8(type, w, j, &wa, &wb);
      for (int i = 0; i < nt; i++) {
        acc0[i] = wasm_f32x4_add(acc0[i], wasm_f32x4_mul(wa, wasm_v128_load(xr[i] + j)));
        acc1[i] = wasm_f32x4_add(acc1[i], wasm_f32x4_mul(wb, wasm_v128_load(xr[i] + j + 4)));
      }
    }
    float tail[4] = {0.f, 0.f, 0.f, 0.f};
    for (; j < k; j++) {
      const float wj = load1(type, w, j);
      for (int i = 0; i < nt; i++) tail[i] += wj * xr[i][j];
    }
    const float bn = bias ? bias[n] : 0.f;
    for (int i = 0; i < nt; i++) {
      y[(t0 + i) * a->ldy + n] = rf_hsum_f32(wasm_f32x4_add(acc0[i], acc1[i])) + tail[i] + bn;
    }
  }
}

RF_INLINE void rows(const int type, const rf_mm_args* a, int r0, int r1) {
  int t0 = 0;
  for (; t0 + 4 <= a->t; t0 += 4) tile(type, 4, a, r0, r1, t0);
  switch (a->t - t0) {
    case 3: tile(type, 3, a, r0, r1, t0); break;
    case 2: tile(type, 2, a, r0, r1, t0); break;
    case 1: tile(type, 1, a, r0, r1, t0); break;
    default: break;
  }
}

__attribute__((noinline)) static void mm_f32(const rf_mm_args* a, int r0, int r1) { rows(RF_F32, a, r0, r1); }
__attribute__((noinline)) static void mm_f16(const rf_mm_args* a, int r0, int r1) { rows(RF_F16, a, r0, r1); }
__attribute__((noinline)) static void mm_bf16(const rf_mm_args* a, int r0, int r1) { rows(RF_BF16, a, r0, r1); }

void rf_mm_float(const rf_mm_args* a, int r0, int r1) {
  switch (a->type) {
    case RF_F32: mm_f32(a, r0, r1); break;
    case RF_F16: mm_f16(a, r0, r1); break;
    case RF_BF16: mm_bf16(a, r0, r1); break;
    default: break;
  }
}
