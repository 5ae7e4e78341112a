// mm_legacy_blocks.h: decoding one Q4_0 / Q4_1 / Q5_0 / Q5_1 / Q8_0 block for the "lanes" and
// "rows" kernels of mm_legacy.c (see its header): block layout, codes in natural order, and
// the integer dots against act32 blocks for the relaxed and the plain build.
#pragma once
#include "rf_wasm.h"

RF_INLINE int block_bytes(const int type) {
  switch (type) {
    case RF_Q4_0: return RF_BLOCK_BYTES_Q4_0;
    case RF_Q4_1: return RF_BLOCK_BYTES_Q4_1;
    case RF_Q5_0: return RF_BLOCK_BYTES_Q5_0;
    case RF_Q5_1: return RF_BLOCK_BYTES_Q5_1;
    default: return RF_BLOCK_BYTES_Q8_0;
  }
}

// Offset of the quant nibbles / bytes in a block.
RF_INLINE int quant_offset(const int type) {
  return type == RF_Q4_0 ? 2 : type == RF_Q4_1 ? 4 : type == RF_Q5_0 ? 6 : type == RF_Q5_1 ? 8 : 2;
}

// Value subtracted from a code to get the signed weight (Q4_0: 8, Q5_0: 16, else 0).
RF_INLINE int code_offset(const int type) {
  return type == RF_Q4_0 ? 8 : type == RF_Q5_0 ? 16 : 0;
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

// The codes of one block as bytes in natural order: c[0] = elements 0..15, c[1] = 16..31.
// Unsigned for Q4/Q5 (the offset is applied later), signed for Q8_0.
RF_INLINE void codes(const int type, const uint8_t* b, v128_t* c) {
  if (type == RF_Q8_0) {
    c[0] = wasm_v128_load(b + 2);
    c[1] = wasm_v128_load(b + 18);
    return;
  }
  const v128_t m4 = rf_k.m4;
  const v128_t q = wasm_v128_load(b + quant_offset(type));
  c[0] = wasm_v128_and(q, m4);
  c[1] = wasm_v128_and(wasm_u16x8_shr(q, 4), m4);
  if (type == RF_Q5_0 || type == RF_Q5_1) {
    v128_t h0, h1;
    spread_high(b + (type == RF_Q5_0 ? 2 : 4), &h0, &h1);
    c[0] = wasm_v128_or(c[0], h0);
    c[1] = wasm_v128_or(c[1], h1);
  }
}

#if RF_RELAXED
// A decoded block in the form the dot wants: w[0..1] = 7-bit operands (codes, or |code| for
// Q8_0), neg[0..1] = all-ones bytes where a Q8_0 weight is negative.
typedef struct {
  v128_t w[2];
  v128_t neg[2];
} wblock;

RF_INLINE void prepare(const int type, const uint8_t* b, wblock* wb) {
  codes(type, b, wb->w);
  if (type == RF_Q8_0) {
    for (int h = 0; h < 2; h++) {
      wb->neg[h] = wasm_i8x16_gt(rf_k.zero, wb->w[h]);
      wb->w[h] = wasm_i8x16_abs(wb->w[h]);
    }
  }
}

// Sums of 2 products of 16 activation q at x with a 16-byte weight half (int16 lanes).
RF_INLINE v128_t dot_pairs(const int type, const wblock* wb, int h, const int8_t* x) {
  v128_t xv = wasm_v128_load(x + 16 * h);
  if (type == RF_Q8_0) xv = wasm_i8x16_sub(wasm_v128_xor(xv, wb->neg[h]), wb->neg[h]);
  return rf_relaxed_dot_i8x16_i7x16_s(xv, wb->w[h]);
}

// Lane dots of one block (see the top): *lo = elements 0..15, *hi = 16..31, offset applied.
RF_INLINE void lane_dots(const int type, const wblock* wb, const rf_act32* xb, v128_t* lo,
                         v128_t* hi) {
  const v128_t one = rf_k.one16;
  *lo = wasm_i32x4_dot_i16x8(dot_pairs(type, wb, 0, xb->q), one);
  *hi = wasm_i32x4_dot_i16x8(dot_pairs(type, wb, 1, xb->q), one);
  const int off = code_offset(type);
  if (off) {
    const int sh = off == 8 ? 3 : 4;
    *lo = wasm_i32x4_sub(*lo, wasm_i32x4_shl(wasm_v128_load(xb->lsum), sh));
    *hi = wasm_i32x4_sub(*hi, wasm_i32x4_shl(wasm_v128_load(xb->lsum + 4), sh));
  }
}

#else
// Plain build: int16 weights (signed, offset applied) in natural order, 8 per vector.
typedef struct {
  v128_t w[4];
} wblock;

RF_INLINE void prepare(const int type, const uint8_t* b, wblock* wb) {
  v128_t c[2];
  codes(type, b, c);
  if (type == RF_Q8_0) {
    for (int h = 0; h < 2; h++) {
      wb->w[2 * h] = wasm_i16x8_extend_low_i8x16(c[h]);
      wb->w[2 * h + 1] = wasm_i16x8_extend_high_i8x16(c[h]);
    }
    return;
  }
  const v128_t off = wasm_i16x8_splat((int16_t)code_offset(type));
  for (int h = 0; h < 2; h++) {
    wb->w[2 * h] = wasm_i16x8_sub(wasm_u16x8_extend_low_u8x16(c[h]), off);
    wb->w[2 * h + 1] = wasm_i16x8_sub(wasm_u16x8_extend_high_u8x16(c[h]), off);
  }
}

RF_INLINE void lane_dots(const int type, const wblock* wb, const rf_act32* xb, v128_t* lo,
                         v128_t* hi) {
  (void)type;
  v128_t p[4];
  for (int j = 0; j < 4; j++) {
    p[j] = wasm_i32x4_dot_i16x8(wb->w[j], wasm_v128_load(xb->q + 8 * j));
  }
  *lo = wasm_i32x4_add(wasm_i32x4_shuffle(p[0], p[1], 0, 2, 4, 6),
                       wasm_i32x4_shuffle(p[0], p[1], 1, 3, 5, 7));
  *hi = wasm_i32x4_add(wasm_i32x4_shuffle(p[2], p[3], 0, 2, 4, 6),
                       wasm_i32x4_shuffle(p[2], p[3], 1, 3, 5, 7));
}

// Integer dot of a whole block (offset applied), spread over 4 lanes.
RF_INLINE v128_t block_dot(const int type, const wblock* wb, const rf_act32* xb) {
  (void)type;
  v128_t s = wasm_i32x4_dot_i16x8(wb->w[0], wasm_v128_load(xb->q));
  for (int j = 1; j < 4; j++) {
    s = wasm_i32x4_add(s, wasm_i32x4_dot_i16x8(wb->w[j], wasm_v128_load(xb->q + 8 * j)));
  }
  return s;
}
#endif
