// act_quant.c: float32 activation rows -> int8-valued blocks (act32 / act256, see rf_wasm.h).
#include "rf_wasm.h"

// How quant32 stores q: int8 natural order, int16 natural order, or int16 permuted (even
// elements then odd ones within every 16, see rf_wasm.h).
enum { Q_I8 = 0, Q_I16 = 1, Q_I16_PERM = 2 };

// Quantizes 32 floats at x with inverse scale id and stores them at q in `mode`. Returns
// their sum; when s16 is given it receives the sums of the two halves, and when l4 is given
// the sums of each 4 consecutive values.
RF_INLINE int32_t quant32(const float* x, float id, void* q, int mode, int16_t* s16,
                          int32_t* l4) {
  const v128_t vid = wasm_f32x4_splat(id);
  v128_t i[8];
  for (int j = 0; j < 8; j++) {
    const v128_t v = wasm_f32x4_nearest(wasm_f32x4_mul(wasm_v128_load(x + 4 * j), vid));
    i[j] = wasm_i32x4_min(wasm_i32x4_trunc_sat_f32x4(v), wasm_i32x4_splat(127));
  }
  for (int h = 0; h < 2; h++) {
    const v128_t a = wasm_i16x8_narrow_i32x4(i[4 * h], i[4 * h + 1]);
    const v128_t b = wasm_i16x8_narrow_i32x4(i[4 * h + 2], i[4 * h + 3]);
    if (mode == Q_I8) {
      wasm_v128_store((int8_t*)q + 16 * h, wasm_i8x16_narrow_i16x8(a, b));
    } else if (mode == Q_I16) {
      wasm_v128_store((int16_t*)q + 16 * h, a);
      wasm_v128_store((int16_t*)q + 16 * h + 8, b);
    } else {
      int16_t* qh = (int16_t*)q + 16 * h;
      wasm_v128_store(qh, wasm_i16x8_shuffle(a, b, 0, 2, 4, 6, 8, 10, 12, 14));
      wasm_v128_store(qh + 8, wasm_i16x8_shuffle(a, b, 1, 3, 5, 7, 9, 11, 13, 15));
    }
  }
  if (l4) {
    for (int j = 0; j < 8; j++) l4[j] = rf_hsum_i32(i[j]);
  }
  const v128_t lo = wasm_i32x4_add(wasm_i32x4_add(i[0], i[1]), wasm_i32x4_add(i[2], i[3]));
  const v128_t hi = wasm_i32x4_add(wasm_i32x4_add(i[4], i[5]), wasm_i32x4_add(i[6], i[7]));
  if (s16) {
    s16[0] = (int16_t)rf_hsum_i32(lo);
    s16[1] = (int16_t)rf_hsum_i32(hi);
  }
  return rf_hsum_i32(wasm_i32x4_add(lo, hi));
}

RF_INLINE float absmax(const float* x, int n) {
  v128_t m = wasm_f32x4_splat(0.f);
  for (int j = 0; j < n; j += 4) m = wasm_f32x4_max(m, wasm_f32x4_abs(wasm_v128_load(x + j)));
  const float a = wasm_f32x4_extract_lane(m, 0), b = wasm_f32x4_extract_lane(m, 1);
  const float c = wasm_f32x4_extract_lane(m, 2), d = wasm_f32x4_extract_lane(m, 3);
  const float ab = a > b ? a : b, cd = c > d ? c : d;
  return ab > cd ? ab : cd;
}

// t rows of k floats (row stride k) -> t act32 rows (see rf_wasm.h), as llama.cpp's x86
// quantize_row_q8_0 / q8_1: d = amax / 127 (stored as a half), q = round-to-even(x * id)
// with id = 127 / amax (not 1 / d: the two differ in the last bit for some amax, which moves
// a rounding), and Q8_1's s = half(d * sum of q) with the unrounded d.
static void quantize_act32(const float* x, rf_act32* y, int k, int t) {
  const int nb = k / 32;
  for (int r = 0; r < t; r++) {
    for (int b = 0; b < nb; b++) {
      const float* xb = x + (int64_t)r * k + 32 * b;
      rf_act32* yb = y + (int64_t)r * nb + b;
      const float amax = absmax(xb, 32);
      const float d = amax / 127.f;
      const float id = amax != 0.f ? 127.f / amax : 0.f;
      yb->d = rf_h2f(rf_f2h(d));
      const int32_t sum = quant32(xb, id, yb->q, RF_RELAXED ? Q_I8 : Q_I16, 0, yb->lsum);
      yb->bsum = sum;
      yb->pad = 0;
      yb->s = rf_h2f(rf_f2h(d * (float)sum));
    }
  }
}

// t rows of k floats -> t rows of k/256 act256 blocks, as llama.cpp's Q8_K: with `max` the
// first value of largest magnitude, iscale = -127 / max, d = 1 / iscale,
// q = min(127, round-to-even(iscale * x)).
static void quantize_act256(const float* x, rf_act256* y, int k, int t) {
  const int nb = k / 256;
  for (int r = 0; r < t; r++) {
    for (int b = 0; b < nb; b++) {
      const float* xb = x + (int64_t)r * k + 256 * b;
      rf_act256* yb = y + (int64_t)r * nb + b;
      const float amax = absmax(xb, 256);
      for (int j = 0; j < 6; j++) yb->pad[j] = 0;
      float max = 0.f;
      for (int j = 0; amax != 0.f && j < 256; j++) {
        if (xb[j] == amax || xb[j] == -amax) {
          max = xb[j];
          break;
        }
      }
      const float iscale = amax != 0.f ? -127.f / max : 0.f;
      yb->d = amax != 0.f ? 1.f / iscale : 0.f;
      for (int j = 0; j < 8; j++) {
        yb->bsum[j] = (int16_t)quant32(xb + 32 * j, iscale, yb->q + 32 * j,
                                       RF_RELAXED ? Q_I8 : Q_I16_PERM, yb->bsum16 + 2 * j, 0);
      }
    }
  }
}

// Bytes of one quantized activation row of k values for weights of `type`.
RF_EXPORT(rf_act_row_bytes)
int rf_act_row_bytes(int type, int k) {
  if (type == RF_Q3_K || type == RF_Q4_K || type == RF_Q5_K || type == RF_Q6_K) {
    return (k / 256) * (int)sizeof(rf_act256);
  }
  return (k / 32) * (int)sizeof(rf_act32);
}

// t rows of k floats -> t quantized activation rows for weights of `type` (a quantized type
// with a matrix kernel), each rf_act_row_bytes(type, k) bytes.
RF_EXPORT(rf_quantize_act)
void rf_quantize_act(int type, const float* x, uint8_t* y, int k, int t) {
  if (type == RF_Q3_K || type == RF_Q4_K || type == RF_Q5_K || type == RF_Q6_K) {
    quantize_act256(x, (rf_act256*)y, k, t);
  } else {
    quantize_act32(x, (rf_act32*)y, k, t);
  }
}

// Rounds n floats in place to half precision (llama.cpp's F16 activations).
RF_EXPORT(rf_round_f16)
void rf_round_f16(float* x, int n) {
  for (int i = 0; i < n; i++) x[i] = rf_h2f(rf_f2h(x[i]));
}

// Rounds n floats in place to bfloat16 precision, round to nearest even (ggml's conversion).
RF_EXPORT(rf_round_bf16)
void rf_round_bf16(float* x, int n) {
  for (int i = 0; i < n; i++) {
    uint32_t u = rf_bits(x[i]);
    if ((u & 0x7fffffffu) > 0x7f800000u) u = (u >> 16 | 64u) << 16;
    else u = ((u + 0x7fffu + ((u >> 16) & 1u)) >> 16) << 16;
    x[i] = rf_as_float(u);
  }
}
