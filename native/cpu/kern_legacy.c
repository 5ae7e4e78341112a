// kern_legacy.c: Q4_0 and Q8_0 products ("lanes" and "rows", see kern_table.c).
#include "rf_cpu_kern.h"

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

#define LANES_Q4_0(C, ...) lanes_pass(T_Q4_0, C, __VA_ARGS__)
#define LANES_Q8_0(C, ...) lanes_pass(T_Q8_0, C, __VA_ARGS__)
PASSES4(lanes_q4_0, LANES_Q4_0)
PASSES4(lanes_q8_0, LANES_Q8_0)
PASSES4(rows, rows_pass)
PASS_FN(rows_big, rows_pass(ROWS_C, a, r0, r1, t0))

static const pass_fn LANES_Q4_0_FNS[5] = {0, lanes_q4_0_1, lanes_q4_0_2, lanes_q4_0_3, lanes_q4_0_4};
static const pass_fn LANES_Q8_0_FNS[5] = {0, lanes_q8_0_1, lanes_q8_0_2, lanes_q8_0_3, lanes_q8_0_4};
static const pass_fn ROWS_FNS[5] = {0, rows_1, rows_2, rows_3, rows_4};

void RF_K(mm_legacy)(const rf_cpu_mm* a, int r0, int r1) {
  int t0 = 0;
  if (a->type == T_Q4_0 && a->repacked) {
    for (; t0 + ROWS_C <= a->t; t0 += ROWS_C) rows_big(a, r0, r1, t0);
    run_passes(ROWS_FNS, a, r0, r1, t0);
  } else {
    run_passes(a->type == T_Q4_0 ? LANES_Q4_0_FNS : LANES_Q8_0_FNS, a, r0, r1, t0);
  }
}
