// rf_cpu_simd.h: vector helpers of kern_*.c, in the instruction order of llama.cpp's
// ggml-cpu/arch/x86/quants.c where the float results depend on it.
#pragma once
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#define RF_INLINE static inline __attribute__((always_inline))

RF_INLINE float h2f(const uint8_t* p) {
  uint16_t h;
  memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

RF_INLINE uint16_t f2h(float f) { return _cvtss_sh(f, 0); }

// llama.cpp's hsum_float_8: (hi + lo), then (r0 + r2) + (r1 + r3).
RF_INLINE float hsum_float_8(const __m256 x) {
  __m128 res = _mm256_extractf128_ps(x, 1);
  res = _mm_add_ps(res, _mm256_castps256_ps128(x));
  res = _mm_add_ps(res, _mm_movehl_ps(res, res));
  res = _mm_add_ss(res, _mm_movehdup_ps(res));
  return _mm_cvtss_f32(res);
}

// acc + sums of 4 products of unsigned bytes u and signed bytes s per int32 lane (exact: the
// AVX2 form's int16 pair sums cannot saturate for the operands used here, |u| * |s| * 2 <=
// 15 * 128 * 2 or u = |w| <= 128, |s| <= 127).
RF_INLINE __m256i dot_u8s8(__m256i acc, __m256i u, __m256i s) {
#if RF_VNNI
  return _mm256_dpbusd_epi32(acc, u, s);
#else
  return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
#endif
}

// 32 nibbles at p (16 bytes, GGUF order) as bytes: elements 0..15 low nibbles, 16..31 high.
RF_INLINE __m256i nibbles32(const uint8_t* p) {
  const __m128i tmp = _mm_loadu_si128((const __m128i*)p);
  const __m256i bytes = _mm256_set_m128i(_mm_srli_epi16(tmp, 4), tmp);
  return _mm256_and_si256(_mm256_set1_epi8(0xF), bytes);
}
