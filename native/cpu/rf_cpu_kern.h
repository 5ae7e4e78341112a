// rf_cpu_kern.h: what the kernel sources (kern_*.c) share. Each of them is compiled twice,
// with RF_VNNI 0 (AVX2 + FMA + F16C) and RF_VNNI 1 (also AVX512F/BW/VL + AVX512-VNNI, 32
// vector registers; 512-bit vectors in the repacked Q4_0 / Q8_0 tiles of kern_legacy.c);
// RF_K(name) gives each build's functions their own names.
#pragma once
#include "rf_cpu.h"
#include "rf_cpu_simd.h"

#if RF_VNNI
#define RF_K(name) name##_vnni
#define LANES_R 4 // weight rows per "lanes" pass (accumulators: LANES_R x 4)
#define ROWS_C 8  // activation rows per "rows" pass
#else
#define RF_K(name) name##_avx2
#define LANES_R 2
#define ROWS_C 4
#endif

enum { T_Q4_0 = 2, T_Q8_0 = 8, T_Q4_K = 12, T_Q5_K = 13, T_Q6_K = 14 };

// t rows of k floats -> t quantized activation rows for weights of `type` (kern_quant.c).
void RF_K(quant)(int type, const float* x, uint8_t* y, int k, int t);
// Rows [r0, r1) of a Q4_0 / Q8_0 product (kern_legacy.c).
void RF_K(mm_legacy)(const rf_cpu_mm* a, int r0, int r1);
// Rows [r0, r1) of a Q4_K / Q5_K / Q6_K product (kern_kquant.c).
void RF_K(mm_kquant)(const rf_cpu_mm* a, int r0, int r1);


RF_INLINE const uint8_t* act_row(const rf_cpu_mm* a, int t) {
  return a->x + (int64_t)t * a->x_stride;
}

RF_INLINE void store(const rf_cpu_mm* a, int t, int n, float v) {
  a->y[(int64_t)t * a->ldy + n] = a->bias ? v + a->bias[n] : v;
}

// One function per (kernel, activation rows per pass), so each inner loop is compiled with
// its constants.
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

// Activation rows [t0, t) in passes of 4 (and one of the rest) through fns[C].
RF_INLINE void run_passes(const pass_fn* fns, const rf_cpu_mm* a, int r0, int r1, int t0) {
  for (; t0 + 4 <= a->t; t0 += 4) fns[4](a, r0, r1, t0);
  if (a->t > t0) fns[a->t - t0](a, r0, r1, t0);
}
