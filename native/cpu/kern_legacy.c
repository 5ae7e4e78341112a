// kern_legacy.c: Q4_0 and Q8_0 products ("lanes" and "rows", see kern_table.c).
#include "rf_cpu_kern.h"

// Where the blocks of R weight rows lie: block b of row n0 + r has its half scale at
// d + b * bs + r * rd and its codes at q + b * bs + r * rq (GGUF rows, or a repacked group).
typedef struct {
  const uint8_t* d;
  const uint8_t* q;
  int64_t bs, rd, rq;
} wrows;

RF_INLINE wrows gguf_rows(const int type, const rf_cpu_mm* a, int n0) {
  const uint8_t* w = a->w + (int64_t)n0 * a->row_bytes;
  return (wrows){w, w + 2, type == T_Q4_0 ? 18 : 34, a->row_bytes, a->row_bytes};
}

// Q8_0 repacked in groups of 8 rows (rf_cpu_repack): per group block (272 bytes) the 8 rows'
// d, then row r's 32 codes at 16 + 32 r.
RF_INLINE wrows q8_group_rows(const rf_cpu_mm* a, int n0) {
  const uint8_t* g = a->w + (int64_t)(n0 / 8) * (a->k / 32) * 272;
  return (wrows){g + 2 * (n0 % 8), g + 16 + 32 * (n0 % 8), 272, 2, 32};
}

// Rows [n0, n0 + R) (blocks at wr) against activation rows [t0, t0 + C).
RF_INLINE void lanes_tile(const int type, const int R, const int C, const rf_cpu_mm* a,
                          const wrows wr, int n0, int t0) {
  const int nb = a->k / 32;
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
      const uint8_t* wq = wr.q + b * wr.bs + r * wr.rq;
      dw[r] = _mm256_set1_ps(h2f(wr.d + b * wr.bs + r * wr.rd));
      if (type == T_Q4_0) {
        wv[r] = nibbles32(wq);
      } else {
        ws[r] = _mm256_loadu_si256((const __m256i*)wq);
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
  for (; n + R <= r1; n += R) lanes_tile(type, R, C, a, gguf_rows(type, a, n), n, t0);
  for (; n < r1; n++) lanes_tile(type, 1, C, a, gguf_rows(type, a, n), n, t0);
}

// ---- Q8_0 repacked in groups of 8 rows ------------------------------------------------------

#if RF_VNNI
// Rows [8 grp, 8 grp + 8) against activation rows [t0, t0 + C), two rows per 512-bit vector
// (lanes 0..7 row 2j, 8..15 row 2j + 1; the groups' codes of rows 2j and 2j + 1 are 64
// contiguous bytes): the lanes arithmetic of lanes_tile, lane for lane.
RF_INLINE void q8_group_tile(const int C, const rf_cpu_mm* a, int grp, int t0) {
  const int nb = a->k / 32;
  const uint8_t* gp = a->w + (int64_t)grp * nb * 272;
  const rf_cpu_act32* x0 = (const rf_cpu_act32*)act_row(a, t0);
  const int64_t xs = a->x_stride / (int64_t)sizeof(rf_cpu_act32);
  const __m512i off = _mm512_set1_epi8((char)0x80);
  __m512i pick[4];
  for (int j = 0; j < 4; j++) {
    pick[j] = _mm512_inserti64x4(_mm512_set1_epi32(2 * j), _mm256_set1_epi32(2 * j + 1), 1);
  }
  __m512 acc[4][4];
  for (int j = 0; j < 4; j++)
    for (int c = 0; c < C; c++) acc[j][c] = _mm512_setzero_ps();
  for (int b = 0; b < nb; b++) {
    const uint8_t* p = gp + (int64_t)b * 272;
    const __m512 dw8 = _mm512_castps256_ps512(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)p)));
    __m512i wv[4];
    __m512 dwp[4];
    for (int j = 0; j < 4; j++) {
      wv[j] = _mm512_xor_si512(_mm512_loadu_si512((const void*)(p + 16 + 64 * j)), off);
      dwp[j] = _mm512_permutexvar_ps(pick[j], dw8);
    }
    for (int c = 0; c < C; c++) {
      const rf_cpu_act32* xb = x0 + c * xs + b;
      const __m512i q = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i*)xb->q));
      const __m512i lsum = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i*)xb->lsum));
      const __m512i start = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_slli_epi32(lsum, 7));
      const __m512 dx = _mm512_set1_ps(xb->d);
      for (int j = 0; j < 4; j++) {
        const __m512i s = _mm512_dpbusd_epi32(start, wv[j], q);
        const __m512 d = _mm512_mul_ps(dwp[j], dx);
        acc[j][c] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(s), acc[j][c]);
      }
    }
  }
  for (int j = 0; j < 4; j++) {
    for (int c = 0; c < C; c++) {
      const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc[j][c]), 1));
      store(a, t0 + c, 8 * grp + 2 * j, hsum_float_8(_mm512_castps512_ps256(acc[j][c])));
      store(a, t0 + c, 8 * grp + 2 * j + 1, hsum_float_8(hi));
    }
  }
}
#endif

RF_INLINE void q8_group_pass(const int C, const rf_cpu_mm* a, int r0, int r1, int t0) {
  for (int n = r0; n < r1; n += 8) {
#if RF_VNNI
    q8_group_tile(C, a, n / 8, t0);
#else
    const int R = C == 1 ? 4 : LANES_R;
    for (int i = 0; i < 8; i += R) lanes_tile(T_Q8_0, R, C, a, q8_group_rows(a, n + i), n + i, t0);
#endif
  }
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

#if RF_VNNI
// rows_tile for groups grp and grp + 1 at once: 16 rows in the lanes of a 512-bit vector.
RF_INLINE void rows2_tile(const int C, const rf_cpu_mm* a, int grp, int t0) {
  const int nb = a->k / 32;
  const uint8_t* g0 = a->w + (int64_t)grp * nb * 144;
  const uint8_t* g1 = g0 + (int64_t)nb * 144;
  const rf_cpu_act32* x0 = (const rf_cpu_act32*)act_row(a, t0);
  const int64_t xs = a->x_stride / (int64_t)sizeof(rf_cpu_act32);
  const __m512i m4 = _mm512_set1_epi8(0xF);
  __m512 acc[ROWS_C];
  for (int c = 0; c < C; c++) acc[c] = _mm512_setzero_ps();
  for (int b = 0; b < nb; b++) {
    const uint8_t* p0 = g0 + (int64_t)b * 144;
    const uint8_t* p1 = g1 + (int64_t)b * 144;
    const __m256i h = _mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_loadu_si128((const __m128i*)p0)),
        _mm_loadu_si128((const __m128i*)p1), 1);
    const __m512 dw = _mm512_cvtph_ps(h);
    __m512i v[8];
    for (int j = 0; j < 4; j++) {
      const __m512i raw = _mm512_inserti64x4(
          _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i*)(p0 + 16 + 32 * j))),
          _mm256_loadu_si256((const __m256i*)(p1 + 16 + 32 * j)), 1);
      v[j] = _mm512_and_si512(raw, m4);
      v[j + 4] = _mm512_and_si512(_mm512_srli_epi16(raw, 4), m4);
    }
    for (int c = 0; c < C; c++) {
      const rf_cpu_act32* xb = x0 + c * xs + b;
      __m512i s = _mm512_setzero_si512();
      for (int j = 0; j < 8; j++) {
        int32_t word;
        memcpy(&word, xb->q + 4 * j, 4);
        s = _mm512_dpbusd_epi32(s, v[j], _mm512_set1_epi32(word));
      }
      s = _mm512_sub_epi32(s, _mm512_set1_epi32(8 * xb->bsum));
      const __m512 dd = _mm512_mul_ps(dw, _mm512_set1_ps(xb->d));
      acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), dd, acc[c]);
    }
  }
  for (int c = 0; c < C; c++) {
    float out[16];
    _mm512_storeu_ps(out, acc[c]);
    for (int r = 0; r < 16; r++) store(a, t0 + c, 8 * grp + r, out[r]);
  }
}
#endif

RF_INLINE void rows_pass(const int C, const rf_cpu_mm* a, int r0, int r1, int t0) {
  int n = r0;
#if RF_VNNI
  // Prefill only: in decode (one activation row) two weight streams per tile measured ~25%
  // slower than one group at a time (TinyLlama Q4_0 tg32 30.6-35.9 against 41-47 t/s, 2 threads).
  if (C > 1)
    for (; n + 16 <= r1; n += 16) rows2_tile(C, a, n / 8, t0);
#endif
  for (; n < r1; n += 8) rows_tile(C, a, n / 8, t0);
}

#define LANES_Q4_0(C, ...) lanes_pass(T_Q4_0, C, __VA_ARGS__)
#define LANES_Q8_0(C, ...) lanes_pass(T_Q8_0, C, __VA_ARGS__)
PASSES4(lanes_q4_0, LANES_Q4_0)
PASSES4(lanes_q8_0, LANES_Q8_0)
PASSES4(q8_group, q8_group_pass)
PASSES4(rows, rows_pass)
PASS_FN(rows_big, rows_pass(ROWS_C, a, r0, r1, t0))

static const pass_fn LANES_Q4_0_FNS[5] = {0, lanes_q4_0_1, lanes_q4_0_2, lanes_q4_0_3, lanes_q4_0_4};
static const pass_fn LANES_Q8_0_FNS[5] = {0, lanes_q8_0_1, lanes_q8_0_2, lanes_q8_0_3, lanes_q8_0_4};
static const pass_fn Q8_GROUP_FNS[5] = {0, q8_group_1, q8_group_2, q8_group_3, q8_group_4};
static const pass_fn ROWS_FNS[5] = {0, rows_1, rows_2, rows_3, rows_4};

void RF_K(mm_legacy)(const rf_cpu_mm* a, int r0, int r1) {
  int t0 = 0;
  if (a->type == T_Q4_0 && a->repacked) {
    for (; t0 + ROWS_C <= a->t; t0 += ROWS_C) rows_big(a, r0, r1, t0);
    run_passes(ROWS_FNS, a, r0, r1, t0);
  } else if (a->repacked) {
    run_passes(Q8_GROUP_FNS, a, r0, r1, t0);
  } else {
    run_passes(a->type == T_Q4_0 ? LANES_Q4_0_FNS : LANES_Q8_0_FNS, a, r0, r1, t0);
  }
}
