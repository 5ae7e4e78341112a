// kern_quant.c: activation rows -> int8 blocks (llama.cpp's Q8_0 and Q8_K quantization).
#include "rf_cpu_kern.h"

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

void RF_K(quant)(int type, const float* x, uint8_t* y, int k, int t) {
  if (type == T_Q4_K || type == T_Q5_K || type == T_Q6_K) quant_act256(x, (rf_cpu_act256*)y, k, t);
  else quant_act32(x, (rf_cpu_act32*)y, k, t);
}
