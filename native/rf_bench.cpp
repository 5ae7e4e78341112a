// rf_bench.cpp: rf_bench_matmul, device-event timing of the matmul kernels for the native
// benchmark (scripts/bench_native.ts).
#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "../kernels/rf_kernels.h"
#include "rf_internal.h"
#include "rf_program_check.h"

using namespace rf;

extern "C" rf_status rf_bench_matmul(int32_t ctx, int32_t arena, const int64_t* wOffsets,
                                     int32_t nCopies, int32_t wType, int32_t K, int32_t N,
                                     int32_t T, int32_t reps, double* out) {
  clear_error();
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.lock);
  auto ci = r.contexts.find(ctx);
  auto ai = r.arenas.find(arena);
  if (ci == r.contexts.end() || ai == r.arenas.end()) {
    return fail(RF_ERR_HANDLE, "rf_bench_matmul", "unknown context or arena");
  }
  Context& c = ci->second;
  const Arena& a = ai->second;
  const int64_t wb = weight_bytes(wType, K, N);
  if (wb < 0 || !kernel_type_supported(wType) || T <= 0 || reps <= 0 || nCopies <= 0) {
    return fail(RF_ERR_INVALID, "rf_bench_matmul", "unsupported type, shape or count");
  }
  for (int i = 0; i < nCopies; ++i) {
    if (wOffsets[i] < 0 || wOffsets[i] % 256 || wOffsets[i] + wb > a.capacity) {
      return fail(RF_ERR_INVALID, "rf_bench_matmul", "weight copy outside the arena");
    }
  }
  RF_CHECK(hipSetDevice(c.device), 0);
  const int64_t xBytes = ((int64_t)T * K * 4 + 255) & ~(int64_t)255;
  const int64_t yBytes = (int64_t)T * N * 4;
  rf_status st = ensure_buffer(c.scratch, xBytes + yBytes, c.stream, "scratch");
  if (st != RF_OK) return st;
  const int64_t ws = matmul_workspace_bytes(wType, T, K);
  if (ws > 0 && (st = ensure_buffer(c.workspace, ws, c.stream, "workspace")) != RF_OK) return st;
  std::vector<float> x((size_t)T * K);
  std::mt19937 rng(1234);
  std::normal_distribution<float> dist(0.f, 1.f);
  for (float& v : x) v = dist(rng);
  float* dx = static_cast<float*>(c.scratch.ptr);
  float* dy = reinterpret_cast<float*>(static_cast<char*>(c.scratch.ptr) + xBytes);
  RF_CHECK(hipMemcpyAsync(dx, x.data(), x.size() * 4, hipMemcpyHostToDevice, c.stream), xBytes);
  hipEvent_t e0, e1;
  RF_CHECK(hipEventCreate(&e0), 0);
  RF_CHECK(hipEventCreate(&e1), 0);
  // Windows of `reps` back-to-back launches (as a forward pass queues them), rotating over the
  // weight copies; the first window warms up. Per-launch time = window time / reps.
  std::vector<double> times;
  const int windows = 6;
  for (int wdx = 0; wdx < windows; ++wdx) {
    RF_CHECK(hipEventRecord(e0, c.stream), 0);
    for (int i = 0; i < reps; ++i) {
      const void* W = static_cast<const char*>(a.base) + wOffsets[(wdx * reps + i) % nCopies];
      const hipError_t err = launch_matmul(c.stream, c.warpSize, c.smCount, wType, W, dx, nullptr,
                                           dy, T, K, N, c.workspace.ptr, false);
      if (err != hipSuccess) return fail_gpu(err, "launch_matmul (bench)");
    }
    RF_CHECK(hipEventRecord(e1, c.stream), 0);
    RF_CHECK(hipEventSynchronize(e1), 0);
    float ms = 0.f;
    RF_CHECK(hipEventElapsedTime(&ms, e0, e1), 0);
    if (wdx > 0) times.push_back(ms / reps);
  }
  RF_CHECK(hipEventDestroy(e0), 0);
  RF_CHECK(hipEventDestroy(e1), 0);
  std::sort(times.begin(), times.end());
  out[0] = times[times.size() / 2];
  out[1] = times.front();
  out[2] = times.back();
  return RF_OK;
}

extern "C" rf_status rf_bench_copy(int32_t ctx, int64_t bytes, int32_t reps, double* out) {
  clear_error();
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.lock);
  auto ci = r.contexts.find(ctx);
  if (ci == r.contexts.end()) return fail(RF_ERR_HANDLE, "rf_bench_copy", "unknown context");
  if (bytes <= 0 || reps <= 0) return fail(RF_ERR_INVALID, "rf_bench_copy", "bad size or count");
  Context& c = ci->second;
  RF_CHECK(hipSetDevice(c.device), 0);
  void* a = nullptr;
  void* b = nullptr;
  RF_CHECK(hipMalloc(&a, (size_t)bytes), bytes);
  const hipError_t err = hipMalloc(&b, (size_t)bytes);
  if (err != hipSuccess) {
    (void)hipFree(a);
    return fail_gpu(err, "hipMalloc", bytes);
  }
  hipEvent_t e0, e1;
  RF_CHECK(hipEventCreate(&e0), 0);
  RF_CHECK(hipEventCreate(&e1), 0);
  RF_CHECK(hipMemsetAsync(a, 1, (size_t)bytes, c.stream), bytes);
  std::vector<double> times;
  for (int i = 0; i < reps + 2; ++i) {
    RF_CHECK(hipEventRecord(e0, c.stream), 0);
    RF_CHECK(hipMemcpyAsync(b, a, (size_t)bytes, hipMemcpyDeviceToDevice, c.stream), bytes);
    RF_CHECK(hipEventRecord(e1, c.stream), 0);
    RF_CHECK(hipEventSynchronize(e1), 0);
    float ms = 0.f;
    RF_CHECK(hipEventElapsedTime(&ms, e0, e1), 0);
    if (i >= 2) times.push_back(ms);
  }
  RF_CHECK(hipEventDestroy(e0), 0);
  RF_CHECK(hipEventDestroy(e1), 0);
  RF_CHECK(hipFree(a), 0);
  RF_CHECK(hipFree(b), 0);
  std::sort(times.begin(), times.end());
  out[0] = times[times.size() / 2];
  out[1] = times.front();
  return RF_OK;
}
