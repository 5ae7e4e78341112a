// mm_legacy.c: matrix products of Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0 weights with act32 rows,
// in llama.cpp's float32 arithmetic (x86 build), so that results agree with it bit for bit
// where the runtime has relaxed SIMD (and up to rare double roundings otherwise, see
// rf_fma). Integer block dots are exact; what must match is how they are scaled and summed:
// - "lanes" (ggml_vec_dot_*_q8_* and llamafile's tinyBLAS, which llama.cpp uses for Q8_0,
//   Q5_0, Q4_1, Q5_1, and Q4_0 with a row count not a multiple of 8): eight accumulators
//   per output; lane j takes the integer dot of elements 4j..4j+3 of every block,
//   acc_j = fma(dw * dx, dot_j, acc_j) block after block, and the output is rf_hsum8 of
//   them (plus, for Q4_1 / Q5_1, the fused sum over blocks of m * s).
// - "rows" (ggml's repacked Q4_0 8x8 gemv / gemm, used for Q4_0 weights with a multiple of
//   8 rows): one accumulator per output, acc = fma(block dot, dw * dx, acc).
// Each weight block is decoded once and used against up to four activation rows.
#include "rf_wasm.h"

// Activation rows per pass of the "rows" kernel in a prefill: its decoded weights (8 vectors)
// stay in registers while the accumulators live in memory, so the more rows share one
// decode the better (measured on a 5632x2048 Q4_0 product, 64 rows, 1 thread: 4 rows per
// pass 53 ms, 8: 46, 16: 43, 32: 42).
#define RF_ROWS_BIG 16

#include "mm_legacy_blocks.h"

// Activation row t (act32 blocks).
RF_INLINE const rf_act32* act_row(const rf_mm_args* a, int t) {
  return (const rf_act32*)(uintptr_t)(a->x + (uint32_t)t * (uint32_t)a->x_stride);
}

RF_INLINE const uint8_t* wrow(const rf_mm_args* a, int n) {
  return (const uint8_t*)(uintptr_t)(a->w + (uint32_t)n * (uint32_t)a->row_bytes);
}

// "lanes": rows [r0, r1) of W against activation rows [t0, t0 + nt), nt <= 4.
RF_INLINE void tile_lanes(const int type, const int nt, const rf_mm_args* a, int r0, int r1,
                          int t0) {
  const int nb = a->k / 32;
  const int bytes = block_bytes(type);
  const int has_m = type == RF_Q4_1 || type == RF_Q5_1;
  const rf_act32* x0 = act_row(a, t0);
  const int xs = a->x_stride / (int)sizeof(rf_act32);  // blocks from one row to the next
  const float* bias = (const float*)(uintptr_t)a->bias;
  float* y = (float*)(uintptr_t)a->y;
  for (int n = r0; n < r1; n++) {
    const uint8_t* w = wrow(a, n);
    v128_t lo[4], hi[4];
    float summs[4];
    for (int i = 0; i < nt; i++) {
      lo[i] = hi[i] = wasm_f32x4_splat(0.f);
      summs[i] = 0.f;
    }
    for (int b = 0; b < nb; b++) {
      const uint8_t* wb = w + b * bytes;
      wblock v;
      prepare(type, wb, &v);
      const float dw = rf_half(rf_ld16(wb));
      const float mw = has_m ? rf_half(rf_ld16(wb + 2)) : 0.f;
      // dw * dx of the (up to) 4 activation rows as one vector, one lane splat per row
      v128_t dx4 = wasm_f32x4_splat(0.f);
      dx4 = wasm_v128_load32_lane(&x0[b].d, dx4, 0);
      if (nt > 1) dx4 = wasm_v128_load32_lane(&x0[xs + b].d, dx4, 1);
      if (nt > 2) dx4 = wasm_v128_load32_lane(&x0[2 * xs + b].d, dx4, 2);
      if (nt > 3) dx4 = wasm_v128_load32_lane(&x0[3 * xs + b].d, dx4, 3);
      const v128_t dd4 = wasm_f32x4_mul(wasm_f32x4_splat(dw), dx4);
      for (int i = 0; i < nt; i++) {
        const rf_act32* xb = x0 + i * xs + b;
        v128_t plo, phi;
        lane_dots(type, &v, xb, &plo, &phi);
        const v128_t dd = i == 0   ? wasm_i32x4_shuffle(dd4, dd4, 0, 0, 0, 0)
                          : i == 1 ? wasm_i32x4_shuffle(dd4, dd4, 1, 1, 1, 1)
                          : i == 2 ? wasm_i32x4_shuffle(dd4, dd4, 2, 2, 2, 2)
                                   : wasm_i32x4_shuffle(dd4, dd4, 3, 3, 3, 3);
        lo[i] = rf_fma(dd, wasm_f32x4_convert_i32x4(plo), lo[i]);
        hi[i] = rf_fma(dd, wasm_f32x4_convert_i32x4(phi), hi[i]);
        if (has_m) {
          // fused, as the compiled C (summs += m * s) is
          summs[i] = rf_fmaf(mw, xb->s, summs[i]);
        }
      }
    }
    const float bn = bias ? bias[n] : 0.f;
    for (int i = 0; i < nt; i++) {
      float r = rf_hsum8(lo[i], hi[i]);
      if (has_m) r += summs[i];
      y[(t0 + i) * a->ldy + n] = bias ? r + bn : r;
    }
  }
}

// Weight rows per pass of "lanes" for one activation row. Relaxed build, measured by CPU
// time on a 5632x2048 product, 1 thread, four against pairs: Q8_0 +7..10%, Q5_0 +0..12%,
// Q4_1 +42..53%; Q5_1, whose high bits take more registers, was up to a third slower with
// four and keeps pairs, as does the plain build (four int16 vectors per decoded block).
RF_INLINE int lanes_rows(const int type) { return RF_RELAXED && type != RF_Q5_1 ? 4 : 2; }

// "lanes" for one activation row: lanes_rows(type) weight rows at a time, for independent
// accumulator chains and one load of each activation block for all of them.
RF_INLINE void tile_lanes_1(const int type, const rf_mm_args* a, int r0, int r1, int t0) {
  const int nb = a->k / 32;
  const int bytes = block_bytes(type);
  const int has_m = type == RF_Q4_1 || type == RF_Q5_1;
  const int R = lanes_rows(type);
  const rf_act32* x0 = act_row(a, t0);
  const float* bias = (const float*)(uintptr_t)a->bias;
  float* y = (float*)(uintptr_t)a->y;
  const int rb = a->row_bytes;
  int n = r0;
  for (; n + R <= r1; n += R) {
    const uint8_t* w = wrow(a, n);
    v128_t lo[4], hi[4];
    float sm[4];
    for (int r = 0; r < R; r++) {
      lo[r] = hi[r] = wasm_f32x4_splat(0.f);
      sm[r] = 0.f;
    }
    for (int b = 0; b < nb; b++) {
      const uint8_t* wb = w + b * bytes;
      const rf_act32* xb = x0 + b;
      const float dx = xb->d;
      for (int r = 0; r < R; r++) {
        wblock v;
        prepare(type, wb + r * rb, &v);
        v128_t plo, phi;
        lane_dots(type, &v, xb, &plo, &phi);
        const v128_t dd = wasm_f32x4_splat(rf_half(rf_ld16(wb + r * rb)) * dx);
        lo[r] = rf_fma(dd, wasm_f32x4_convert_i32x4(plo), lo[r]);
        hi[r] = rf_fma(dd, wasm_f32x4_convert_i32x4(phi), hi[r]);
        if (has_m) sm[r] = rf_fmaf(rf_half(rf_ld16(wb + r * rb + 2)), xb->s, sm[r]);
      }
    }
    for (int r = 0; r < R; r++) {
      float v = rf_hsum8(lo[r], hi[r]);
      if (has_m) v += sm[r];
      y[t0 * a->ldy + n + r] = bias ? v + bias[n + r] : v;
    }
  }
  if (n < r1) tile_lanes(type, 1, a, n, r1, t0);
}

#if !RF_RELAXED
// Lane i = sum of the lanes of s[i].
RF_INLINE v128_t hsum4(const v128_t* s) {
  const v128_t a = wasm_i32x4_add(wasm_i32x4_shuffle(s[0], s[1], 0, 4, 1, 5),
                                  wasm_i32x4_shuffle(s[0], s[1], 2, 6, 3, 7));
  const v128_t b = wasm_i32x4_add(wasm_i32x4_shuffle(s[2], s[3], 0, 4, 1, 5),
                                  wasm_i32x4_shuffle(s[2], s[3], 2, 6, 3, 7));
  return wasm_i32x4_add(wasm_i32x4_shuffle(a, b, 0, 1, 4, 5), wasm_i32x4_shuffle(a, b, 2, 3, 6, 7));
}
#endif

#if RF_RELAXED
// Integer dots of one Q4_0 block of 4 weight rows with one activation block, lane r = row r
// (codes unsigned, offset not applied). The int16 pair sums of each row (at most
// 2 * 2 * 15 * 127 = 7620) are folded in int16 with 32-bit-unit shuffles, four rows at a
// time, down to two per row (at most 30480), then widened: 10 instructions where four
// widenings and a 4x4 transpose-add take 13.
RF_INLINE v128_t block_dots4(const wblock* v, const rf_act32* xb) {
  v128_t p[4];
  for (int r = 0; r < 4; r++) {
    p[r] = wasm_i16x8_add(dot_pairs(RF_Q4_0, &v[r], 0, xb->q), dot_pairs(RF_Q4_0, &v[r], 1, xb->q));
  }
  const v128_t c01 = wasm_i16x8_add(wasm_i32x4_shuffle(p[0], p[1], 0, 1, 4, 5),
                                    wasm_i32x4_shuffle(p[0], p[1], 2, 3, 6, 7));
  const v128_t c23 = wasm_i16x8_add(wasm_i32x4_shuffle(p[2], p[3], 0, 1, 4, 5),
                                    wasm_i32x4_shuffle(p[2], p[3], 2, 3, 6, 7));
  const v128_t f = wasm_i16x8_add(wasm_i32x4_shuffle(c01, c23, 0, 2, 4, 6),
                                  wasm_i32x4_shuffle(c01, c23, 1, 3, 5, 7));
  return wasm_i32x4_dot_i16x8(f, rf_k.one16);
}
#endif

// "rows" (Q4_0): rows [n0, n0 + 4) of W (rows at or past r1 repeat row r1 - 1 and are not
// stored) against activation rows [t0, t0 + nt), nt <= RF_ROWS_BIG. Lane r of each vector is
// row n0 + r.
RF_INLINE void tile_rows(const int nt, const rf_mm_args* a, int n0, int r1, int t0) {
  const int type = RF_Q4_0;
  const int nb = a->k / 32;
  const rf_act32* x0 = act_row(a, t0);
  const int xs = a->x_stride / (int)sizeof(rf_act32);
  const uint8_t* w0 = wrow(a, n0);
  // rows past r1 repeat the last one (their results are dropped)
  const int rb = a->row_bytes;
  const int o1 = n0 + 1 < r1 ? rb : 0;
  const int o2 = n0 + 2 < r1 ? 2 * rb : o1;
  const int o3 = n0 + 3 < r1 ? 3 * rb : o2;
  v128_t acc[RF_ROWS_BIG];
  for (int i = 0; i < nt; i++) acc[i] = wasm_f32x4_splat(0.f);
  for (int b = 0; b < nb; b++) {
    const uint8_t* wb = w0 + b * RF_BLOCK_BYTES_Q4_0;
    wblock v[4];
    prepare(type, wb, &v[0]);
    prepare(type, wb + o1, &v[1]);
    prepare(type, wb + o2, &v[2]);
    prepare(type, wb + o3, &v[3]);
    v128_t h = wasm_i32x4_splat(0);
    h = wasm_v128_load16_lane(wb, h, 0);
    h = wasm_v128_load16_lane(wb + o1, h, 2);
    h = wasm_v128_load16_lane(wb + o2, h, 4);
    h = wasm_v128_load16_lane(wb + o3, h, 6);
    const v128_t dw = rf_h2f_x4(h);
    for (int i = 0; i < nt; i++) {
      const rf_act32* xb = x0 + i * xs + b;
#if RF_RELAXED
      v128_t isum = block_dots4(v, xb);
#else
      v128_t s[4];
      for (int r = 0; r < 4; r++) s[r] = block_dot(type, &v[r], xb);
      v128_t isum = hsum4(s);
#endif
#if RF_RELAXED
      isum = wasm_i32x4_sub(isum, wasm_i32x4_splat(8 * xb->bsum));
#endif
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

#if RF_RELAXED
// "rows" (Q4_0) for one activation row over rows [n0, n0 + 8), all below r1: two groups of 4
// rows (lanes as in tile_rows) sharing every load of the activation block, each with the
// arithmetic of tile_rows. Relaxed build, 1 thread, CPU time of 2048x5632 / 5632x2048 /
// 2048x2048 products (this with the rf_h2f_x4 of the same commit): 6.7 / 9.7 / 7.9 GB/s of
// weights where 4 rows per pass read 5.7 / 7.9 / 6.1. V8 bounds-checks every load (Deno
// runs without the trap handler), so each load shared by more rows counts. The plain
// build's int16 weights take too many registers for 8.
RF_INLINE void tile_rows8(const rf_mm_args* a, int n0, int t0) {
  const int nb = a->k / 32;
  const rf_act32* x0 = act_row(a, t0);
  const uint8_t* w0 = wrow(a, n0);
  const int rb = a->row_bytes;
  v128_t acc[2] = {wasm_f32x4_splat(0.f), wasm_f32x4_splat(0.f)};
  for (int b = 0; b < nb; b++) {
    const uint8_t* wb = w0 + b * RF_BLOCK_BYTES_Q4_0;
    const rf_act32* xb = x0 + b;
    const v128_t off = wasm_i32x4_splat(8 * xb->bsum);
    const v128_t dx = wasm_v128_load32_splat(&xb->d);
    for (int g = 0; g < 2; g++) {
      const uint8_t* wg = wb + 4 * g * rb;
      wblock v[4];
      v128_t h = wasm_i32x4_splat(0);
      for (int r = 0; r < 4; r++) prepare(RF_Q4_0, wg + r * rb, &v[r]);
      h = wasm_v128_load16_lane(wg, h, 0);
      h = wasm_v128_load16_lane(wg + rb, h, 2);
      h = wasm_v128_load16_lane(wg + 2 * rb, h, 4);
      h = wasm_v128_load16_lane(wg + 3 * rb, h, 6);
      const v128_t isum = wasm_i32x4_sub(block_dots4(v, xb), off);
      const v128_t dd = wasm_f32x4_mul(rf_h2f_x4(h), dx);
      acc[g] = rf_fma(wasm_f32x4_convert_i32x4(isum), dd, acc[g]);
    }
  }
  const float* bias = (const float*)(uintptr_t)a->bias;
  float* y = (float*)(uintptr_t)a->y + t0 * a->ldy + n0;
  for (int g = 0; g < 2; g++) {
    float out[4];
    wasm_v128_store(out, acc[g]);
    for (int r = 0; r < 4; r++) {
      y[4 * g + r] = bias ? out[r] + bias[n0 + 4 * g + r] : out[r];
    }
  }
}
#endif

// True when llama.cpp repacks these weights (Q4_0 with a multiple of 8 rows).
RF_INLINE int uses_rows(const int type, const rf_mm_args* a) {
  return type == RF_Q4_0 && a->n % 8 == 0;
}

RF_INLINE void tile(const int type, const int nt, const rf_mm_args* a, int r0, int r1, int t0) {
  if (uses_rows(type, a)) {
    int n0 = r0;
#if RF_RELAXED
    if (nt == 1) {
      for (; n0 + 8 <= r1; n0 += 8) tile_rows8(a, n0, t0);
    }
#endif
    for (; n0 < r1; n0 += 4) tile_rows(nt, a, n0, r1, t0);
  } else if (nt == 1) {
    tile_lanes_1(type, a, r0, r1, t0);
  } else {
    tile_lanes(type, nt, a, r0, r1, t0);
  }
}

// Q4_0 with a multiple of 8 rows takes RF_ROWS_BIG activation rows per pass first.
#define RF_LEGACY(T, name)                                                                     \
  RF_TILE_FUNCS(T, name, tile)                                                                 \
  __attribute__((noinline)) static void name##_big(const rf_mm_args* a, int r0, int r1,        \
                                                   int t0) {                                   \
    for (int n0 = r0; n0 < r1; n0 += 4) tile_rows(RF_ROWS_BIG, a, n0, r1, t0);                 \
  }                                                                                            \
  static void name(const rf_mm_args* a, int r0, int r1) {                                      \
    int t0 = 0;                                                                                \
    if (uses_rows(T, a)) {                                                                     \
      for (; t0 + RF_ROWS_BIG <= a->t; t0 += RF_ROWS_BIG) name##_big(a, r0, r1, t0);           \
    }                                                                                          \
    rf_tile_passes(name##_tiles, a, r0, r1, t0);                                               \
  }

RF_LEGACY(RF_Q4_0, mm_q4_0)
RF_LEGACY(RF_Q4_1, mm_q4_1)
RF_LEGACY(RF_Q5_0, mm_q5_0)
RF_LEGACY(RF_Q5_1, mm_q5_1)
RF_LEGACY(RF_Q8_0, mm_q8_0)

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
