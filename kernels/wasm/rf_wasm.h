// rf_wasm.h: shared definitions of the WebAssembly SIMD CPU kernels.
//
// Activations are quantized to int8 values before the integer dot products (llama.cpp's
// scheme): x[i] ~= d * q[i], |q| <= 127. Two builds of these sources exist:
// - plain SIMD (RF_RELAXED 0): q is stored widened to int16 and products use
//   i32x4.dot_i16x8_s. Within every 16 values the order is permuted to the 8 even ones then
//   the 8 odd ones: a 16-byte weight vector read as u16 lanes holds element 2j in the low
//   byte and 2j+1 in the high byte of lane j, so shifts and masks give the matching even
//   and odd vectors without a shuffle.
// - relaxed SIMD (RF_RELAXED 1): q stays int8 in natural order and products use
//   i32x4.relaxed_dot_i8x16_i7x16_add_s with the weight codes (unsigned, < 128) as the
//   7-bit operand; weight offsets are applied through the sums of q. Q8_0 weights (signed)
//   keep the int16 path.
// Formats (a row of k values):
//   act32:  { float d[nb]; float s[nb] (= d * sum of the block's q); q[nb][32] }, nb = k/32
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
// Placeholder for i32x4.relaxed_dot_i8x16_i7x16_add_s(a, b, c), which clang 14 cannot emit:
// scripts/build_wasm.ts replaces every call with the instruction and drops the import.
__attribute__((import_module("rf_relaxed"), import_name("dot_i8x16_i7x16_add_s"))) v128_t
rf_relaxed_dot_i8x16_i7x16_add_s(v128_t a, v128_t b, v128_t c);
// sum over lanes of a (signed int8) times b (unsigned int8 < 128), 4 products per i32 lane,
// added to c.
#define rf_rdot(a, b, c) rf_relaxed_dot_i8x16_i7x16_add_s((a), (b), (c))
#endif

#define RF_INLINE static inline __attribute__((always_inline))
#define RF_EXPORT(name) __attribute__((export_name(#name), visibility("default")))

// True when act32 rows for weights of `type` hold int8 q (relaxed build, not Q8_0).
#define RF_ACT32_I8(type) (RF_RELAXED && (type) != 8)

// Bytes of one act32 row of nb blocks; parts start at 0 (d), 4 nb (s) and 8 nb (q).
#define RF_ACT32_ROW_BYTES(nb, i8) ((nb) * ((i8) ? 40 : 72))

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

// ggml type ids used here.
enum {
  RF_F32 = 0,
  RF_F16 = 1,
  RF_Q4_0 = 2,
  RF_Q4_1 = 3,
  RF_Q5_0 = 6,
  RF_Q5_1 = 7,
  RF_Q8_0 = 8,
  RF_Q4_K = 12,
  RF_Q5_K = 13,
  RF_Q6_K = 14,
  RF_BF16 = 30,
};

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

// Causal attention of t query rows (see attention.c).
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
} rf_attn_args;

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

RF_INLINE uint16_t rf_ld16(const uint8_t* p) { return (uint16_t)(p[0] | (p[1] << 8)); }
RF_INLINE uint32_t rf_ld32(const uint8_t* p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

// Four halves (in the low 16 bits of each u32 lane) -> four floats, exact.
RF_INLINE v128_t rf_h2f_x4(v128_t h) {
  const v128_t em = wasm_v128_and(h, wasm_i32x4_splat(0x7fff));
  const v128_t bits = wasm_i32x4_shl(em, 13);
  v128_t f = wasm_f32x4_mul(bits, wasm_f32x4_splat(0x1p112f));
  const v128_t special = wasm_i32x4_ge(em, wasm_i32x4_splat(0x7c00));
  f = wasm_v128_bitselect(wasm_v128_or(bits, wasm_i32x4_splat(0x7f800000)), f, special);
  return wasm_v128_or(f, wasm_i32x4_shl(wasm_v128_and(h, wasm_i32x4_splat(0x8000)), 16));
}

RF_INLINE float rf_hsum_f32(v128_t v) {
  return wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1) +
         wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3);
}

RF_INLINE int32_t rf_hsum_i32(v128_t v) {
  return wasm_i32x4_extract_lane(v, 0) + wasm_i32x4_extract_lane(v, 1) +
         wasm_i32x4_extract_lane(v, 2) + wasm_i32x4_extract_lane(v, 3);
}

// Dot of 16 values: even lanes e and odd lanes o (i16) against 16 permuted activations at x.
RF_INLINE v128_t rf_dot16(v128_t e, v128_t o, const int16_t* x) {
  return wasm_i32x4_add(wasm_i32x4_dot_i16x8(e, wasm_v128_load(x)),
                        wasm_i32x4_dot_i16x8(o, wasm_v128_load(x + 8)));
}

// Matrix kernels, one per weight family; each handles rows [r0, r1).
void rf_mm_legacy(const rf_mm_args* a, int r0, int r1);
void rf_mm_kquant(const rf_mm_args* a, int r0, int r1);
void rf_mm_float(const rf_mm_args* a, int r0, int r1);
// Attention work items [i0, i1) (item i: query row i / n_head, head i % n_head).
void rf_attention_range(const rf_attn_args* a, int i0, int i1);
