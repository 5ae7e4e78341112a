// rf_cpu.h: the native x86-64 CPU kernels of ROCmForge (librocmforge_cpu).
//
// A second kernel provider beside the WebAssembly one (kernels/wasm/): quantized matrix
// products in llama.cpp's x86 float32 arithmetic, on a pthread pool inside the library.
// Two builds of the kernels (kern_*.c) are linked in: AVX2 (+FMA, F16C) and
// AVX512-VNNI (AVX512F/BW/VL + VNNI); rf_cpu_create picks the best one the
// CPU runs. Integer block dots are exact in both; the float steps are the same, so both give
// the same bits.
//
// Every exported function returns an rf_cpu_status and takes only int32 values and buffers
// (the FFI contract of src/runtime/ffi_types.ts).
#pragma once
#include <stdint.h>

#define RF_CPU_ABI_VERSION 1

enum {
  RF_CPU_OK = 0,
  RF_CPU_INVALID = 1,
  RF_CPU_OOM = 3,
  RF_CPU_UNSUPPORTED = 5,
  RF_CPU_HANDLE = 6,
};

// CPU feature bits (rf_cpu_version).
enum {
  RF_CPU_HAS_AVX2 = 1,      // AVX2 + FMA + F16C: the AVX2 build runs
  RF_CPU_HAS_AVX512VNNI = 2 // AVX512F/BW/VL + AVX512-VNNI: the VNNI build runs
};

// Kernel builds (rf_cpu_create's `variant`).
enum { RF_CPU_AUTO = 0, RF_CPU_AVX2 = 1, RF_CPU_VNNI = 2 };

// Quantized activation block of 32 values (weights of 32-element blocks).
typedef struct {
  float d;          // half-rounded scale
  int32_t bsum;     // sum of q
  int32_t pad[2];
  int32_t lsum[8];  // sums of q over elements 4j..4j+3
  int8_t q[32];
} rf_cpu_act32;

// Quantized activation block of 256 values (llama.cpp's block_q8_K).
typedef struct {
  float d;
  int8_t q[256];
  int16_t bsums[16];  // sums of q over each 16 values
} rf_cpu_act256;

// One matrix product: y[t * ldy + n] = dot(W row n, x row t) (+ bias[n]).
typedef struct {
  int32_t type;        // ggml type of W
  int32_t k;           // row length
  int32_t n;           // rows of W
  int32_t t;           // activation rows
  int32_t repacked;    // Q4_0 / Q8_0 / Q4_K in groups of 8 rows (rf_cpu_repack)
  const uint8_t* w;    // weights
  int64_t row_bytes;   // bytes per row of W (GGUF layout)
  const uint8_t* x;    // quantized activation rows
  int64_t x_stride;    // bytes per activation row
  float* y;
  int64_t ldy;
  const float* bias;   // or NULL
} rf_cpu_mm;

// One kernel build.
typedef struct {
  // Rows [r0, r1) of a product (r0, r1 multiples of 8 for repacked weights).
  void (*mm)(const rf_cpu_mm* a, int r0, int r1);
  // t rows of k floats -> t quantized activation rows for weights of `type`.
  void (*quant)(int type, const float* x, uint8_t* y, int k, int t);
} rf_cpu_kernels;

extern const rf_cpu_kernels rf_cpu_kernels_avx2;
extern const rf_cpu_kernels rf_cpu_kernels_vnni;

// Bytes of one quantized activation row of k values for weights of `type`, or 0 when the
// library has no kernel for the type.
int rf_cpu_act_bytes(int type, int k);

// rf_cpu_pool.c: a pool of threads-1 workers; the caller is the last thread.
typedef struct rf_cpu_pool rf_cpu_pool;
typedef void (*rf_cpu_job)(void* ctx, int i0, int i1);
rf_cpu_pool* rf_cpu_pool_create(int threads, int spin);
// Runs job(ctx, i0, i1) over [0, items) in chunks of `chunk` on every thread; returns when
// all are done.
void rf_cpu_pool_run(rf_cpu_pool* p, rf_cpu_job job, void* ctx, int items, int chunk);
void rf_cpu_pool_destroy(rf_cpu_pool* p);
int rf_cpu_pool_threads(const rf_cpu_pool* p);
