// rf_api.h: the C ABI of librocmforge_hip, the ROCmForge GPU library (HIP on AMD, CUDA on
// NVIDIA through gpu_compat.h).
//
// Conventions:
// - Every function returns an rf_status (0 = RF_OK). On failure rf_last_error() describes the
//   failed call, the GPU runtime error name and the bytes involved. The process never aborts.
// - Objects (contexts, arenas, KV caches) are small positive integer handles.
// - Sizes and offsets that may exceed 2^31 are int64_t. Buffers are plain host pointers.
// - Graph programs are int32 word streams (RF_OP_* in rf_ops.gen.h, generated from the op
//   schema src/core/op_schema.ts); device addresses in programs
//   are in 256-byte slots relative to the context's scratch buffer or the weight arena.
#pragma once
#include <stdint.h>

#include "rf_ops.gen.h"  // RF_ABI_VERSION, the RF_OP_* opcodes and their operand word indices

#ifdef __cplusplus
extern "C" {
#endif

typedef int32_t rf_status;
enum {
  RF_OK = 0,
  RF_ERR_INVALID = 1,      // bad argument or malformed program
  RF_ERR_GPU = 2,          // a GPU runtime call failed
  RF_ERR_OOM = 3,          // device allocation failed for lack of memory
  RF_ERR_NO_DEVICE = 4,    // no usable device
  RF_ERR_UNSUPPORTED = 5,  // weight type or shape the kernels do not handle
  RF_ERR_HANDLE = 6,       // unknown or destroyed handle
};

// Library facts: abi version, build target (0 amd, 1 cuda).
rf_status rf_version(int32_t* abiVersion, int32_t* target);

// Initializes the GPU runtime and reports the number of devices.
rf_status rf_init(int32_t* deviceCount);

// Copies the last error of this thread: message, failing call, runtime error name; nums gets
// [status, runtime error code, bytes involved]. Returns that status.
rf_status rf_last_error(char* msg, int32_t msgLen, char* call, int32_t callLen, char* gpuName,
                        int32_t gpuNameLen, int64_t* nums);

// Device properties: name and arch strings; nums gets [totalMem, freeMem, computeUnits,
// warpSize, ccMajor, ccMinor, clockKHz, memoryBusWidthBits, memoryClockKHz, l2Bytes].
rf_status rf_device_props(int32_t device, char* name, int32_t nameLen, char* arch,
                          int32_t archLen, int64_t* nums);

// A context: one device, one stream, a scratch buffer and a workspace that grow on demand.
rf_status rf_context_create(int32_t device, int32_t* ctx);
rf_status rf_context_destroy(int32_t ctx);

// A weight arena: one device allocation carved best-fit with 256-byte alignment.
rf_status rf_arena_create(int32_t ctx, int64_t bytes, int32_t* arena);
rf_status rf_arena_alloc(int32_t arena, int64_t bytes, int64_t* offset);
rf_status rf_arena_free(int32_t arena, int64_t offset);
rf_status rf_arena_upload(int32_t arena, int64_t offset, const void* data, int64_t bytes);
rf_status rf_arena_download(int32_t arena, int64_t offset, void* data, int64_t bytes);
// out[0] capacity, out[1] bytes in use, out[2] largest free block.
rf_status rf_arena_stats(int32_t arena, int64_t* out);
rf_status rf_arena_destroy(int32_t arena);

// Upload staging: `host` (bytes, the caller's, kept alive until destroy) cut into `slots` equal
// parts, pinned while registered; out[0] the handle, out[1] 1 when pinned (0: pageable, slower).
// upload queues a copy of a slot's first `bytes` into an arena on the context's stream and
// records the slot's event; wait blocks until that copy is done (the slot may be refilled);
// destroy synchronizes the stream and unpins.
rf_status rf_staging_create(int32_t ctx, void* host, int64_t bytes, int32_t slots, int32_t* out);
rf_status rf_staging_upload(int32_t staging, int32_t slot, int32_t arena, int64_t offset,
                            int64_t bytes);
rf_status rf_staging_wait(int32_t staging, int32_t slot);
rf_status rf_staging_destroy(int32_t staging);

// A half-precision KV cache: for each of nLayers slots, K [capacity, nHeadKV*headDim] and
// V [capacity, nHeadKV*valueDim]; attention stores its float32 k, v rows rounded to half.
rf_status rf_kv_create(int32_t ctx, int32_t nLayers, int32_t capacity, int32_t nHeadKV,
                       int32_t headDim, int32_t valueDim, int32_t* kv);
rf_status rf_kv_destroy(int32_t kv);

// Runs a program on the context's stream: copies hostIn to scratch offset 0, launches every op
// with no synchronization between them, copies downloads into hostOut, then synchronizes.
// arena and kv may be 0 when the program uses no weights or no attention.
rf_status rf_exec(int32_t ctx, int32_t arena, int32_t kv, const int32_t* program, int32_t words,
                  const void* hostIn, int64_t inBytes, void* hostOut, int64_t outBytes,
                  int64_t scratchBytes, int32_t pos0);

// rf_exec for a multi-sequence batch: the program's rows are nSeqs sequences in row order, seqs
// holding [rows, pos0, kv] for each (kv: its cache, 0 when the program has no attention; every
// cache of one shape). Rope and position embeddings take each row's position, attention each
// sequence's cache from its pos0, last_row one row per sequence (its last).
rf_status rf_exec_seqs(int32_t ctx, int32_t arena, const int32_t* seqs, int32_t nSeqs,
                       const int32_t* program, int32_t words, const void* hostIn, int64_t inBytes,
                       void* hostOut, int64_t outBytes, int64_t scratchBytes);

// Copies the first `positions` cells of every layer of KV cache `from` into `to` (two caches
// of one context whose layers and heads agree; capacities may differ), then synchronizes.
rf_status rf_kv_copy(int32_t from, int32_t to, int32_t positions);

// Benchmark helper: times windows of `reps` back-to-back launches of one matmul with random
// activations, rotating over nCopies weight matrices at arena offsets wOffsets (so that a
// cache smaller than all copies cannot hold them). Per-launch milliseconds over 5 windows:
// out[0] = median, out[1] = min, out[2] = max.
rf_status rf_bench_matmul(int32_t ctx, int32_t arena, const int64_t* wOffsets, int32_t nCopies,
                          int32_t wType, int32_t K, int32_t N, int32_t T, int32_t reps,
                          double* out);

// Test hook: the next `count` launches at fault `point` get an empty grid and so fail as a real
// launch failure does (count 0 disarms). Points: RF_FAULT_ACT_QUANT, the activation rounding
// before a quantized product.
enum { RF_FAULT_NONE = 0, RF_FAULT_ACT_QUANT = 1 };
rf_status rf_test_fail_launch(int32_t point, int32_t count);

// Benchmark helper: times `reps` device-to-device copies of `bytes` (the memory bandwidth
// ceiling); out[0] = median ms, out[1] = min ms.
rf_status rf_bench_copy(int32_t ctx, int64_t bytes, int32_t reps, double* out);

#ifdef __cplusplus
}
#endif
