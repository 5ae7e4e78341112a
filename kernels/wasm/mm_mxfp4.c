// mm_mxfp4.c: matrix products of MXFP4 weights (gpt-oss's experts) with act32 (Q8_0) rows, in
// llama.cpp's float32 arithmetic (x86 build), the same as ops/matmul_exact.ts:
// - "rows" (ggml's repacked mxfp4_8x8 gemv / gemm, used when the row count is a multiple of
//   8, 2-D or 3-D expert tensors alike): one accumulator per output,
//   acc = fma(block dot, dw * dx, acc).
// - "pairs" (ggml_vec_dot_mxfp4_q8_0 otherwise): two sets of eight lanes, one for the even
//   blocks and one for the odd ones (lane j = integer dot of elements 4j..4j+3,
//   acc_j = fma(dw * dx, dot_j, acc_j)); the output is rf_hsum8 of their sum, and an odd last
//   block is added by a scalar fma of its whole dot.
// A block is 17 bytes: the E8M0 exponent e, then 16 bytes of E2M1 codes (element j < 16 in the
// low nibble of byte j, j + 16 in the high one). The weights are ggml's doubled E2M1 values
// (kvalues_mxfp4, |w| <= 12) and dw is half the E8M0 scale, 2^(e - 128); dw * dx is exact.
// The relaxed build takes w + 12 (0..24, a 7-bit operand) and subtracts 12 * the sums of q.
#include "rf_wasm.h"

// Activation rows per pass of "rows" in a prefill (as mm_legacy.c's Q4_0 "rows").
#define RF_MX_ROWS_BIG 16

// ggml_e8m0_to_fp32_half: 2^(e - 128) (e < 2 gives subnormals).
RF_INLINE float e8m0_half(const uint8_t e) {
  union {
    uint32_t u;
    float f;
  } v;
  v.u = e < 2 ? 0x00200000u << e : (uint32_t)(e - 1) << 23;
  return v.f;
}

RF_INLINE const rf_act32* act_row(const rf_mm_args* a, int t) {
  return (const rf_act32*)(uintptr_t)(a->x + (uint32_t)t * (uint32_t)a->x_stride);
}

RF_INLINE const uint8_t* wrow(const rf_mm_args* a, int n) {
  return (const uint8_t*)(uintptr_t)(a->w + (uint32_t)n * (uint32_t)a->row_bytes);
}

#if RF_RELAXED
// One decoded block: the weights + 12 as bytes, elements 0..15 and 16..31.
typedef struct {
  v128_t w[2];
} wblock;

RF_INLINE void prepare(const uint8_t* b, wblock* wb) {
  // kvalues_mxfp4 + 12
  const v128_t kv = wasm_i8x16_const(12, 13, 14, 15, 16, 18, 20, 24, 12, 11, 10, 9, 8, 6, 4, 0);
  const v128_t q = wasm_v128_load(b + 1);
  wb->w[0] = wasm_i8x16_swizzle(kv, wasm_v128_and(q, rf_k.m4));
  wb->w[1] = wasm_i8x16_swizzle(kv, wasm_v128_and(wasm_u16x8_shr(q, 4), rf_k.m4));
}

// Sums of 2 products of the 16 activation q of half h with the weights + 12 (int16 lanes).
RF_INLINE v128_t dot_pairs(const wblock* wb, int h, const rf_act32* xb) {
  return rf_relaxed_dot_i8x16_i7x16_s(wasm_v128_load(xb->q + 16 * h), wb->w[h]);
}

// Lane dots of one block: *lo = elements 0..15 (4 per lane), *hi = 16..31.
RF_INLINE void lane_dots(const wblock* wb, const rf_act32* xb, v128_t* lo, v128_t* hi) {
  const v128_t one = rf_k.one16;
  *lo = wasm_i32x4_sub(wasm_i32x4_dot_i16x8(dot_pairs(wb, 0, xb), one),
                       wasm_i32x4_mul(wasm_v128_load(xb->lsum), wasm_i32x4_splat(12)));
  *hi = wasm_i32x4_sub(wasm_i32x4_dot_i16x8(dot_pairs(wb, 1, xb), one),
                       wasm_i32x4_mul(wasm_v128_load(xb->lsum + 4), wasm_i32x4_splat(12)));
}

// Whole-block integer dots of 4 weight rows with one activation block, lane r = row r. The
// int16 pair sums of a row (|s| <= 2 * 24 * 127 = 6096) are added over the two halves and
// folded once in int16 (|s| <= 24384) before widening.
RF_INLINE v128_t block_dots4(const wblock* v, const rf_act32* xb) {
  v128_t p[4];
  for (int r = 0; r < 4; r++) {
    p[r] = wasm_i16x8_add(dot_pairs(&v[r], 0, xb), dot_pairs(&v[r], 1, xb));
  }
  const v128_t c01 = wasm_i16x8_add(wasm_i32x4_shuffle(p[0], p[1], 0, 1, 4, 5),
                                    wasm_i32x4_shuffle(p[0], p[1], 2, 3, 6, 7));
  const v128_t c23 = wasm_i16x8_add(wasm_i32x4_shuffle(p[2], p[3], 0, 1, 4, 5),
                                    wasm_i32x4_shuffle(p[2], p[3], 2, 3, 6, 7));
  const v128_t w01 = wasm_i32x4_dot_i16x8(c01, rf_k.one16);  // r0, r0, r1, r1
  const v128_t w23 = wasm_i32x4_dot_i16x8(c23, rf_k.one16);  // r2, r2, r3, r3
  const v128_t s = wasm_i32x4_add(wasm_i32x4_shuffle(w01, w23, 0, 2, 4, 6),
                                  wasm_i32x4_shuffle(w01, w23, 1, 3, 5, 7));
  return wasm_i32x4_sub(s, wasm_i32x4_splat(12 * xb->bsum));
}

#else
// Plain build: the signed weights as int16, 8 per vector, in natural order.
typedef struct {
  v128_t w[4];
} wblock;

RF_INLINE void prepare(const uint8_t* b, wblock* wb) {
  const v128_t kv = wasm_i8x16_const(0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12);
  const v128_t q = wasm_v128_load(b + 1);
  const v128_t c0 = wasm_i8x16_swizzle(kv, wasm_v128_and(q, rf_k.m4));
  const v128_t c1 = wasm_i8x16_swizzle(kv, wasm_v128_and(wasm_u16x8_shr(q, 4), rf_k.m4));
  wb->w[0] = wasm_i16x8_extend_low_i8x16(c0);
  wb->w[1] = wasm_i16x8_extend_high_i8x16(c0);
  wb->w[2] = wasm_i16x8_extend_low_i8x16(c1);
  wb->w[3] = wasm_i16x8_extend_high_i8x16(c1);
}

RF_INLINE void lane_dots(const wblock* wb, const rf_act32* xb, v128_t* lo, v128_t* hi) {
  v128_t p[4];
  for (int j = 0; j < 4; j++) p[j] = wasm_i32x4_dot_i16x8(wb->w[j], wasm_v128_load(xb->q + 8 * j));
  *lo = wasm_i32x4_add(wasm_i32x4_shuffle(p[0], p[1], 0, 2, 4, 6),
                       wasm_i32x4_shuffle(p[0], p[1], 1, 3, 5, 7));
  *hi = wasm_i32x4_add(wasm_i32x4_shuffle(p[2], p[3], 0, 2, 4, 6),
                       wasm_i32x4_shuffle(p[2], p[3], 1, 3, 5, 7));
}

// Lane i = the sum of the lanes of s[i].
RF_INLINE v128_t hsum4(const v128_t* s) {
  const v128_t a = wasm_i32x4_add(wasm_i32x4_shuffle(s[0], s[1], 0, 4, 1, 5),
                                  wasm_i32x4_shuffle(s[0], s[1], 2, 6, 3, 7));
  const v128_t b = wasm_i32x4_add(wasm_i32x4_shuffle(s[2], s[3], 0, 4, 1, 5),
                                  wasm_i32x4_shuffle(s[2], s[3], 2, 6, 3, 7));
  return wasm_i32x4_add(wasm_i32x4_shuffle(a, b, 0, 1, 4, 5), wasm_i32x4_shuffle(a, b, 2, 3, 6, 7));
}

RF_INLINE v128_t block_dots4(const wblock* v, const rf_act32* xb) {
  v128_t s[4];
  for (int r = 0; r < 4; r++) {
    v128_t lo, hi;
    lane_dots(&v[r], xb, &lo, &hi);
    s[r] = wasm_i32x4_add(lo, hi);
  }
  return hsum4(s);
}
#endif

// "rows": rows [n0, n0 + 4) of W (rows at or past r1 repeat row r1 - 1 and are not stored)
// against activation rows [t0, t0 + nt), nt <= RF_MX_ROWS_BIG. Lane r is row n0 + r.
RF_INLINE void tile_rows(const int nt, const rf_mm_args* a, int n0, int r1, int t0) {
  const int nb = a->k / 32;
  const rf_act32* x0 = act_row(a, t0);
  const int xs = a->x_stride / (int)sizeof(rf_act32);
  const uint8_t* w0 = wrow(a, n0);
  const int rb = a->row_bytes;
  const int o1 = n0 + 1 < r1 ? rb : 0;
  const int o2 = n0 + 2 < r1 ? 2 * rb : o1;
  const int o3 = n0 + 3 < r1 ? 3 * rb : o2;
  v128_t acc[RF_MX_ROWS_BIG];
  for (int i = 0; i < nt; i++) acc[i] = wasm_f32x4_splat(0.f);
  for (int b = 0; b < nb; b++) {
    const uint8_t* wb = w0 + b * RF_BLOCK_BYTES_MXFP4;
    wblock v[4];
    prepare(wb, &v[0]);
    prepare(wb + o1, &v[1]);
    prepare(wb + o2, &v[2]);
    prepare(wb + o3, &v[3]);
    const v128_t dw = wasm_f32x4_make(e8m0_half(wb[0]), e8m0_half(wb[o1]), e8m0_half(wb[o2]),
                                      e8m0_half(wb[o3]));
    for (int i = 0; i < nt; i++) {
      const rf_act32* xb = x0 + i * xs + b;
      const v128_t isum = block_dots4(v, xb);
      const v128_t dd = wasm_f32x4_mul(dw, wasm_v128_load32_splat(&xb->d));
      acc[i] = rf_fma(wasm_f32x4_convert_i32x4(isum), dd, acc[i]);
    }
  }
  const float* bias = (const float*)(uintptr_t)a->bias;
  float* y = (float*)(uintptr_t)a->y;
  for (int i = 0; i < nt; i++) {
    float out[4];
    wasm_v128_store(out, acc[i]);
    for (int r = 0; r < 4 && n0 + r < r1; r++) {
      y[(t0 + i) * a->ldy + n0 + r] = bias ? out[r] + bias[n0 + r] : out[r];
    }
  }
}

// "pairs": rows [r0, r1) of W against activation row t.
RF_INLINE void tile_pairs(const rf_mm_args* a, int r0, int r1, int t) {
  const int nb = a->k / 32;
  const int paired = nb & ~1;
  const rf_act32* x0 = act_row(a, t);
  const float* bias = (const float*)(uintptr_t)a->bias;
  float* y = (float*)(uintptr_t)a->y;
  for (int n = r0; n < r1; n++) {
    const uint8_t* w = wrow(a, n);
    v128_t acc[4];  // even blocks lo, hi; odd blocks lo, hi
    for (int j = 0; j < 4; j++) acc[j] = wasm_f32x4_splat(0.f);
    for (int b = 0; b < paired; b++) {
      const uint8_t* wb = w + b * RF_BLOCK_BYTES_MXFP4;
      const rf_act32* xb = x0 + b;
      wblock v;
      prepare(wb, &v);
      v128_t lo, hi;
      lane_dots(&v, xb, &lo, &hi);
      const v128_t dd = wasm_f32x4_splat(e8m0_half(wb[0]) * xb->d);
      const int o = 2 * (b & 1);
      acc[o] = rf_fma(dd, wasm_f32x4_convert_i32x4(lo), acc[o]);
      acc[o + 1] = rf_fma(dd, wasm_f32x4_convert_i32x4(hi), acc[o + 1]);
    }
    float r = rf_hsum8(wasm_f32x4_add(acc[0], acc[2]), wasm_f32x4_add(acc[1], acc[3]));
    for (int b = paired; b < nb; b++) {
      const uint8_t* wb = w + b * RF_BLOCK_BYTES_MXFP4;
      const rf_act32* xb = x0 + b;
      wblock v;
      prepare(wb, &v);
      v128_t lo, hi;
      lane_dots(&v, xb, &lo, &hi);
      const float dot = (float)rf_hsum_i32(wasm_i32x4_add(lo, hi));
      r = rf_fmaf(xb->d * e8m0_half(wb[0]), dot, r);
    }
    y[t * a->ldy + n] = bias ? r + bias[n] : r;
  }
}

RF_INLINE void tile(const int type, const int nt, const rf_mm_args* a, int r0, int r1, int t0) {
  (void)type;
  if (a->n % 8 == 0) {
    for (int n0 = r0; n0 < r1; n0 += 4) tile_rows(nt, a, n0, r1, t0);
  } else {
    for (int i = 0; i < nt; i++) tile_pairs(a, r0, r1, t0 + i);
  }
}

RF_TILE_FUNCS(RF_MXFP4, mm_mxfp4, tile)

__attribute__((noinline)) static void mm_mxfp4_big(const rf_mm_args* a, int r0, int r1, int t0) {
  for (int n0 = r0; n0 < r1; n0 += 4) tile_rows(RF_MX_ROWS_BIG, a, n0, r1, t0);
}

void rf_mm_mxfp4(const rf_mm_args* a, int r0, int r1) {
  int t0 = 0;
  if (a->n % 8 == 0) {
    for (; t0 + RF_MX_ROWS_BIG <= a->t; t0 += RF_MX_ROWS_BIG) mm_mxfp4_big(a, r0, r1, t0);
  }
  rf_tile_passes(mm_mxfp4_tiles, a, r0, r1, t0);
}
