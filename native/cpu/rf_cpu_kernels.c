// rf_cpu_kernels.c: quantized matrix products and activation quantization, compiled twice
// (RF_VNNI 0: AVX2 + FMA + F16C; RF_VNNI 1: also AVX512BW/VL + AVX512-VNNI, 256-bit vectors
// and 32 of them). The float steps follow llama.cpp's x86 kernels (ggml-cpu/arch/x86/quants.c,
// repack.cpp, llamafile's tinyBLAS), the same arithmetic as kernels/wasm/mm_legacy.c:
// - "lanes" (Q8_0; Q4_0 with a row count not a multiple of 8): eight float accumulators per
//   output, lane j the integer dot of elements 4j..4j+3 of each block, acc = fma(dw * dx,
//   lane, acc) block after block, then hsum_float_8.
// - "rows" (Q4_0 with a multiple of 8 rows, llama.cpp's repacked q4_0_8x8): one accumulator
//   per output, acc = fma(block dot, dw * dx, acc); the weights are interleaved 8 rows at a
//   time by rf_cpu_prepare so that one vector holds 4 elements of each of 8 rows.
// - Q5_K, Q6_K, and Q4_K with a row count not a multiple of 8: ggml_vec_dot_q*_K_q8_K's AVX2 lanes
//   (int32 sums scaled by the sub-block scales, one fma per super-block); Q4_K with a
//   multiple of 8 rows: llama.cpp's repacked q4_K_8x8 sums (see q4k_rep_tile).
// Integer dots are exact in both builds (VNNI's dpbusd or AVX2's maddubs + madd), so both
// give the same bits. Each weight block is decoded once for up to 4 (8) activation rows.
#include "rf_cpu.h"
#include "rf_cpu_simd.h"

#if RF_VNNI
#define KERNELS rf_cpu_kernels_vnni
#define LANES_R 4 // weight rows per "lanes" pass (accumulators: LANES_R x 4)
#define ROWS_C 8  // activation rows per "rows" pass
#else
#define KERNELS rf_cpu_kernels_avx2
#define LANES_R 2
#define ROWS_C 4
#endif

enum { T_Q4_0 = 2, T_Q8_0 = 8, T_Q4_K = 12, T_Q5_K = 13, T_Q6_K = 14 };

// ---- activation quantization ------------------------------------------------------------

// llama.cpp's AVX2 quantize_row_q8_0, plus the sums the kernels use.
static void quant_act32(const float* x, rf_cpu_act32* y, int k, int t) {
  const int nb = k / 32;
  const __m256 sign = _mm256_set1_ps(-0.0f);
  for (int r = 0; r < t; r++) {
    for (int b = 0; b < nb; b++) {
      const float* xb = x + (int64_t)r * k + 32 * b;
      rf_cpu_act32* yb = y + (int64_t)r * nb + b;
      __m256 v0 = _mm256_loadu_ps(xb), v1 = _mm256_loadu_ps(xb + 8);
      __m256 v2 = _mm256_loadu_ps(xb + 16), v3 = _mm256_loadu_ps(xb + 24);
      __m256 m = _mm256_andnot_ps(sign, v0);
      m = _mm256_max_ps(m, _mm256_andnot_ps(sign, v1));
      m = _mm256_max_ps(m, _mm256_andnot_ps(sign, v2));
      m = _mm256_max_ps(m, _mm256_andnot_ps(sign, v3));
      __m128 m4 = _mm_max_ps(_mm256_extractf128_ps(m, 1), _mm256_castps256_ps128(m));
      m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
      m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
      const float amax = _mm_cvtss_f32(m4);
      const float d = amax / 127.f;
      yb->d = _cvtsh_ss(f2h(d));
      const float id = amax != 0.0f ? 127.f / amax : 0.0f;
      const __m256 mul = _mm256_set1_ps(id);
      __m256i i0 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v0, mul), _MM_ROUND_NEAREST));
      __m256i i1 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v1, mul), _MM_ROUND_NEAREST));
      __m256i i2 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v2, mul), _MM_ROUND_NEAREST));
      __m256i i3 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v3, mul), _MM_ROUND_NEAREST));
      i0 = _mm256_packs_epi32(i0, i1);
      i2 = _mm256_packs_epi32(i2, i3);
      i0 = _mm256_packs_epi16(i0, i2);
      i0 = _mm256_permutevar8x32_epi32(i0, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
      _mm256_storeu_si256((__m256i*)yb->q, i0);
      int32_t sum = 0;
      for (int j = 0; j < 8; j++) {
        const int s = yb->q[4 * j] + yb->q[4 * j + 1] + yb->q[4 * j + 2] + yb->q[4 * j + 3];
        yb->lsum[j] = s;
        sum += s;
      }
      yb->bsum = sum;
      yb->pad[0] = yb->pad[1] = 0;
    }
  }
}

// llama.cpp's quantize_row_q8_K_ref (x86 builds call it), vectorized: max = the first value of
// largest magnitude, iscale = -127 / max, q = min(127, round-to-even(iscale * x)), d = 1 / iscale.
static void quant_act256(const float* x, rf_cpu_act256* y, int k, int t) {
  const int nb = k / 256;
  const __m256 sign = _mm256_set1_ps(-0.0f);
  for (int r = 0; r < t; r++) {
    for (int b = 0; b < nb; b++) {
      const float* xb = x + (int64_t)r * k + 256 * b;
      rf_cpu_act256* yb = y + (int64_t)r * nb + b;
      __m256 m = _mm256_setzero_ps();
      for (int j = 0; j < 256; j += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(xb + j)));
      __m128 m4 = _mm_max_ps(_mm256_extractf128_ps(m, 1), _mm256_castps256_ps128(m));
      m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
      m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
      const float amax = _mm_cvtss_f32(m4);
      if (!(amax > 0)) {
        memset(yb, 0, sizeof(*yb));
        continue;
      }
      int jm = 0;
      while ((xb[jm] < 0 ? -xb[jm] : xb[jm]) != amax) jm++;
      const float iscale = -127.f / xb[jm];
      const __m256 mul = _mm256_set1_ps(iscale);
      const __m256i lim = _mm256_set1_epi32(127);
      for (int j = 0; j < 256; j += 32) {
        __m256i v[4];
        for (int i = 0; i < 4; i++) {
          const __m256 p = _mm256_mul_ps(mul, _mm256_loadu_ps(xb + j + 8 * i));
          v[i] = _mm256_min_epi32(_mm256_cvtps_epi32(_mm256_round_ps(p, _MM_ROUND_NEAREST)), lim);
        }
        __m256i q = _mm256_packs_epi16(_mm256_packs_epi32(v[0], v[1]), _mm256_packs_epi32(v[2], v[3]));
        q = _mm256_permutevar8x32_epi32(q, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i*)(yb->q + j), q);
      }
      for (int j = 0; j < 16; ++j) {
        const __m128i q16 = _mm_loadu_si128((const __m128i*)(yb->q + 16 * j));
        const __m256i w = _mm256_cvtepi8_epi16(q16);
        __m128i s = _mm_add_epi16(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));
        s = _mm_madd_epi16(s, _mm_set1_epi16(1));
        s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
        s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
        yb->bsums[j] = (int16_t)_mm_cvtsi128_si32(s);
      }
      yb->d = 1 / iscale;
    }
  }
}

static void quant(int type, const float* x, uint8_t* y, int k, int t) {
  if (type == T_Q4_K || type == T_Q5_K || type == T_Q6_K) quant_act256(x, (rf_cpu_act256*)y, k, t);
  else quant_act32(x, (rf_cpu_act32*)y, k, t);
}

// ---- shared pieces ------------------------------------------------------------------------

RF_INLINE const uint8_t* act_row(const rf_cpu_mm* a, int t) {
  return a->x + (int64_t)t * a->x_stride;
}

RF_INLINE void store(const rf_cpu_mm* a, int t, int n, float v) {
  a->y[(int64_t)t * a->ldy + n] = a->bias ? v + a->bias[n] : v;
}

// ---- "lanes": Q8_0, Q4_0 -----------------------------------------------------------------

// Rows [n0, n0 + R) against activation rows [t0, t0 + C).
RF_INLINE void lanes_tile(const int type, const int R, const int C, const rf_cpu_mm* a, int n0,
                          int t0) {
  const int nb = a->k / 32;
  const int bytes = type == T_Q4_0 ? 18 : 34;
  const rf_cpu_act32* x0 = (const rf_cpu_act32*)act_row(a, t0);
  const int64_t xs = a->x_stride / (int64_t)sizeof(rf_cpu_act32);
  __m256 acc[4][4];
  for (int r = 0; r < R; r++)
    for (int c = 0; c < C; c++) acc[r][c] = _mm256_setzero_ps();
  for (int b = 0; b < nb; b++) {
    // wv: Q4_0 codes (unsigned), or Q8_0 weights + 128 (VNNI: the offset comes off through
    // the dot's start value) / |w| (AVX2: llama.cpp's sign trick, whose int16 pair sums
    // cannot saturate)
    __m256i wv[4], ws[4];
    __m256 dw[4];
    for (int r = 0; r < R; r++) {
      const uint8_t* wb = a->w + (int64_t)(n0 + r) * a->row_bytes + (int64_t)b * bytes;
      dw[r] = _mm256_set1_ps(h2f(wb));
      if (type == T_Q4_0) {
        wv[r] = nibbles32(wb + 2);
      } else {
        ws[r] = _mm256_loadu_si256((const __m256i*)(wb + 2));
#if RF_VNNI
        wv[r] = _mm256_xor_si256(ws[r], _mm256_set1_epi8((char)0x80));
#else
        wv[r] = _mm256_sign_epi8(ws[r], ws[r]);
#endif
      }
    }
    for (int c = 0; c < C; c++) {
      const rf_cpu_act32* xb = x0 + c * xs + b;
      const __m256i q = _mm256_loadu_si256((const __m256i*)xb->q);
      const __m256i lsum = _mm256_loadu_si256((const __m256i*)xb->lsum);
      // start value of the dots: minus the code offset times the 4-element sums
      const __m256i start = _mm256_sub_epi32(_mm256_setzero_si256(),
                                             _mm256_slli_epi32(lsum, type == T_Q4_0 ? 3 : 7));
      const __m256 dx = _mm256_broadcast_ss(&xb->d);
      for (int r = 0; r < R; r++) {
        __m256i s;
#if RF_VNNI
        s = _mm256_dpbusd_epi32(start, wv[r], q);
#else
        if (type == T_Q4_0) s = dot_u8s8(start, wv[r], q);
        else s = dot_u8s8(_mm256_setzero_si256(), wv[r], _mm256_sign_epi8(q, ws[r]));
#endif
        const __m256 d = _mm256_mul_ps(dw[r], dx);
        acc[r][c] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(s), acc[r][c]);
      }
    }
  }
  for (int r = 0; r < R; r++)
    for (int c = 0; c < C; c++) store(a, t0 + c, n0 + r, hsum_float_8(acc[r][c]));
}

RF_INLINE void lanes_pass(const int type, const int C, const rf_cpu_mm* a, int r0, int r1,
                          int t0) {
  const int R = C == 1 ? 4 : LANES_R;
  int n = r0;
  for (; n + R <= r1; n += R) lanes_tile(type, R, C, a, n, t0);
  for (; n < r1; n++) lanes_tile(type, 1, C, a, n, t0);
}

// ---- "rows": Q4_0 repacked in groups of 8 rows ----------------------------------------------

// Group block layout (144 bytes): 8 halves (the rows' d), then 4 vectors of 32 bytes whose
// byte 4r + e holds element 4p + e of row r (low nibble) and element 16 + 4p + e (high).
RF_INLINE void rows_tile(const int C, const rf_cpu_mm* a, int grp, int t0) {
  const int nb = a->k / 32;
  const uint8_t* gp = a->w + (int64_t)grp * nb * 144;
  const rf_cpu_act32* x0 = (const rf_cpu_act32*)act_row(a, t0);
  const int64_t xs = a->x_stride / (int64_t)sizeof(rf_cpu_act32);
  const __m256i m4 = _mm256_set1_epi8(0xF);
  __m256 acc[8];
  for (int c = 0; c < C; c++) acc[c] = _mm256_setzero_ps();
  for (int b = 0; b < nb; b++) {
    const uint8_t* p = gp + (int64_t)b * 144;
    const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)p));
    __m256i v[8];
    for (int j = 0; j < 4; j++) {
      const __m256i raw = _mm256_loadu_si256((const __m256i*)(p + 16 + 32 * j));
      v[j] = _mm256_and_si256(raw, m4);
      v[j + 4] = _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4);
    }
    for (int c = 0; c < C; c++) {
      const rf_cpu_act32* xb = x0 + c * xs + b;
      __m256i s = _mm256_setzero_si256();
      for (int j = 0; j < 8; j++) {
        int32_t word;
        memcpy(&word, xb->q + 4 * j, 4);
        s = dot_u8s8(s, v[j], _mm256_set1_epi32(word));
      }
      s = _mm256_sub_epi32(s, _mm256_set1_epi32(8 * xb->bsum));
      const __m256 dd = _mm256_mul_ps(dw, _mm256_set1_ps(xb->d));
      acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), dd, acc[c]);
    }
  }
  for (int c = 0; c < C; c++) {
    float out[8];
    _mm256_storeu_ps(out, acc[c]);
    for (int r = 0; r < 8; r++) store(a, t0 + c, 8 * grp + r, out[r]);
  }
}

RF_INLINE void rows_pass(const int C, const rf_cpu_mm* a, int r0, int r1, int t0) {
  for (int n = r0; n < r1; n += 8) rows_tile(C, a, n / 8, t0);
}

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

// ---- dispatch ---------------------------------------------------------------------------

// One function per (kernel, activation rows per pass), so each inner loop is compiled with
// its constants.
#define PASS_FN(name, call)                                                          \
  __attribute__((noinline)) static void name(const rf_cpu_mm* a, int r0, int r1, int t0) { \
    call;                                                                            \
  }
#define PASSES4(prefix, ...)                                     \
  PASS_FN(prefix##_1, __VA_ARGS__(1, a, r0, r1, t0))             \
  PASS_FN(prefix##_2, __VA_ARGS__(2, a, r0, r1, t0))             \
  PASS_FN(prefix##_3, __VA_ARGS__(3, a, r0, r1, t0))             \
  PASS_FN(prefix##_4, __VA_ARGS__(4, a, r0, r1, t0))

typedef void (*pass_fn)(const rf_cpu_mm* a, int r0, int r1, int t0);

#define LANES_Q4_0(C, ...) lanes_pass(T_Q4_0, C, __VA_ARGS__)
#define LANES_Q8_0(C, ...) lanes_pass(T_Q8_0, C, __VA_ARGS__)
#define K_Q4_K(C, ...) k_pass(T_Q4_K, C, __VA_ARGS__)
#define K_Q5_K(C, ...) k_pass(T_Q5_K, C, __VA_ARGS__)
#define K_Q6_K(C, ...) k_pass(T_Q6_K, C, __VA_ARGS__)
PASSES4(lanes_q4_0, LANES_Q4_0)
PASSES4(lanes_q8_0, LANES_Q8_0)
PASSES4(kq4, K_Q4_K)
PASSES4(kq5, K_Q5_K)
PASSES4(kq6, K_Q6_K)
PASSES4(rows, rows_pass)
PASS_FN(rows_big, rows_pass(ROWS_C, a, r0, r1, t0))

static const pass_fn LANES_Q4_0_FNS[5] = {0, lanes_q4_0_1, lanes_q4_0_2, lanes_q4_0_3, lanes_q4_0_4};
static const pass_fn LANES_Q8_0_FNS[5] = {0, lanes_q8_0_1, lanes_q8_0_2, lanes_q8_0_3, lanes_q8_0_4};
static const pass_fn KQ4_FNS[5] = {0, kq4_1, kq4_2, kq4_3, kq4_4};
static const pass_fn KQ5_FNS[5] = {0, kq5_1, kq5_2, kq5_3, kq5_4};
static const pass_fn KQ6_FNS[5] = {0, kq6_1, kq6_2, kq6_3, kq6_4};
static const pass_fn ROWS_FNS[5] = {0, rows_1, rows_2, rows_3, rows_4};

static void mm(const rf_cpu_mm* a, int r0, int r1) {
  const pass_fn* fns;
  int t0 = 0;
  switch (a->type) {
    case T_Q4_0:
      if (a->repacked) {
        for (; t0 + ROWS_C <= a->t; t0 += ROWS_C) rows_big(a, r0, r1, t0);
        fns = ROWS_FNS;
      } else {
        fns = LANES_Q4_0_FNS;
      }
      break;
    case T_Q8_0: fns = LANES_Q8_0_FNS; break;
    case T_Q4_K: fns = KQ4_FNS; break;
    case T_Q5_K: fns = KQ5_FNS; break;
    case T_Q6_K: fns = KQ6_FNS; break;
    default: return;
  }
  for (; t0 + 4 <= a->t; t0 += 4) fns[4](a, r0, r1, t0);
  if (a->t > t0) fns[a->t - t0](a, r0, r1, t0);
}

const rf_cpu_kernels KERNELS = {mm, quant};
