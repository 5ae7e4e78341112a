// mm_kquant.c: matrix products of Q4_K, Q5_K and Q6_K weights with act256 rows. Integer
// sub-block sums are scaled by the integer sub-block scales and kept in int32 across a whole
// super-block, so each super-block costs one float conversion per activation row.
// Q4_K with a multiple of 8 rows sums as llama.cpp's repacked q4_K_8x8 kernels (x86,
// ggml-cpu/arch/x86/repack.cpp), which its AVX2 / AVX512 builds use for those weights: per
// output, acc = fma(float(integer dot), d * dx, acc) and accm = fma(float(integer min dot),
// dmin * dx, accm), and the output is acc - accm. Its gemm, which takes the first
// t - t % 4 activation rows of a product, adds each 64-element pair of sub-blocks
// (RF_Q4_K_GEMM); its gemv, which takes the other rows (and every row of an expert product),
// each whole super-block (RF_Q4_K_ROWS). Q5_K and Q6_K sum as its ggml_vec_dot_q5_K_q8_K /
// _q6_K_q8_K (x86 AVX2 / AVX512): eight int32 lanes per output, lane L the scaled dot of
// elements 4L..4L+3 of every 32-element group (Q6_K: unsigned codes, minus 32 times the
// scaled activation sums of group L), then acc_L = fma(d * dx, float(lane L), acc_L) per
// super-block and rf_hsum8 (Q5_K: plus the fused sum of -dmin * dx times the minimums).
// Q4_K with other row counts keeps four float lanes per output.
#include "rf_wasm.h"

// Q4_K in the repacked summation orders (pseudo type ids: the low byte is the ggml type).
#define RF_Q4_K_ROWS (RF_Q4_K | 0x100)
#define RF_Q4_K_GEMM (RF_Q4_K | 0x200)
// True for both repacked orders (one float sum per output, minimums apart).
#define RF_REPACKED(type) ((type) >> 8 != 0)

RF_INLINE int block_bytes(const int type) {
  return (type & 0xff) == RF_Q4_K ? RF_BLOCK_BYTES_Q4_K
       : type == RF_Q5_K ? RF_BLOCK_BYTES_Q5_K
                         : RF_BLOCK_BYTES_Q6_K;
}

// Start of a Q4_K / Q5_K super-block (both builds): its 8 sub-block scales into sc, and the
// min term, which needs only the activation sub-block sums: subtracted from macc[i], or in
// the repacked order (RF_Q4_K_ROWS) fused into macc[i] as a positive sum. Returns the
// super-block scale d.
RF_INLINE float q45k_start(const int type, const int nt, const uint8_t* b,
                           const rf_act256** xb, float* macc, int* sc) {
  const float dmin = rf_h2f(rf_ld16(b + 2));
  // the 6-bit scales and mins unpacked four at a time in 32-bit words (llama.cpp's utmp):
  // bytes 0..7 of u are the scales, 8..15 the mins
  uint32_t u[4];
  __builtin_memcpy(u, b + 4, 12);
  u[3] = ((u[2] >> 4) & 0x0f0f0f0f) | (((u[1] >> 6) & 0x03030303) << 4);
  const uint32_t aux = u[1] & 0x3f3f3f3f;
  u[1] = (u[2] & 0x0f0f0f0f) | (((u[0] >> 6) & 0x03030303) << 4);
  u[2] = aux;
  u[0] &= 0x3f3f3f3f;
  const uint8_t* ub = (const uint8_t*)u;
  int mn[8];
  for (int j = 0; j < 8; j++) {
    sc[j] = ub[j];
    mn[j] = ub[8 + j];
  }
  // sum_j mn[j] * bsum[j] of each activation row in one i32x4.dot_i16x8
  const v128_t mins16 = wasm_u16x8_extend_low_u8x16(wasm_v128_load64_zero(ub + 8));
  for (int i = 0; i < nt; i++) {
    if (type != RF_Q4_K_GEMM) {
      const int ms = rf_hsum_i32(wasm_i32x4_dot_i16x8(mins16, wasm_v128_load(xb[i]->bsum)));
      if (type == RF_Q4_K_ROWS) macc[i] = rf_fmaf((float)ms, dmin * xb[i]->d, macc[i]);
      else if (type == RF_Q5_K) macc[i] = rf_fmaf(-(xb[i]->d * dmin), (float)ms, macc[i]);
      else macc[i] -= dmin * xb[i]->d * (float)ms;
      continue;
    }
    {
      for (int g = 0; g < 4; g++) {
        const int ms = mn[2 * g] * xb[i]->bsum[2 * g] + mn[2 * g + 1] * xb[i]->bsum[2 * g + 1];
        macc[i] = rf_fmaf((float)ms, dmin * xb[i]->d, macc[i]);
      }
    }
  }
  return rf_h2f(rf_ld16(b));
}

// End of a Q4_K / Q5_K super-block (or, RF_Q4_K_GEMM, of a pair of sub-blocks): its
// integer sums (four lanes each) scaled into acc[i], as four float lanes, or in the
// repacked orders as one fused sum in lane 0.
RF_INLINE void q45k_finish(const int type, const int nt, const float d, const rf_act256** xb,
                           const v128_t* isum, v128_t* acc) {
  for (int i = 0; i < nt; i++) {
    if (RF_REPACKED(type)) {
      // the integer total into lane 0 (exact in any order), then one fused step there; the
      // other lanes carry values that are never read
      v128_t t = wasm_i32x4_add(isum[i], wasm_i32x4_shuffle(isum[i], isum[i], 2, 3, 2, 3));
      t = wasm_i32x4_add(t, wasm_i32x4_shuffle(t, t, 1, 1, 1, 1));
      acc[i] = rf_fma(wasm_f32x4_convert_i32x4(t), wasm_f32x4_splat(d * xb[i]->d), acc[i]);
    } else if (type == RF_Q5_K || type == RF_Q6_K) {  // eight lanes: acc[i], acc[4 + i]
      const v128_t dd = wasm_f32x4_splat(xb[i]->d * d);
      acc[i] = rf_fma(dd, wasm_f32x4_convert_i32x4(isum[i]), acc[i]);
      acc[4 + i] = rf_fma(dd, wasm_f32x4_convert_i32x4(isum[4 + i]), acc[4 + i]);
    } else {
      acc[i] = wasm_f32x4_add(acc[i], wasm_f32x4_mul(wasm_f32x4_convert_i32x4(isum[i]),
                                                     wasm_f32x4_splat(d * xb[i]->d)));
    }
  }
}

// Q6_K: lane L of eight starts at -32 times the scaled activation sums of 32-element group
// L (llama.cpp's q8sclsub), so that unsigned codes give its lane values.
RF_INLINE void q6k_offsets(const int8_t* scales, const rf_act256* xb, v128_t* lo, v128_t* hi) {
  // lane l of i32x4.dot_i16x8 = sc[2l] * bsum16[2l] + sc[2l + 1] * bsum16[2l + 1]
  const v128_t sc = wasm_v128_load(scales);
  const v128_t d0 = wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(sc), wasm_v128_load(xb->bsum16));
  const v128_t d1 = wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(sc),
                                         wasm_v128_load(xb->bsum16 + 8));
  *lo = wasm_i32x4_sub(wasm_i32x4_splat(0), wasm_i32x4_shl(d0, 5));
  *hi = wasm_i32x4_sub(wasm_i32x4_splat(0), wasm_i32x4_shl(d1, 5));
}

#if RF_RELAXED
// Relaxed-SIMD forms: weight codes as unsigned bytes in natural order, int8 activations.

// Q4_K / Q5_K super-block against nt activation blocks: adds to acc[i] and macc[i].
RF_INLINE void block_q45k(const int type, const int nt, const uint8_t* b, const rf_act256** xb,
                          v128_t* acc, float* macc) {
  int sc[8];
  const float d = q45k_start(type, nt, b, xb, macc, sc);
  const uint8_t* qs = b + ((type & 0xff) == RF_Q4_K ? 16 : 48);
  v128_t qh[2] = {wasm_i32x4_splat(0), wasm_i32x4_splat(0)};
  if (type == RF_Q5_K) {
    qh[0] = wasm_v128_load(b + 16);
    qh[1] = wasm_v128_load(b + 32);
  }
  v128_t isum[8];
  for (int i = 0; i < nt; i++) isum[i] = isum[4 + i] = wasm_i32x4_splat(0);
  const v128_t m4 = rf_k.m4;
  const v128_t one = wasm_i8x16_splat(1);
  for (int g = 0; g < 4; g++) {
    const v128_t q[2] = {wasm_v128_load(qs + 32 * g), wasm_v128_load(qs + 32 * g + 16)};
    for (int h = 0; h < 2; h++) {
      const int j = 2 * g + h;  // sub-block: low nibbles (h = 0) or high nibbles (h = 1)
      v128_t w[2];
      for (int p = 0; p < 2; p++) {
        w[p] = h ? wasm_v128_and(wasm_u16x8_shr(q[p], 4), m4) : wasm_v128_and(q[p], m4);
        if (type == RF_Q5_K) {
          // bit j of qh[l] is the fifth bit of element l of sub-block j
          const v128_t hb = wasm_v128_and(wasm_u16x8_shr(qh[p], j), one);
          w[p] = wasm_v128_or(w[p], wasm_i16x8_shl(hb, 4));
        }
      }
      // int16 pair sums (at most 2 * 2 * 31 * 127 = 15748), scaled and widened in one
      // i32x4.dot_i16x8_s by the sub-block scale
      const v128_t vsc = wasm_i16x8_splat((int16_t)sc[j]);
      for (int i = 0; i < nt; i++) {
        const int8_t* x = xb[i]->q + 32 * j;
        const v128_t p0 = rf_relaxed_dot_i8x16_i7x16_s(wasm_v128_load(x), w[0]);
        const v128_t p1 = rf_relaxed_dot_i8x16_i7x16_s(wasm_v128_load(x + 16), w[1]);
        if (type == RF_Q5_K) {  // elements 0..15 and 16..31 of the sub-block apart
          isum[i] = wasm_i32x4_add(isum[i], wasm_i32x4_dot_i16x8(p0, vsc));
          isum[4 + i] = wasm_i32x4_add(isum[4 + i], wasm_i32x4_dot_i16x8(p1, vsc));
        } else {
          isum[i] = wasm_i32x4_add(isum[i], wasm_i32x4_dot_i16x8(wasm_i16x8_add(p0, p1), vsc));
        }
      }
    }
    if (type == RF_Q4_K_GEMM) {  // llama.cpp's gemm adds each pair of sub-blocks
      q45k_finish(type, nt, d, xb, isum, acc);
      for (int i = 0; i < nt; i++) isum[i] = wasm_i32x4_splat(0);
    }
  }
  if (type != RF_Q4_K_GEMM) q45k_finish(type, nt, d, xb, isum, acc);
}

// Q6_K super-block against nt activation blocks: codes 0..63 are dotted unsigned and the
// offset 32 comes off through the per-16 activation sums.
RF_INLINE void block_q6k(const int nt, const uint8_t* b, const rf_act256** xb, v128_t* acc) {
  const float d = rf_h2f(rf_ld16(b + 208));
  const int8_t* scales = (const int8_t*)(b + 192);
  const v128_t m4 = rf_k.m4;
  const v128_t m3 = wasm_i8x16_splat(3);
  v128_t isum[8];
  for (int i = 0; i < nt; i++) q6k_offsets(scales, xb[i], &isum[i], &isum[4 + i]);
  for (int half = 0; half < 2; half++) {
    const uint8_t* ql = b + 64 * half;
    const uint8_t* qh = b + 128 + 32 * half;
    const int8_t* sc = scales + 8 * half;
    const v128_t l[4] = {wasm_v128_load(ql), wasm_v128_load(ql + 16), wasm_v128_load(ql + 32),
                         wasm_v128_load(ql + 48)};
    const v128_t hv[2] = {wasm_v128_load(qh), wasm_v128_load(qh + 16)};
    for (int g = 0; g < 4; g++) {
      // group g = elements 32g..32g+31 of this half: low 4 bits from ql (g even: bytes 0..31,
      // g odd: 32..63; low nibble for g < 2, high for g >= 2), 2 high bits from qh bits 2g.
      for (int p = 0; p < 2; p++) {  // p: elements 0..15 / 16..31 of the group
        const v128_t lv = l[(g & 1) * 2 + p];
        const v128_t lo = g < 2 ? wasm_v128_and(lv, m4) : wasm_v128_and(wasm_u16x8_shr(lv, 4), m4);
        const v128_t hi = wasm_i16x8_shl(wasm_v128_and(wasm_u16x8_shr(hv[p], 2 * g), m3), 4);
        const v128_t w = wasm_v128_or(lo, hi);
        // int16 pair sums (at most 2 * 63 * 127 = 16002) times the signed sub-block scale
        const v128_t vsc = wasm_i16x8_splat((int16_t)sc[2 * g + p]);
        for (int i = 0; i < nt; i++) {
          const int8_t* x = xb[i]->q + 128 * half + 32 * g + 16 * p;
          const v128_t pd = rf_relaxed_dot_i8x16_i7x16_s(wasm_v128_load(x), w);
          isum[4 * p + i] = wasm_i32x4_add(isum[4 * p + i], wasm_i32x4_dot_i16x8(pd, vsc));
        }
      }
    }
  }
  q45k_finish(RF_Q6_K, nt, d, xb, isum, acc);
}

#else
// Plain-SIMD forms: int16 weights, permuted int16 activations, i32x4.dot_i16x8_s.

// Q4_K / Q5_K super-block against nt activation blocks: adds to acc[i] (float lanes) and
// macc[i] (the min term).
RF_INLINE void block_q45k(const int type, const int nt, const uint8_t* b, const rf_act256** xb,
                          v128_t* acc, float* macc) {
  int sc[8];
  const float d = q45k_start(type, nt, b, xb, macc, sc);
  const uint8_t* qs = b + ((type & 0xff) == RF_Q4_K ? 16 : 48);
  v128_t qh[2] = {wasm_i32x4_splat(0), wasm_i32x4_splat(0)};
  if (type == RF_Q5_K) {
    qh[0] = wasm_v128_load(b + 16);
    qh[1] = wasm_v128_load(b + 32);
  }
  v128_t isum[8];
  for (int i = 0; i < nt; i++) isum[i] = isum[4 + i] = wasm_i32x4_splat(0);
  const v128_t m4 = wasm_i16x8_splat(0x0f);
  const v128_t k16 = wasm_i16x8_splat(0x10);
  for (int g = 0; g < 4; g++) {
    const v128_t q[2] = {wasm_v128_load(qs + 32 * g), wasm_v128_load(qs + 32 * g + 16)};
    for (int h = 0; h < 2; h++) {
      const int j = 2 * g + h;  // sub-block: low nibbles (h = 0) or high nibbles (h = 1)
      const v128_t vsc = wasm_i32x4_splat(sc[j]);
      v128_t e[2], o[2];
      for (int p = 0; p < 2; p++) {
        e[p] = h ? wasm_v128_and(wasm_u16x8_shr(q[p], 4), m4) : wasm_v128_and(q[p], m4);
        o[p] = h ? wasm_u16x8_shr(q[p], 12) : wasm_v128_and(wasm_u16x8_shr(q[p], 8), m4);
        if (type == RF_Q5_K) {
          // bit j of qh[l] is the fifth bit of element l of sub-block j
          const v128_t hb = wasm_i16x8_shl(wasm_v128_and(wasm_u16x8_shr(qh[p], j),
                                                          wasm_i16x8_splat(0x0101)), 4);
          e[p] = wasm_v128_or(e[p], wasm_v128_and(hb, k16));
          o[p] = wasm_v128_or(o[p], wasm_u16x8_shr(hb, 8));
        }
      }
      for (int i = 0; i < nt; i++) {
        const int16_t* x = xb[i]->q + 32 * j;
        const v128_t s0 = rf_dot16(e[0], o[0], x), s1 = rf_dot16(e[1], o[1], x + 16);
        if (type == RF_Q5_K) {  // elements 0..15 and 16..31 of the sub-block apart
          isum[i] = wasm_i32x4_add(isum[i], wasm_i32x4_mul(s0, vsc));
          isum[4 + i] = wasm_i32x4_add(isum[4 + i], wasm_i32x4_mul(s1, vsc));
        } else {
          isum[i] = wasm_i32x4_add(isum[i], wasm_i32x4_mul(wasm_i32x4_add(s0, s1), vsc));
        }
      }
    }
    if (type == RF_Q4_K_GEMM) {  // llama.cpp's gemm adds each pair of sub-blocks
      q45k_finish(type, nt, d, xb, isum, acc);
      for (int i = 0; i < nt; i++) isum[i] = wasm_i32x4_splat(0);
    }
  }
  if (type != RF_Q4_K_GEMM) q45k_finish(type, nt, d, xb, isum, acc);
}

// Q6_K super-block against nt activation blocks.
RF_INLINE void block_q6k(const int nt, const uint8_t* b, const rf_act256** xb, v128_t* acc) {
  const float d = rf_h2f(rf_ld16(b + 208));
  const int8_t* scales = (const int8_t*)(b + 192);
  const v128_t m4 = wasm_i16x8_splat(0x0f);
  const v128_t m3 = wasm_i16x8_splat(3);
  v128_t isum[8];
  for (int i = 0; i < nt; i++) q6k_offsets(scales, xb[i], &isum[i], &isum[4 + i]);
  for (int half = 0; half < 2; half++) {
    const uint8_t* ql = b + 64 * half;
    const uint8_t* qh = b + 128 + 32 * half;
    const int8_t* sc = scales + 8 * half;
    const v128_t l[4] = {wasm_v128_load(ql), wasm_v128_load(ql + 16), wasm_v128_load(ql + 32),
                         wasm_v128_load(ql + 48)};
    const v128_t hv[2] = {wasm_v128_load(qh), wasm_v128_load(qh + 16)};
    for (int g = 0; g < 4; g++) {
      // group g = elements 32g..32g+31 of this half: low 4 bits from ql[l] (g even: l < 32,
      // g odd: l >= 32; low nibble for g < 2, high for g >= 2), 2 high bits from qh bits 2g.
      for (int p = 0; p < 2; p++) {  // p: elements 0..15 / 16..31 of the group
        const v128_t lv = l[(g & 1) * 2 + p];
        const v128_t e_lo = g < 2 ? wasm_v128_and(lv, m4) : wasm_v128_and(wasm_u16x8_shr(lv, 4), m4);
        const v128_t o_lo = g < 2 ? wasm_v128_and(wasm_u16x8_shr(lv, 8), m4) : wasm_u16x8_shr(lv, 12);
        const v128_t e_hi = wasm_i16x8_shl(wasm_v128_and(wasm_u16x8_shr(hv[p], 2 * g), m3), 4);
        const v128_t o_hi = wasm_i16x8_shl(wasm_v128_and(wasm_u16x8_shr(hv[p], 8 + 2 * g), m3), 4);
        const v128_t e = wasm_v128_or(e_lo, e_hi);
        const v128_t o = wasm_v128_or(o_lo, o_hi);
        const v128_t vsc = wasm_i32x4_splat(sc[2 * g + p]);
        for (int i = 0; i < nt; i++) {
          const int16_t* x = xb[i]->q + 128 * half + 32 * g + 16 * p;
          isum[4 * p + i] = wasm_i32x4_add(isum[4 * p + i], wasm_i32x4_mul(rf_dot16(e, o, x), vsc));
        }
      }
    }
  }
  q45k_finish(RF_Q6_K, nt, d, xb, isum, acc);
}

#endif

RF_INLINE void tile(const int type, const int nt, const rf_mm_args* a, int r0, int r1, int t0) {
  const int nb = a->k / 256;
  const int bytes = block_bytes(type);
  const rf_act256* xr[4];
  for (int i = 0; i < nt; i++) {
    xr[i] = (const rf_act256*)(uintptr_t)(a->x + (uint32_t)(t0 + i) * (uint32_t)a->x_stride);
  }
  const float* bias = (const float*)(uintptr_t)a->bias;
  float* y = (float*)(uintptr_t)a->y;
  for (int n = r0; n < r1; n++) {
    const uint8_t* w = (const uint8_t*)(uintptr_t)(a->w + (uint32_t)n * (uint32_t)a->row_bytes);
    v128_t acc[8];  // four float lanes per row, eight (acc[i], acc[4 + i]) for Q5_K / Q6_K
    float macc[4];
    for (int i = 0; i < nt; i++) {
      acc[i] = acc[4 + i] = wasm_f32x4_splat(0.f);
      macc[i] = 0.f;
    }
    for (int b = 0; b < nb; b++) {
      const rf_act256* xb[4];
      for (int i = 0; i < nt; i++) xb[i] = xr[i] + b;
      if (type == RF_Q6_K) block_q6k(nt, w + b * bytes, xb, acc);
      else block_q45k(type, nt, w + b * bytes, xb, acc, macc);
    }
    const float bn = bias ? bias[n] : 0.f;
    for (int i = 0; i < nt; i++) {
      const float v = RF_REPACKED(type) ? wasm_f32x4_extract_lane(acc[i], 0) - macc[i]
                      : type == RF_Q6_K ? rf_hsum8(acc[i], acc[4 + i])
                      : type == RF_Q5_K ? rf_hsum8(acc[i], acc[4 + i]) + macc[i]
                                        : rf_hsum_f32(acc[i]) + macc[i];
      y[(t0 + i) * a->ldy + n] = bias ? v + bn : v;
    }
  }
}

#define RF_KQUANT(T, name)                                               \
  RF_TILE_FUNCS(T, name, tile)                                           \
  static void name(const rf_mm_args* a, int r0, int r1) { rf_tile_passes(name##_tiles, a, r0, r1, 0); }

RF_KQUANT(RF_Q4_K, mm_q4_k)
RF_TILE_FUNCS(RF_Q4_K_ROWS, mm_q4_k_rows, tile)
RF_TILE_FUNCS(RF_Q4_K_GEMM, mm_q4_k_gemm, tile)

// Q4_K in llama.cpp's repacked orders: rows [0, t - t % 4) as its gemm, the rest as its gemv.
static void mm_q4_k_repacked(const rf_mm_args* a, int r0, int r1) {
  const int g = a->t - a->t % 4;
  for (int t0 = 0; t0 < g; t0 += 4) mm_q4_k_gemm_tiles[4](a, r0, r1, t0);
  if (a->t > g) mm_q4_k_rows_tiles[a->t - g](a, r0, r1, g);
}
RF_KQUANT(RF_Q5_K, mm_q5_k)
RF_KQUANT(RF_Q6_K, mm_q6_k)

void rf_mm_kquant(const rf_mm_args* a, int r0, int r1) {
  switch (a->type) {
    case RF_Q4_K:
      // llama.cpp repacks Q4_K weights with a multiple of 8 rows (see the top)
      if (a->n % 8 == 0) mm_q4_k_repacked(a, r0, r1);
      else mm_q4_k(a, r0, r1);
      break;
    case RF_Q5_K: mm_q5_k(a, r0, r1); break;
    case RF_Q6_K: mm_q6_k(a, r0, r1); break;
    default: break;
  }
}
