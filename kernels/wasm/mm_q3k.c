// mm_q3k.c: matrix products of Q3_K weights with act256 rows, in the float32 arithmetic of
// llama.cpp's ggml_vec_dot_q3_K_q8_K (x86 AVX2 / AVX512 builds): eight int32 lanes per
// output, lane L holding the scaled integer dot of elements 4L..4L+3 of every 32-element
// group of a super-block; each super-block adds acc_L = fma(dx * d, float(lane L), acc_L),
// and the output is rf_hsum8 of the eight float lanes. Weights are 3-bit codes (2 low bits
// in qs, the high bit in hmask; a clear high bit subtracts 4) with sixteen signed 6-bit scales.
#include "rf_wasm.h"

// Scale j (0..15) of the 12 scale bytes at s, minus 32.
RF_INLINE int scale_q3k(const uint8_t* s, int j) {
  const int lo = j < 8 ? s[j] & 0xf : s[j - 8] >> 4;
  return (lo | (((s[8 + (j & 3)] >> (2 * (j >> 2))) & 3) << 4)) - 32;
}

// Codes + 4 (0..7) of elements 16c..16c+15 of a super-block, as bytes in natural order:
// group g = c / 2 takes bits 2 * (g % 4) of qs[32 * (g / 4) + l] and bit g of hmask[l],
// l = 16 * (c % 2) + 0..15.
RF_INLINE v128_t codes_q3k(const uint8_t* b, int c) {
  const int g = c >> 1, h = c & 1;
  const v128_t q = wasm_v128_load(b + 32 + 32 * (g >> 2) + 16 * h);
  const v128_t hm = wasm_v128_load(b + 16 * h);
  const v128_t lo = wasm_v128_and(wasm_u16x8_shr(q, 2 * (g & 3)), wasm_i8x16_splat(3));
  const v128_t hi = wasm_v128_and(wasm_u16x8_shr(hm, g), wasm_i8x16_splat(1));
  return wasm_v128_or(lo, wasm_i16x8_shl(hi, 2));
}

// Lane dots (elements 4L..4L+3) of 16 codes u against activation elements 16c.., times sc.
RF_INLINE v128_t dot16_q3k(v128_t u, const rf_act256* xb, int c, int sc) {
#if RF_RELAXED
  // u is the unsigned 7-bit operand; the 4 of the code offset comes off through x . 1
  const v128_t x = wasm_v128_load(xb->q + 16 * c);
  const v128_t p = wasm_i16x8_sub(rf_relaxed_dot_i8x16_i7x16_s(x, u),
                                  wasm_i16x8_shl(rf_relaxed_dot_i8x16_i7x16_s(x, wasm_i8x16_splat(1)), 2));
  return wasm_i32x4_dot_i16x8(p, wasm_i16x8_splat((int16_t)sc));
#else
  // signed weights; lanes of the u16 view hold element 2j (low byte) and 2j + 1 (high)
  const v128_t w = wasm_i8x16_sub(u, wasm_i8x16_splat(4));
  const v128_t e = wasm_i16x8_shr(wasm_i16x8_shl(w, 8), 8);
  const v128_t o = wasm_i16x8_shr(w, 8);
  return wasm_i32x4_mul(rf_dot16(e, o, xb->q + 16 * c), wasm_i32x4_splat(sc));
#endif
}

// Rows [r0, r1) of W against activation rows [t0, t0 + nt), nt <= 4.
RF_INLINE void tile(const int type, const int nt, const rf_mm_args* a, int r0, int r1, int t0) {
  (void)type;
  const int nb = a->k / 256;
  const rf_act256* xr[4];
  for (int i = 0; i < nt; i++) {
    xr[i] = (const rf_act256*)(uintptr_t)(a->x + (uint32_t)(t0 + i) * (uint32_t)a->x_stride);
  }
  const float* bias = (const float*)(uintptr_t)a->bias;
  float* y = (float*)(uintptr_t)a->y;
  for (int n = r0; n < r1; n++) {
    const uint8_t* w = (const uint8_t*)(uintptr_t)(a->w + (uint32_t)n * (uint32_t)a->row_bytes);
    v128_t lo[4], hi[4];
    for (int i = 0; i < nt; i++) lo[i] = hi[i] = wasm_f32x4_splat(0.f);
    for (int bk = 0; bk < nb; bk++) {
      const uint8_t* b = w + bk * RF_BLOCK_BYTES_Q3_K;
      const float dw = rf_half(rf_ld16(b + 108));
      v128_t slo[4], shi[4];
      for (int i = 0; i < nt; i++) slo[i] = shi[i] = wasm_i32x4_splat(0);
      for (int c = 0; c < 16; c++) {
        const v128_t u = codes_q3k(b, c);
        const int sc = scale_q3k(b + 96, c);
        for (int i = 0; i < nt; i++) {
          const v128_t s = dot16_q3k(u, xr[i] + bk, c, sc);
          if (c & 1) shi[i] = wasm_i32x4_add(shi[i], s);
          else slo[i] = wasm_i32x4_add(slo[i], s);
        }
      }
      for (int i = 0; i < nt; i++) {
        const v128_t d = wasm_f32x4_splat(xr[i][bk].d * dw);
        lo[i] = rf_fma(d, wasm_f32x4_convert_i32x4(slo[i]), lo[i]);
        hi[i] = rf_fma(d, wasm_f32x4_convert_i32x4(shi[i]), hi[i]);
      }
    }
    for (int i = 0; i < nt; i++) {
      const float v = rf_hsum8(lo[i], hi[i]);
      y[(t0 + i) * a->ldy + n] = bias ? v + bias[n] : v;
    }
  }
}

RF_TILE_FUNCS(RF_Q3_K, mm_q3_k, tile)

void rf_mm_q3k(const rf_mm_args* a, int r0, int r1) { rf_tile_passes(mm_q3_k_tiles, a, r0, r1, 0); }
