// kern_table.c: the kernel table of one build. The kernels (kern_*.c) are compiled twice
// (RF_VNNI 0: AVX2 + FMA + F16C; RF_VNNI 1: also AVX512F/BW/VL + AVX512-VNNI, 32 vector
// registers, 512-bit vectors in the repacked Q4_0 and Q8_0 tiles). The float steps follow llama.cpp's x86 kernels (ggml-cpu/arch/x86/quants.c,
// repack.cpp, llamafile's tinyBLAS), the same arithmetic as kernels/wasm/mm_legacy.c:
// - "lanes" (Q8_0; Q4_0 with a row count not a multiple of 8): eight float accumulators per
//   output, lane j the integer dot of elements 4j..4j+3 of each block, acc = fma(dw * dx,
//   lane, acc) block after block, then hsum_float_8. Q8_0 with a multiple of 8 rows is
//   repacked in groups of 8 rows (one stream of weights; the VNNI build holds two rows in a
//   512-bit vector, lanes 0..7 and 8..15 each an output's eight accumulators).
// - "rows" (Q4_0 with a multiple of 8 rows, llama.cpp's repacked q4_0_8x8): one accumulator
//   per output, acc = fma(block dot, dw * dx, acc); the weights are interleaved 8 rows at a
//   time by rf_cpu_repack so that one vector holds 4 elements of each of 8 rows (the VNNI
//   build: two groups, 16 rows, per 512-bit vector).
// - Q5_K, Q6_K, and Q4_K with a row count not a multiple of 8: ggml_vec_dot_q*_K_q8_K's AVX2
//   lanes (int32 sums scaled by the sub-block scales, one fma per super-block); Q4_K with a
//   multiple of 8 rows: llama.cpp's repacked q4_K_8x8 sums (q4k_rows_tile, kern_kquant.c).
// Integer dots are exact in both builds (VNNI's dpbusd or AVX2's maddubs + madd), so both
// give the same bits. Each weight block is decoded once for up to 4 (8) activation rows.
#include "rf_cpu_kern.h"

static void mm(const rf_cpu_mm* a, int r0, int r1) {
  if (a->type == T_Q4_0 || a->type == T_Q8_0) RF_K(mm_legacy)(a, r0, r1);
  else RF_K(mm_kquant)(a, r0, r1);
}

#if RF_VNNI
const rf_cpu_kernels rf_cpu_kernels_vnni = {mm, RF_K(quant)};
#else
const rf_cpu_kernels rf_cpu_kernels_avx2 = {mm, RF_K(quant)};
#endif
