// rf_wasm.h: shared definitions of the WebAssembly SIMD CPU kernels.
//
// Activations are quantized to int8 values before the integer dot products (llama.cpp's
// scheme): x[i] ~= d * q[i], |q| <= 127. Two builds of these sources exist:
// - plain SIMD (RF_RELAXED 0): q is stored widened to int16 and products use
//   i32x4.dot_i16x8_s. act32 rows keep natural order; in act256 rows, within every 16
//   values the order is permuted to the 8 even ones then the 8 odd ones (a 16-byte weight
//   vector read as u16 lanes holds element 2j in the low byte and 2j+1 in the high byte of
//   lane j, so shifts and masks give the matching even and odd vectors without a shuffle).
// - relaxed SIMD (RF_RELAXED 1): q stays int8 in natural order and products use the relaxed
//   int8 dot instructions with the weight codes (unsigned, < 128) as the 7-bit operand;
//   weight offsets are applied through sums of q.
// Formats (a row of k values):
//   act32:  nb = k/32 blocks rf_act32 { float d (the half-rounded scale); float s
//           (half-rounded d * sum of q, llama.cpp's Q8_1 "s"); int32 bsum (sum of q); pad;
//           int32 lsum[8] (sums of q over elements 4j..4j+3); q[32] }, one after another so
//           that a kernel walks each activation row with one pointer
//   act256: nb = k/256 blocks { float d; i16 bsum[8] (per 32); i16 bsum16[16] (per 16);
//           pad; q[256] }
// Weights stay in their GGUF (ggml) block layouts.
#pragma once
#include <stdint.h>
#include <wasm_simd128.h>

#ifndef RF_RELAXED
#define RF_RELAXED 0
#endif

#if RF_RELAXED
// Placeholders for relaxed-SIMD instructions clang 14 cannot emit; scripts/build_wasm.ts
// replaces every call with the instruction (see scripts/_wasm_relaxed.ts) and drops the
// imports.
// i16x8.relaxed_dot_i8x16_i7x16_s(a, b): sums of 2 products a (int8) * b (< 128).
__attribute__((import_module("rf_relaxed"), import_name("dot_i8x16_i7x16_s"))) v128_t
rf_relaxed_dot_i8x16_i7x16_s(v128_t a, v128_t b);
// f32x4.relaxed_madd(a, b, c) = a * b + c, fused where the CPU has FMA (x86-64 with FMA3,
// ARM64), which is what the llama.cpp builds this engine is checked against do.
__attribute__((import_module("rf_relaxed"), import_name("madd"))) v128_t
rf_relaxed_madd(v128_t a, v128_t b, v128_t c);
#endif

#define RF_INLINE static inline __attribute__((always_inline))
#define RF_EXPORT(name) __attribute__((export_name(#name), visibility("default")))

typedef struct {
  float d;
  float s;
  int32_t bsum;
  int32_t pad;
  int32_t lsum[8];
#if RF_RELAXED
  int8_t q[32];
#else
  int16_t q[32];
#endif
} rf_act32;

typedef struct {
  float d;
  int16_t bsum[8];    // sums of q over each 32-element sub-block
  int16_t bsum16[16]; // sums of q over each 16-element sub-block
  int16_t pad[6];
#if RF_RELAXED
  int8_t q[256];
#else
  int16_t q[256];
#endif
} rf_act256;

// ggml type ids and block bytes (generated from the type schema).
#include "rf_types.gen.h"

// One matrix product: y[t*ldy + n] = dot(W row n, x row t) (+ bias[n]), n in [r0, r1).
typedef struct {
  int32_t type;       // ggml type of W
  uint32_t w;         // address of W (rows of row_bytes bytes)
  int32_t row_bytes;  // bytes per row of W
  int32_t k;          // row length (elements)
  int32_t n;          // rows of W
  uint32_t x;         // address of the activations (act32/act256 blocks or float32 rows)
  int32_t x_stride;   // bytes per activation row
  int32_t t;          // activation rows
  uint32_t y;         // address of the float32 output
  int32_t ldy;        // output row stride (elements)
  uint32_t bias;      // address of float32 bias[n], or 0
} rf_mm_args;

// A row-wise element op over rows of `cols` values (see elementwise.c).
typedef struct {
  int32_t kind;  // 1: out = silu(a) * b (SwiGLU); 2: out = RMSNorm(a) * w
  uint32_t a;
  uint32_t b;
  uint32_t w;
  uint32_t out;
  int32_t cols;
  float eps;
} rf_rows_args;

// Causal attention of t query rows, optionally windowed and with sinks (see attention.c).
typedef struct {
  uint32_t q;        // [t][n_head * head_dim] floats
  uint32_t k;        // cache [capacity][n_head_kv * head_dim] floats (half-rounded)
  uint32_t v;        // cache [capacity][n_head_kv * value_dim] floats (half-rounded)
  uint32_t out;      // [t][n_head * value_dim] floats
  int32_t t;         // query rows
  int32_t pos0;      // position of the first query row
  int32_t n_head;
  int32_t n_head_kv;
  int32_t head_dim;  // <= 512
  int32_t value_dim; // <= 512
  float scale;
  int32_t window;    // a query at position p sees keys p - window + 1..p; 0: all
  uint32_t sinks;    // [n_head] sink logits (gpt-oss), or 0: none
} rf_attn_args;

// Vector constants read from memory (defined in pool.c, so the compiler cannot fold them):
// V8 rebuilds a v128.const with several instructions at every use, even inside a loop,
// where a load from this table is one instruction.
typedef struct {
  v128_t m4;        // i8x16 0x0f
  v128_t one16;     // i16x8 1
  v128_t h_em;      // i32x4 0x7fff
  v128_t h_mul;     // f32x4 0x1p112
  v128_t h_big;     // i32x4 0x7bff (the largest finite half's magnitude bits)
  v128_t f_inf;     // i32x4 0x7f800000
  v128_t h_sign;    // i32x4 0x8000
  v128_t f_sign;    // i32x4 0x80000000
  v128_t f_abs;     // i32x4 0x7fffffff
  v128_t one32;     // i32x4 1
  v128_t r_bias;    // i32x4 0xfff
  v128_t r_mask;    // i32x4 0xffffe000
  v128_t h_max;     // i32x4 0x477ff000 (floats from here round past the largest half)
  v128_t h_min;     // i32x4 0x38800000 (2^-14, the smallest normal half)
  v128_t zero;      // all zero bits: a compare against it stays one instruction (clang
                    // turns x < splat(0) into an arithmetic shift, which V8 lowers to five)
} rf_vconsts;
extern const rf_vconsts rf_k;

// Every half as a float, filled by rf_init (pool.c): one load instead of a conversion.
extern float rf_h2f_tab[65536];
#define rf_half(h) (rf_h2f_tab[(uint16_t)(h)])

RF_INLINE float rf_as_float(uint32_t u);
RF_INLINE float rf_h2f(uint16_t h);

RF_INLINE float rf_as_float(uint32_t u) {
  union {
    uint32_t u;
    float f;
  } v = {u};
  return v.f;
}

// IEEE half -> float, exact (subnormals, inf and NaN included).
RF_INLINE float rf_h2f(uint16_t h) {
  const uint32_t em = h & 0x7fffu;
  float f = rf_as_float(em << 13) * 0x1p112f;
  if (em >= 0x7c00u) f = rf_as_float((em << 13) | 0x7f800000u);
  return (h & 0x8000u) ? -f : f;
}

RF_INLINE uint32_t rf_bits(float f) {
  union {
    float f;
    uint32_t u;
  } v = {f};
  return v.u;
}

// float -> IEEE half bits, round to nearest even (ggml's conversion).
RF_INLINE uint16_t rf_f2h(float f) {
  uint32_t x = rf_bits(f);
  const uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
  x &= 0x7fffffffu;
  if (x >= 0x7f800000u) return sign | (x > 0x7f800000u ? 0x7e00u : 0x7c00u);
  if (x >= 0x477ff000u) return sign | 0x7c00u;  // rounds past the largest half
  if (x < 0x38800000u) {                        // below 2^-14: a subnormal half or zero
    return sign | (uint16_t)__builtin_rintf(rf_as_float(x) * 0x1p24f);
  }
  x += 0xfffu + ((x >> 13) & 1u);
  return sign | (uint16_t)((x - (112u << 23)) >> 13);
}

// Unaligned little-endian loads (one wasm load each).
RF_INLINE uint16_t rf_ld16(const uint8_t* p) {
  uint16_t v;
  __builtin_memcpy(&v, p, 2);
  return v;
}
RF_INLINE uint32_t rf_ld32(const uint8_t* p) {
  uint32_t v;
  __builtin_memcpy(&v, p, 4);
  return v;
}

// Four halves (in the low 16 bits of each u32 lane) -> four floats, exact. Finite halves
// (subnormals too) are em << 13 times 2^112. For inf / NaN (em >= 0x7c00) that product is
// 2^16 * (1 + m / 1024), bits 0x47800000 | m << 13, and or-ing in 0x7f800000 gives the
// float inf / NaN 0x7f800000 | m << 13 (a greater-than and an and, where a select costs
// three more instructions on x86).
RF_INLINE v128_t rf_h2f_x4(v128_t h) {
  const v128_t em = wasm_v128_and(h, rf_k.h_em);
  const v128_t f = wasm_f32x4_mul(wasm_i32x4_shl(em, 13), rf_k.h_mul);
  const v128_t special = wasm_v128_and(wasm_i32x4_gt(em, rf_k.h_big), rf_k.f_inf);
  return wasm_v128_or(wasm_v128_or(f, special), wasm_i32x4_shl(wasm_v128_and(h, rf_k.h_sign), 16));
}

RF_INLINE float rf_hsum_f32(v128_t v) {
  return wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1) +
         wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3);
}

RF_INLINE int32_t rf_hsum_i32(v128_t v) {
  return wasm_i32x4_extract_lane(v, 0) + wasm_i32x4_extract_lane(v, 1) +
         wasm_i32x4_extract_lane(v, 2) + wasm_i32x4_extract_lane(v, 3);
}

// a * b + c per lane with one rounding (fused multiply-add), as llama.cpp's x86 and ARM
// kernels accumulate. The plain build computes it in float64: a * b is exact there, so the
// result is rounded twice (to float64, then float32), which can differ from the fused
// result only when the float64 sum lands exactly halfway between two floats.
RF_INLINE v128_t rf_fma(v128_t a, v128_t b, v128_t c) {
#if RF_RELAXED && defined(RF_NOFMA)
  return wasm_f32x4_add(wasm_f32x4_mul(a, b), c);
#elif RF_RELAXED
  return rf_relaxed_madd(a, b, c);
#else
  const v128_t a2 = wasm_i32x4_shuffle(a, a, 2, 3, 2, 3);
  const v128_t b2 = wasm_i32x4_shuffle(b, b, 2, 3, 2, 3);
  const v128_t c2 = wasm_i32x4_shuffle(c, c, 2, 3, 2, 3);
  const v128_t lo = wasm_f64x2_add(
      wasm_f64x2_mul(wasm_f64x2_promote_low_f32x4(a), wasm_f64x2_promote_low_f32x4(b)),
      wasm_f64x2_promote_low_f32x4(c));
  const v128_t hi = wasm_f64x2_add(
      wasm_f64x2_mul(wasm_f64x2_promote_low_f32x4(a2), wasm_f64x2_promote_low_f32x4(b2)),
      wasm_f64x2_promote_low_f32x4(c2));
  return wasm_i32x4_shuffle(wasm_f32x4_demote_f64x2_zero(lo), wasm_f32x4_demote_f64x2_zero(hi),
                            0, 1, 4, 5);
#endif
}

// a * b + c with one rounding, for single values.
RF_INLINE float rf_fmaf(float a, float b, float c) {
  return wasm_f32x4_extract_lane(
      rf_fma(wasm_f32x4_splat(a), wasm_f32x4_splat(b), wasm_f32x4_splat(c)), 0);
}

// Sum of 8 float lanes (lo = lanes 0..3, hi = 4..7) in llama.cpp's hsum_float_8 order:
// r = hi + lo, then (r0 + r2) + (r1 + r3).
RF_INLINE float rf_hsum8(v128_t lo, v128_t hi) {
  const v128_t r = wasm_f32x4_add(hi, lo);
  return (wasm_f32x4_extract_lane(r, 0) + wasm_f32x4_extract_lane(r, 2)) +
         (wasm_f32x4_extract_lane(r, 1) + wasm_f32x4_extract_lane(r, 3));
}

// Sum of 16 float lanes (v[0] = lanes 0..3, ...) as _mm512_reduce_add_ps compiled by GCC:
// the two halves added (8 lanes), then rf_hsum8.
RF_INLINE float rf_hsum16(const v128_t* v) {
  return rf_hsum8(wasm_f32x4_add(v[2], v[0]), wasm_f32x4_add(v[3], v[1]));
}

// The reduction of ggml_vec_dot_f32 / _f16 (AVX512 builds) over its 4 accumulators of 16
// lanes (acc[4 j + q] = lanes 4q..4q+3 of accumulator j): (a0 + a2) + (a1 + a3) lane by
// lane, then rf_hsum16.
RF_INLINE float rf_vec_dot_reduce(const v128_t* acc) {
  v128_t r[4];
  for (int q = 0; q < 4; q++) {
    r[q] = wasm_f32x4_add(wasm_f32x4_add(acc[q], acc[8 + q]), wasm_f32x4_add(acc[4 + q], acc[12 + q]));
  }
  return rf_hsum16(r);
}

// Dot of 16 values: even lanes e and odd lanes o (i16) against 16 permuted activations at x.
RF_INLINE v128_t rf_dot16(v128_t e, v128_t o, const int16_t* x) {
  return wasm_i32x4_add(wasm_i32x4_dot_i16x8(e, wasm_v128_load(x)),
                        wasm_i32x4_dot_i16x8(o, wasm_v128_load(x + 8)));
}

// A matrix kernel pass over rows [r0, r1) and activation rows [t0, t0 + nt).
typedef void (*rf_tile_fn)(const rf_mm_args* a, int r0, int r1, int t0);

// Defines name##_1 .. name##_4 calling tile(T, nt, ...) for nt = 1..4 and the table
// name##_tiles of them: one function per activation-row count, so that V8 allocates the
// registers of each inner loop on its own (one function holding all four inlined passes
// measured up to 1.5x slower).
#define RF_TILE_FUNCS(T, name, tile)                                                         \
  __attribute__((noinline)) static void name##_1(const rf_mm_args* a, int r0, int r1,        \
                                                 int t0) {                                   \
    tile(T, 1, a, r0, r1, t0);                                                               \
  }                                                                                          \
  __attribute__((noinline)) static void name##_2(const rf_mm_args* a, int r0, int r1,        \
                                                 int t0) {                                   \
    tile(T, 2, a, r0, r1, t0);                                                               \
  }                                                                                          \
  __attribute__((noinline)) static void name##_3(const rf_mm_args* a, int r0, int r1,        \
                                                 int t0) {                                   \
    tile(T, 3, a, r0, r1, t0);                                                               \
  }                                                                                          \
  __attribute__((noinline)) static void name##_4(const rf_mm_args* a, int r0, int r1,        \
                                                 int t0) {                                   \
    tile(T, 4, a, r0, r1, t0);                                                               \
  }                                                                                          \
  static const rf_tile_fn name##_tiles[5] = {0, name##_1, name##_2, name##_3, name##_4};

// Activation rows [t0, t) in passes of 4 (and one of the rest) through tiles[].
RF_INLINE void rf_tile_passes(const rf_tile_fn* tiles, const rf_mm_args* a, int r0, int r1,
                              int t0) {
  for (; t0 + 4 <= a->t; t0 += 4) tiles[4](a, r0, r1, t0);
  if (a->t > t0) tiles[a->t - t0](a, r0, r1, t0);
}

// Matrix kernels, one per weight family; each handles rows [r0, r1).
void rf_mm_legacy(const rf_mm_args* a, int r0, int r1);
void rf_mm_kquant(const rf_mm_args* a, int r0, int r1);
void rf_mm_q3k(const rf_mm_args* a, int r0, int r1);
void rf_mm_mxfp4(const rf_mm_args* a, int r0, int r1);
void rf_mm_float(const rf_mm_args* a, int r0, int r1);
// Rows [r0, r1) of a row-wise element op.
void rf_rows_range(const rf_rows_args* a, int r0, int r1);
void rf_swiglu(const float* gate, const float* up, float* out, int rows, int cols);
void rf_rms_norm(const float* x, const float* w, float* out, int rows, int cols, float eps);
// Rows [r0, r1) of a streaming read (stream.c).
void rf_stream_range(const rf_mm_args* a, int r0, int r1);
// Attention work items [i0, i1) (item i: query row i / n_head, head i % n_head).
void rf_attention_range(const rf_attn_args* a, int i0, int i1);
