// stream.c: a streaming read of memory, the bandwidth microbenchmark the decode benchmark
// measures itself against (scripts/_stream_bench.ts). Job RF_OP_STREAM over pool->mm: item n
// reads row n of W (row_bytes bytes, a multiple of 64) with 16-byte loads into four
// independent accumulators and stores their xor-sum in y[n], so no load can be dropped.
#include "rf_wasm.h"

void rf_stream_range(const rf_mm_args* a, int r0, int r1) {
  uint32_t* y = (uint32_t*)(uintptr_t)a->y;
  for (int n = r0; n < r1; n++) {
    const uint8_t* p = (const uint8_t*)(uintptr_t)(a->w + (uint32_t)n * (uint32_t)a->row_bytes);
    v128_t s0 = wasm_i32x4_splat(0), s1 = s0, s2 = s0, s3 = s0;
    for (int i = 0; i < a->row_bytes; i += 64) {
      s0 = wasm_v128_xor(s0, wasm_v128_load(p + i));
      s1 = wasm_v128_xor(s1, wasm_v128_load(p + i + 16));
      s2 = wasm_v128_xor(s2, wasm_v128_load(p + i + 32));
      s3 = wasm_v128_xor(s3, wasm_v128_load(p + i + 48));
    }
    const v128_t s = wasm_v128_xor(wasm_v128_xor(s0, s1), wasm_v128_xor(s2, s3));
    y[n] = (uint32_t)wasm_i32x4_extract_lane(s, 0) ^ (uint32_t)wasm_i32x4_extract_lane(s, 1) ^
           (uint32_t)wasm_i32x4_extract_lane(s, 2) ^ (uint32_t)wasm_i32x4_extract_lane(s, 3);
  }
}
