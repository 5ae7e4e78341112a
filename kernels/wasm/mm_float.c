// mm_float.c: matrix products of F32, F16 and BF16 weights with float32 activation rows.
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

RF_INLINE void tile(const int type, const int nt, const rf_mm_args* a, int r0, int r1, int t0) {
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
