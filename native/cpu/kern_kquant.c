// kern_kquant.c: Q4_K, Q5_K and Q6_K products (see kern_table.c).
#include "rf_cpu_kern.h"

// ---- Q4_K ---------------------------------------------------------------------------------

// The 6-bit scales and minimums of a Q4_K super-block (bytes 4..15).
RF_INLINE void q4k_scales(const uint8_t* q, int* sc, int* mn) {
  for (int j = 0; j < 8; j++) {
    if (j < 4) {
      sc[j] = q[j] & 63;
      mn[j] = q[j + 4] & 63;
    } else {
      sc[j] = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
      mn[j] = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
  }
}

// Q4_K with a multiple of 8 rows is computed in the float steps of llama.cpp's repacked
// q4_K_8x8 gemm / gemv (ops/matmul_q4k.ts, kernels/wasm/mm_kquant.c): per output acc =
// fma(dot, d * dx, acc) and accm = fma(mins dot, dmin * dx, accm), one term per 64-element
// pair of sub-blocks for the gemm rows (the passes of 4 activation rows, pairs = 1) and one
// per super-block for the gemv rows (the rest); the output is acc - accm.
// Q4_K with a multiple of 8 rows, repacked by rf_cpu_repack into groups of 8 interleaved rows
// (1184 bytes per group super-block, see rf_cpu_api.c): rows [8 grp, 8 grp + 8) in the lanes
// of one vector against activation rows [t0, t0 + C), in the float steps of q4k_rep_tile.
RF_INLINE void q4k_rows_tile(const int C, const int pairs, const rf_cpu_mm* a, int grp,
                             int t0) {
  const int nb = a->k / 256;
  const uint8_t* gp = a->w + (int64_t)grp * nb * 1184;
  const rf_cpu_act256* x0 = (const rf_cpu_act256*)act_row(a, t0);
  const int64_t xs = a->x_stride / (int64_t)sizeof(rf_cpu_act256);
  const __m256i m4 = _mm256_set1_epi8(0xF);
  __m256 acc[4], accm[4];
  for (int c = 0; c < C; c++) acc[c] = accm[c] = _mm256_setzero_ps();
  for (int i = 0; i < nb; i++) {
    const uint8_t* p = gp + (int64_t)i * 1184;
    const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)p));
    const __m256 dmw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(p + 16)));
    __m256i S[4], M[4];
    for (int c = 0; c < C; c++) S[c] = M[c] = _mm256_setzero_si256();
    for (int g = 0; g < 4; g++) {
      __m256i d0[4], d1[4];
      for (int c = 0; c < C; c++) d0[c] = d1[c] = _mm256_setzero_si256();
      for (int e = 0; e < 8; e++) {
        const __m256i raw = _mm256_loadu_si256((const __m256i*)(p + 160 + 256 * g + 32 * e));
        const __m256i lo = _mm256_and_si256(raw, m4);
        const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4);
        for (int c = 0; c < C; c++) {
          const int8_t* q = (x0 + c * xs + i)->q + 64 * g + 4 * e;
          int32_t w0, w1;
          memcpy(&w0, q, 4);
          memcpy(&w1, q + 32, 4);
          d0[c] = dot_u8s8(d0[c], lo, _mm256_set1_epi32(w0));
          d1[c] = dot_u8s8(d1[c], hi, _mm256_set1_epi32(w1));
        }
      }
      const __m256i sc0 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i*)(p + 32 + 16 * g)));
      const __m256i sc1 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i*)(p + 40 + 16 * g)));
      const __m256i mn0 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i*)(p + 96 + 16 * g)));
      const __m256i mn1 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i*)(p + 104 + 16 * g)));
      for (int c = 0; c < C; c++) {
        const rf_cpu_act256* y = x0 + c * xs + i;
        const __m256i s = _mm256_add_epi32(_mm256_mullo_epi32(d0[c], sc0),
                                           _mm256_mullo_epi32(d1[c], sc1));
        const __m256i b0 = _mm256_set1_epi32(y->bsums[4 * g] + y->bsums[4 * g + 1]);
        const __m256i b1 = _mm256_set1_epi32(y->bsums[4 * g + 2] + y->bsums[4 * g + 3]);
        const __m256i m = _mm256_add_epi32(_mm256_mullo_epi32(mn0, b0), _mm256_mullo_epi32(mn1, b1));
        if (pairs) {
          const __m256 dx = _mm256_broadcast_ss(&y->d);
          acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(dw, dx), acc[c]);
          accm[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(m), _mm256_mul_ps(dmw, dx), accm[c]);
        } else {
          S[c] = _mm256_add_epi32(S[c], s);
          M[c] = _mm256_add_epi32(M[c], m);
        }
      }
    }
    if (!pairs) {
      for (int c = 0; c < C; c++) {
        const __m256 dx = _mm256_broadcast_ss(&(x0 + c * xs + i)->d);
        acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(S[c]), _mm256_mul_ps(dw, dx), acc[c]);
        accm[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(M[c]), _mm256_mul_ps(dmw, dx), accm[c]);
      }
    }
  }
  for (int c = 0; c < C; c++) {
    float out[8];
    _mm256_storeu_ps(out, _mm256_sub_ps(acc[c], accm[c]));
    for (int r = 0; r < 8; r++) store(a, t0 + c, 8 * grp + r, out[r]);
  }
}

// Q4_K with a row count not a multiple of 8 (llama.cpp does not repack it): row n against
// activation rows [t0, t0 + C), ggml_vec_dot_q4_K_q8_K's AVX2 steps.
RF_INLINE void q4k_vec_tile(const int C, const rf_cpu_mm* a, int n, int t0) {
  const int nb = a->k / 256;
  const uint8_t* w = a->w + (int64_t)n * a->row_bytes;
  const rf_cpu_act256* x0 = (const rf_cpu_act256*)act_row(a, t0);
  const int64_t xs = a->x_stride / (int64_t)sizeof(rf_cpu_act256);
  const uint32_t kmask1 = 0x3f3f3f3f, kmask2 = 0x0f0f0f0f, kmask3 = 0x03030303;
  const __m256i m4 = _mm256_set1_epi8(0xF);
  __m256 acc[4];
  __m128 acc_m[4];
  for (int c = 0; c < C; c++) {
    acc[c] = _mm256_setzero_ps();
    acc_m[c] = _mm_setzero_ps();
  }
  for (int i = 0; i < nb; i++) {
    const uint8_t* blk = w + (int64_t)i * 144;
    const float xd = h2f(blk), xdmin = h2f(blk + 2);
    uint32_t utmp[4];
    memcpy(utmp, blk + 4, 12);
    utmp[3] = ((utmp[2] >> 4) & kmask2) | (((utmp[1] >> 6) & kmask3) << 4);
    const uint32_t uaux = utmp[1] & kmask1;
    utmp[1] = (utmp[2] & kmask2) | (((utmp[0] >> 6) & kmask3) << 4);
    utmp[2] = uaux;
    utmp[0] &= kmask1;
    const uint8_t* sc8 = (const uint8_t*)utmp;
    const __m256i mins_and_scales =
        _mm256_cvtepu8_epi16(_mm_set_epi32((int)utmp[3], (int)utmp[2], (int)utmp[1], (int)utmp[0]));
    const __m128i mins = _mm256_extracti128_si256(mins_and_scales, 1);
    __m256i sumi[4];
    for (int c = 0; c < C; c++) {
      const rf_cpu_act256* y = x0 + c * xs + i;
      const float dmin = -y->d * xdmin;
      const __m256i q8sums = _mm256_loadu_si256((const __m256i*)y->bsums);
      const __m128i q8s = _mm_hadd_epi16(_mm256_extracti128_si256(q8sums, 0),
                                         _mm256_extracti128_si256(q8sums, 1));
      const __m128i prod = _mm_madd_epi16(mins, q8s);
      acc_m[c] = _mm_fmadd_ps(_mm_set1_ps(dmin), _mm_cvtepi32_ps(prod), acc_m[c]);
      sumi[c] = _mm256_setzero_si256();
    }
    for (int j = 0; j < 4; j++) {
      const __m256i scale_l = _mm256_set1_epi16(sc8[2 * j]);
      const __m256i scale_h = _mm256_set1_epi16(sc8[2 * j + 1]);
      const __m256i q4bits = _mm256_loadu_si256((const __m256i*)(blk + 16 + 32 * j));
      const __m256i q4l = _mm256_and_si256(q4bits, m4);
      const __m256i q4h = _mm256_and_si256(_mm256_srli_epi16(q4bits, 4), m4);
      for (int c = 0; c < C; c++) {
        const int8_t* q8 = (x0 + c * xs + i)->q + 64 * j;
        const __m256i q8l = _mm256_loadu_si256((const __m256i*)q8);
        const __m256i q8h = _mm256_loadu_si256((const __m256i*)(q8 + 32));
        const __m256i p16l = _mm256_madd_epi16(scale_l, _mm256_maddubs_epi16(q4l, q8l));
        const __m256i p16h = _mm256_madd_epi16(scale_h, _mm256_maddubs_epi16(q4h, q8h));
        sumi[c] = _mm256_add_epi32(sumi[c], _mm256_add_epi32(p16l, p16h));
      }
    }
    for (int c = 0; c < C; c++) {
      const float d = (x0 + c * xs + i)->d * xd;
      acc[c] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi[c]), acc[c]);
    }
  }
  for (int c = 0; c < C; c++) {
    __m128 m = acc_m[c];
    m = _mm_add_ps(m, _mm_movehl_ps(m, m));
    m = _mm_add_ss(m, _mm_movehdup_ps(m));
    store(a, t0 + c, n, hsum_float_8(acc[c]) + _mm_cvtss_f32(m));
  }
}


// ---- Q5_K ---------------------------------------------------------------------------------

// Row n against activation rows [t0, t0 + C), ggml_vec_dot_q5_K_q8_K's AVX2 steps (llama.cpp
// does not repack Q5_K): lanes as Q4_K's, the fifth bits from qh, the minimums in one float
// summed with a fused multiply-add (summs += dmin * int, as the compiled C does).
RF_INLINE void q5k_tile(const int C, const rf_cpu_mm* a, int n, int t0) {
  const int nb = a->k / 256;
  const uint8_t* w = a->w + (int64_t)n * a->row_bytes;
  const rf_cpu_act256* x0 = (const rf_cpu_act256*)act_row(a, t0);
  const int64_t xs = a->x_stride / (int64_t)sizeof(rf_cpu_act256);
  const __m256i m4 = _mm256_set1_epi8(0xF);
  __m256 acc[4];
  float summs[4];
  for (int c = 0; c < C; c++) {
    acc[c] = _mm256_setzero_ps();
    summs[c] = 0.f;
  }
  for (int i = 0; i < nb; i++) {
    const uint8_t* blk = w + (int64_t)i * 176;
    const float xd = h2f(blk), xdmin = h2f(blk + 2);
    int sc[8], mn[8];
    q4k_scales(blk + 4, sc, mn);
    const __m256i hbits = _mm256_loadu_si256((const __m256i*)(blk + 16));
    __m256i sumi[4];
    for (int c = 0; c < C; c++) {
      const rf_cpu_act256* y = x0 + c * xs + i;
      int ms = 0;
      for (int j = 0; j < 8; j++) ms += mn[j] * (y->bsums[2 * j] + y->bsums[2 * j + 1]);
      const float dmin = -y->d * xdmin;
      summs[c] = __builtin_fmaf(dmin, (float)ms, summs[c]);
      sumi[c] = _mm256_setzero_si256();
    }
    for (int j = 0; j < 4; j++) {
      const __m256i scale_0 = _mm256_set1_epi16((int16_t)sc[2 * j]);
      const __m256i scale_1 = _mm256_set1_epi16((int16_t)sc[2 * j + 1]);
      const __m256i q5bits = _mm256_loadu_si256((const __m256i*)(blk + 48 + 32 * j));
      const __m256i h0 = _mm256_and_si256(hbits, _mm256_set1_epi8((char)(1 << (2 * j))));
      const __m256i h1 = _mm256_and_si256(hbits, _mm256_set1_epi8((char)(1 << (2 * j + 1))));
      const __m256i q5_0 = _mm256_add_epi8(_mm256_and_si256(q5bits, m4),
                                           _mm256_slli_epi16(_mm256_srli_epi16(h0, 2 * j), 4));
      const __m256i q5_1 = _mm256_add_epi8(_mm256_and_si256(_mm256_srli_epi16(q5bits, 4), m4),
                                           _mm256_slli_epi16(_mm256_srli_epi16(h1, 2 * j + 1), 4));
      for (int c = 0; c < C; c++) {
        const int8_t* q8 = (x0 + c * xs + i)->q + 64 * j;
        const __m256i p0 = _mm256_madd_epi16(
            scale_0, _mm256_maddubs_epi16(q5_0, _mm256_loadu_si256((const __m256i*)q8)));
        const __m256i p1 = _mm256_madd_epi16(
            scale_1, _mm256_maddubs_epi16(q5_1, _mm256_loadu_si256((const __m256i*)(q8 + 32))));
        sumi[c] = _mm256_add_epi32(sumi[c], _mm256_add_epi32(p0, p1));
      }
    }
    for (int c = 0; c < C; c++) {
      const float d = (x0 + c * xs + i)->d * xd;
      acc[c] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi[c]), acc[c]);
    }
  }
  for (int c = 0; c < C; c++) store(a, t0 + c, n, hsum_float_8(acc[c]) + summs[c]);
}

// ---- Q6_K ---------------------------------------------------------------------------------

// Row n against activation rows [t0, t0 + C), ggml_vec_dot_q6_K_q8_K's AVX2 steps.
RF_INLINE void q6k_tile(const int C, const rf_cpu_mm* a, int n, int t0) {
  const int nb = a->k / 256;
  const uint8_t* w = a->w + (int64_t)n * a->row_bytes;
  const rf_cpu_act256* x0 = (const rf_cpu_act256*)act_row(a, t0);
  const int64_t xs = a->x_stride / (int64_t)sizeof(rf_cpu_act256);
  const __m256i m3 = _mm256_set1_epi8(3);
  const __m256i m15 = _mm256_set1_epi8(15);
  __m256 acc[4];
  for (int c = 0; c < C; c++) acc[c] = _mm256_setzero_ps();
  for (int i = 0; i < nb; i++) {
    const uint8_t* blk = w + (int64_t)i * 210;
    const int8_t* sc = (const int8_t*)(blk + 192);
    const float xd = h2f(blk + 208);
    const __m256i scales_16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i*)sc));
    __m256i sumi[4];
    for (int c = 0; c < C; c++) sumi[c] = _mm256_setzero_si256();
    for (int j = 0; j < 2; j++) {
      const uint8_t* q4 = blk + 64 * j;
      const __m256i q4bits1 = _mm256_loadu_si256((const __m256i*)q4);
      const __m256i q4bits2 = _mm256_loadu_si256((const __m256i*)(q4 + 32));
      const __m256i q4bitsH = _mm256_loadu_si256((const __m256i*)(blk + 128 + 32 * j));
      const __m256i q4h_0 = _mm256_slli_epi16(_mm256_and_si256(q4bitsH, m3), 4);
      const __m256i q4h_1 = _mm256_slli_epi16(_mm256_and_si256(q4bitsH, _mm256_set1_epi8(12)), 2);
      const __m256i q4h_2 = _mm256_and_si256(q4bitsH, _mm256_set1_epi8(48));
      const __m256i q4h_3 = _mm256_srli_epi16(_mm256_and_si256(q4bitsH, _mm256_set1_epi8(-64)), 2);
      __m256i q[4], s[4];
      q[0] = _mm256_or_si256(_mm256_and_si256(q4bits1, m15), q4h_0);
      q[1] = _mm256_or_si256(_mm256_and_si256(q4bits2, m15), q4h_1);
      q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q4bits1, 4), m15), q4h_2);
      q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q4bits2, 4), m15), q4h_3);
      for (int k = 0; k < 4; k++) {
        const int is = 4 * j + k;  // llama.cpp's get_scale_shuffle(is): scales 2is, 2is + 1
        s[k] = _mm256_set_m128i(_mm_set1_epi16(sc[2 * is + 1]), _mm_set1_epi16(sc[2 * is]));
      }
      for (int c = 0; c < C; c++) {
        const int8_t* q8 = (x0 + c * xs + i)->q + 128 * j;
        __m256i p[4];
        for (int k = 0; k < 4; k++) {
          const __m256i q8k = _mm256_loadu_si256((const __m256i*)(q8 + 32 * k));
          p[k] = _mm256_madd_epi16(s[k], _mm256_maddubs_epi16(q[k], q8k));
        }
        sumi[c] = _mm256_add_epi32(sumi[c], _mm256_add_epi32(p[0], p[1]));
        sumi[c] = _mm256_add_epi32(sumi[c], _mm256_add_epi32(p[2], p[3]));
      }
    }
    for (int c = 0; c < C; c++) {
      const rf_cpu_act256* y = x0 + c * xs + i;
      const __m256i q8sums = _mm256_loadu_si256((const __m256i*)y->bsums);
      const __m256i q8sclsub = _mm256_slli_epi32(_mm256_madd_epi16(q8sums, scales_16), 5);
      const __m256i si = _mm256_sub_epi32(sumi[c], q8sclsub);
      const float d = y->d * xd;
      acc[c] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(si), acc[c]);
    }
  }
  for (int c = 0; c < C; c++) store(a, t0 + c, n, hsum_float_8(acc[c]));
}

RF_INLINE void k_pass(const int type, const int C, const rf_cpu_mm* a, int r0, int r1, int t0) {
  if (type == T_Q4_K && a->repacked) {
    for (int n = r0; n < r1; n += 8) q4k_rows_tile(C, C == 4, a, n / 8, t0);
    return;
  }
  for (int n = r0; n < r1; n++) {
    if (type == T_Q6_K) q6k_tile(C, a, n, t0);
    else if (type == T_Q5_K) q5k_tile(C, a, n, t0);
    else q4k_vec_tile(C, a, n, t0);
  }
}

#define K_Q4_K(C, ...) k_pass(T_Q4_K, C, __VA_ARGS__)
#define K_Q5_K(C, ...) k_pass(T_Q5_K, C, __VA_ARGS__)
#define K_Q6_K(C, ...) k_pass(T_Q6_K, C, __VA_ARGS__)
PASSES4(kq4, K_Q4_K)
PASSES4(kq5, K_Q5_K)
PASSES4(kq6, K_Q6_K)

static const pass_fn KQ4_FNS[5] = {0, kq4_1, kq4_2, kq4_3, kq4_4};
static const pass_fn KQ5_FNS[5] = {0, kq5_1, kq5_2, kq5_3, kq5_4};
static const pass_fn KQ6_FNS[5] = {0, kq6_1, kq6_2, kq6_3, kq6_4};

void RF_K(mm_kquant)(const rf_cpu_mm* a, int r0, int r1) {
  run_passes(a->type == T_Q4_K ? KQ4_FNS : a->type == T_Q5_K ? KQ5_FNS : KQ6_FNS, a, r0, r1, 0);
}
