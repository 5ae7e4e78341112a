// mm_legacy.c: matrix products of Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0 weights with act32 rows.
// Each weight block is decoded once (into four int16x8 vectors, or two uint8x16 vectors of
// codes for the relaxed dot) and dotted with up to four activation rows (a tile), so a
// prefill reuses every decoded block four times.
#include "rf_wasm.h"

RF_INLINE int block_bytes(const int type) {
  switch (type) {
    case RF_Q4_0: return 18;
    case RF_Q4_1: return 20;
    case RF_Q5_0: return 22;
    case RF_Q5_1: return 24;
    default: return 34;  // Q8_0
  }
}

// Bit i of the 32-bit little-endian word at p as 0x10 in byte i (bits 0..15 -> *lo, 16..31
// -> *hi): the fifth bit of Q5 codes in natural order.
RF_INLINE void spread_high(const uint8_t* p, v128_t* lo, v128_t* hi) {
  const v128_t h = wasm_i32x4_splat((int32_t)rf_ld32(p));
  const v128_t bit = wasm_i8x16_const(1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128);
  const v128_t i0 = wasm_i8x16_const(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
  const v128_t i1 = wasm_i8x16_const(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
  const v128_t k = wasm_i8x16_splat(0x10);
  *lo = wasm_v128_and(wasm_i8x16_eq(wasm_v128_and(wasm_i8x16_swizzle(h, i0), bit), bit), k);
  *hi = wasm_v128_and(wasm_i8x16_eq(wasm_v128_and(wasm_i8x16_swizzle(h, i1), bit), bit), k);
}

// Decodes the quants of one block. For int8 activations (RF_ACT32_I8): v[0] = codes of
// elements 0..15, v[1] = 16..31 as unsigned bytes. Otherwise int16 lanes: v[0] = elements
// 0,2..14, v[1] = 1,3..15, v[2] = 16,18..30, v[3] = 17,19..31. Codes of Q4/Q5 are unsigned;
// their offset is folded into the per-block term c * s (see block_scales).
RF_INLINE void decode(const int type, const uint8_t* b, v128_t* v) {
  if (RF_ACT32_I8(type)) {
    const int qs = type == RF_Q4_0 ? 2 : type == RF_Q4_1 ? 4 : type == RF_Q5_0 ? 6 : 8;
    const v128_t m4 = wasm_i8x16_splat(0x0f);
    const v128_t q = wasm_v128_load(b + qs);
    v[0] = wasm_v128_and(q, m4);
    v[1] = wasm_v128_and(wasm_u16x8_shr(q, 4), m4);
    if (type == RF_Q5_0 || type == RF_Q5_1) {
      v128_t h0, h1;
      spread_high(b + (type == RF_Q5_0 ? 2 : 4), &h0, &h1);
      v[0] = wasm_v128_or(v[0], h0);
      v[1] = wasm_v128_or(v[1], h1);
    }
    return;
  }
  if (type == RF_Q8_0) {
    const v128_t q0 = wasm_v128_load(b + 2);
    const v128_t q1 = wasm_v128_load(b + 18);
    v[0] = wasm_i16x8_shr(wasm_i16x8_shl(q0, 8), 8);
    v[1] = wasm_i16x8_shr(q0, 8);
    v[2] = wasm_i16x8_shr(wasm_i16x8_shl(q1, 8), 8);
    v[3] = wasm_i16x8_shr(q1, 8);
    return;
  }
  const v128_t m4 = wasm_i16x8_splat(0x0f);
  const int qs = type == RF_Q4_0 ? 2 : type == RF_Q4_1 ? 4 : type == RF_Q5_0 ? 6 : 8;
  const v128_t q = wasm_v128_load(b + qs);
  v[0] = wasm_v128_and(q, m4);
  v[1] = wasm_v128_and(wasm_u16x8_shr(q, 8), m4);
  v[2] = wasm_v128_and(wasm_u16x8_shr(q, 4), m4);
  v[3] = wasm_u16x8_shr(q, 12);
  if (type == RF_Q5_0 || type == RF_Q5_1) {
    // element e takes bit e of qh as 16
    const uint32_t qh = rf_ld32(b + (type == RF_Q5_0 ? 2 : 4));
    const v128_t lo = wasm_i16x8_splat((int16_t)(qh & 0xffff));
    const v128_t hi = wasm_i16x8_splat((int16_t)(qh >> 16));
    const v128_t me = wasm_i16x8_const(1, 4, 16, 64, 256, 1024, 4096, 16384);
    const v128_t mo = wasm_i16x8_const(2, 8, 32, 128, 512, 2048, 8192, -32768);
    const v128_t k16 = wasm_i16x8_splat(16);
    v[0] = wasm_v128_or(v[0], wasm_v128_and(wasm_i16x8_eq(wasm_v128_and(lo, me), me), k16));
    v[1] = wasm_v128_or(v[1], wasm_v128_and(wasm_i16x8_eq(wasm_v128_and(lo, mo), mo), k16));
    v[2] = wasm_v128_or(v[2], wasm_v128_and(wasm_i16x8_eq(wasm_v128_and(hi, me), me), k16));
    v[3] = wasm_v128_or(v[3], wasm_v128_and(wasm_i16x8_eq(wasm_v128_and(hi, mo), mo), k16));
  }
}

// Scales of blocks b0..b3 (pointers): element value = d * v + offset, and
// sum(value * x) = d * dx * dot(v, q) + c * s with s = dx * sum(q): c = -8 d (Q4_0),
// -16 d (Q5_0), m (Q4_1, Q5_1), 0 (Q8_0).
RF_INLINE void block_scales(const int type, const uint8_t* b0, const uint8_t* b1,
                            const uint8_t* b2, const uint8_t* b3, v128_t* d, v128_t* c) {
  *d = rf_h2f_x4(wasm_u32x4_make(rf_ld16(b0), rf_ld16(b1), rf_ld16(b2), rf_ld16(b3)));
  if (type == RF_Q4_0) *c = wasm_f32x4_mul(*d, wasm_f32x4_splat(-8.f));
  else if (type == RF_Q5_0) *c = wasm_f32x4_mul(*d, wasm_f32x4_splat(-16.f));
  else if (type == RF_Q8_0) *c = wasm_f32x4_splat(0.f);
  else {
    *c = rf_h2f_x4(
        wasm_u32x4_make(rf_ld16(b0 + 2), rf_ld16(b1 + 2), rf_ld16(b2 + 2), rf_ld16(b3 + 2)));
  }
}

// Integer dot of a decoded block with the q of one activation block (at x).
RF_INLINE v128_t dot32(const int type, const v128_t* v, const uint8_t* x) {
  (void)type;
#if RF_RELAXED
  if (RF_ACT32_I8(type)) {
    const v128_t s = rf_rdot(wasm_v128_load(x), v[0], wasm_i32x4_splat(0));
    return rf_rdot(wasm_v128_load(x + 16), v[1], s);
  }
#endif
  const int16_t* q = (const int16_t*)x;
  return wasm_i32x4_add(rf_dot16(v[0], v[1], q), rf_dot16(v[2], v[3], q + 16));
}

// Lane i = sum of the lanes of s[i].
RF_INLINE v128_t hsum4(const v128_t* s) {
  const v128_t a = wasm_i32x4_add(wasm_i32x4_shuffle(s[0], s[1], 0, 4, 1, 5),
                                  wasm_i32x4_shuffle(s[0], s[1], 2, 6, 3, 7));
  const v128_t b = wasm_i32x4_add(wasm_i32x4_shuffle(s[2], s[3], 0, 4, 1, 5),
                                  wasm_i32x4_shuffle(s[2], s[3], 2, 6, 3, 7));
  return wasm_i32x4_add(wasm_i32x4_shuffle(a, b, 0, 1, 4, 5), wasm_i32x4_shuffle(a, b, 2, 3, 6, 7));
}

// Rows [r0, r1) of W against activation rows [t0, t0 + nt), nt <= 4. Blocks go in groups
// of four: their scales are converted as one vector and their four integer sums are
// reduced into one vector, so the float work is one multiply-add per group and row.
RF_INLINE void tile(const int type, const int nt, const rf_mm_args* a, int r0, int r1, int t0) {
  const int nb = a->k / 32;
  const int bytes = block_bytes(type);
  const int qb = RF_ACT32_I8(type) ? 32 : 64;  // bytes of q per activation block
  const float* xd[4];
  const float* xs[4];
  const uint8_t* xq[4];
  for (int i = 0; i < nt; i++) {
    const uint8_t* row = (const uint8_t*)(uintptr_t)(a->x + (uint32_t)(t0 + i) * (uint32_t)a->x_stride);
    xd[i] = (const float*)row;
    xs[i] = (const float*)(row + 4 * nb);
    xq[i] = row + 8 * nb;
  }
  const float* bias = (const float*)(uintptr_t)a->bias;
  float* y = (float*)(uintptr_t)a->y;
  for (int n = r0; n < r1; n++) {
    const uint8_t* w = (const uint8_t*)(uintptr_t)(a->w + (uint32_t)n * (uint32_t)a->row_bytes);
    v128_t acc[4];
    for (int i = 0; i < nt; i++) acc[i] = wasm_f32x4_splat(0.f);
    int b = 0;
    for (; b + 4 <= nb; b += 4) {
      const uint8_t* wb = w + b * bytes;
      v128_t v[4][4];
      for (int j = 0; j < 4; j++) decode(type, wb + j * bytes, v[j]);
      v128_t d, c;
      block_scales(type, wb, wb + bytes, wb + 2 * bytes, wb + 3 * bytes, &d, &c);
      for (int i = 0; i < nt; i++) {
        v128_t s[4];
        for (int j = 0; j < 4; j++) s[j] = dot32(type, v[j], xq[i] + qb * (b + j));
        const v128_t dd = wasm_f32x4_mul(d, wasm_v128_load(xd[i] + b));
        acc[i] = wasm_f32x4_add(acc[i], wasm_f32x4_mul(wasm_f32x4_convert_i32x4(hsum4(s)), dd));
        if (type != RF_Q8_0) {
          acc[i] = wasm_f32x4_add(acc[i], wasm_f32x4_mul(c, wasm_v128_load(xs[i] + b)));
        }
      }
    }
    for (; b < nb; b++) {
      const uint8_t* wb = w + b * bytes;
      v128_t v[4];
      decode(type, wb, v);
      v128_t d, c;
      block_scales(type, wb, wb, wb, wb, &d, &c);
      const float d0 = wasm_f32x4_extract_lane(d, 0), c0 = wasm_f32x4_extract_lane(c, 0);
      for (int i = 0; i < nt; i++) {
        const v128_t s = dot32(type, v, xq[i] + qb * b);
        acc[i] = wasm_f32x4_add(acc[i], wasm_f32x4_mul(wasm_f32x4_convert_i32x4(s),
                                                       wasm_f32x4_splat(d0 * xd[i][b])));
        acc[i] = wasm_f32x4_add(acc[i], wasm_f32x4_make(c0 * xs[i][b], 0.f, 0.f, 0.f));
      }
    }
    const float bn = bias ? bias[n] : 0.f;
    for (int i = 0; i < nt; i++) {
      y[(t0 + i) * a->ldy + n] = rf_hsum_f32(acc[i]) + bn;
    }
  }
}

#ifndef RF_TILE
#define RF_TILE 4
#endif

RF_INLINE void rows(const int type, const rf_mm_args* a, int r0, int r1) {
  int t0 = 0;
  for (; t0 + RF_TILE <= a->t; t0 += RF_TILE) tile(type, RF_TILE, a, r0, r1, t0);
  switch (a->t - t0) {
    case 3: tile(type, 3, a, r0, r1, t0); break;
    case 2: tile(type, 2, a, r0, r1, t0); break;
    case 1: tile(type, 1, a, r0, r1, t0); break;
    default: break;
  }
}

__attribute__((noinline)) static void mm_q4_0(const rf_mm_args* a, int r0, int r1) { rows(RF_Q4_0, a, r0, r1); }
__attribute__((noinline)) static void mm_q4_1(const rf_mm_args* a, int r0, int r1) { rows(RF_Q4_1, a, r0, r1); }
__attribute__((noinline)) static void mm_q5_0(const rf_mm_args* a, int r0, int r1) { rows(RF_Q5_0, a, r0, r1); }
__attribute__((noinline)) static void mm_q5_1(const rf_mm_args* a, int r0, int r1) { rows(RF_Q5_1, a, r0, r1); }
__attribute__((noinline)) static void mm_q8_0(const rf_mm_args* a, int r0, int r1) { rows(RF_Q8_0, a, r0, r1); }

void rf_mm_legacy(const rf_mm_args* a, int r0, int r1) {
  switch (a->type) {
    case RF_Q4_0: mm_q4_0(a, r0, r1); break;
    case RF_Q4_1: mm_q4_1(a, r0, r1); break;
    case RF_Q5_0: mm_q5_0(a, r0, r1); break;
    case RF_Q5_1: mm_q5_1(a, r0, r1); break;
    case RF_Q8_0: mm_q8_0(a, r0, r1); break;
    default: break;
  }
}
