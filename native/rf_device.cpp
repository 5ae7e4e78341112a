// rf_device.cpp: runtime initialization, device enumeration and properties, contexts (one
// stream plus growable scratch and workspace buffers each).
#include <string.h>

#include <string>

#include "rf_internal.h"

namespace rf {

Registry& registry() {
  static Registry r;
  return r;
}

rf_status ensure_buffer(DeviceBuffer& buf, int64_t bytes, hipStream_t stream, const char* what) {
  if (bytes <= buf.bytes) return RF_OK;
  const int64_t want = bytes + bytes / 8;  // headroom so small growth does not reallocate
  if (buf.ptr) {
    RF_CHECK(hipStreamSynchronize(stream), 0);
    RF_CHECK(hipFree(buf.ptr), 0);
    buf.ptr = nullptr;
    buf.bytes = 0;
  }
  void* p = nullptr;
  const hipError_t err = hipMalloc(&p, (size_t)want);
  if (err != hipSuccess) {
    (void)hipGetLastError();
    return fail_gpu(err, std::string("hipMalloc(") + what + ")", want);
  }
  buf.ptr = p;
  buf.bytes = want;
  return RF_OK;
}

}  // namespace rf

using namespace rf;

namespace {
void copy_cstr(const char* s, char* dst, int32_t len) {
  if (!dst || len <= 0) return;
  strncpy(dst, s, (size_t)len - 1);
  dst[len - 1] = '\0';
}
}  // namespace

extern "C" rf_status rf_version(int32_t* abiVersion, int32_t* target) {
  if (abiVersion) *abiVersion = RF_ABI_VERSION;
#if defined(RF_GPU_CUDA)
  if (target) *target = 1;
#else
  if (target) *target = 0;
#endif
  return RF_OK;
}

extern "C" rf_status rf_init(int32_t* deviceCount) {
  clear_error();
  int n = 0;
  RF_CHECK(hipGetDeviceCount(&n), 0);
  if (deviceCount) *deviceCount = n;
  if (n <= 0) return fail(RF_ERR_NO_DEVICE, "hipGetDeviceCount", "no GPU device found");
  return RF_OK;
}

extern "C" rf_status rf_device_props(int32_t device, char* name, int32_t nameLen, char* arch,
                                     int32_t archLen, int64_t* nums) {
  clear_error();
  hipDeviceProp_t p;
  RF_CHECK(hipGetDeviceProperties(&p, device), 0);
  copy_cstr(p.name, name, nameLen);
#if defined(RF_GPU_CUDA)
  const std::string a = "sm_" + std::to_string(p.major) + std::to_string(p.minor);
  copy_cstr(a.c_str(), arch, archLen);
  const int64_t clockKHz = 0, memClockKHz = 0;  // no longer reported by CUDA 13
#else
  copy_cstr(p.gcnArchName, arch, archLen);
  const int64_t clockKHz = p.clockRate, memClockKHz = p.memoryClockRate;
#endif
  RF_CHECK(hipSetDevice(device), 0);
  size_t freeB = 0, totalB = 0;
  RF_CHECK(hipMemGetInfo(&freeB, &totalB), 0);
  if (nums) {
    nums[0] = (int64_t)totalB;
    nums[1] = (int64_t)freeB;
    nums[2] = p.multiProcessorCount;
    nums[3] = p.warpSize;
    nums[4] = p.major;
    nums[5] = p.minor;
    nums[6] = clockKHz;
    nums[7] = p.memoryBusWidth;
    nums[8] = memClockKHz;
    nums[9] = p.l2CacheSize;
  }
  return RF_OK;
}

extern "C" rf_status rf_context_create(int32_t device, int32_t* ctx) {
  clear_error();
  int n = 0;
  RF_CHECK(hipGetDeviceCount(&n), 0);
  if (device < 0 || device >= n) {
    return fail(RF_ERR_INVALID, "rf_context_create",
                "device " + std::to_string(device) + " out of range (" + std::to_string(n) +
                    " devices)");
  }
  RF_CHECK(hipSetDevice(device), 0);
  hipDeviceProp_t p;
  RF_CHECK(hipGetDeviceProperties(&p, device), 0);
  Context c;
  c.device = device;
  c.warpSize = p.warpSize;
  c.smCount = p.multiProcessorCount;
  RF_CHECK(hipStreamCreateWithFlags(&c.stream, hipStreamNonBlocking), 0);
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.lock);
  const int id = r.next++;
  r.contexts[id] = c;
  *ctx = id;
  return RF_OK;
}

extern "C" rf_status rf_context_destroy(int32_t ctx) {
  clear_error();
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.lock);
  auto it = r.contexts.find(ctx);
  if (it == r.contexts.end()) return fail(RF_ERR_HANDLE, "rf_context_destroy", "unknown context");
  for (const auto& a : r.arenas) {
    if (a.second.ctx == ctx) {
      return fail(RF_ERR_INVALID, "rf_context_destroy", "context still has weight arenas");
    }
  }
  for (const auto& k : r.kvs) {
    if (k.second.ctx == ctx) {
      return fail(RF_ERR_INVALID, "rf_context_destroy", "context still has KV caches");
    }
  }
  Context c = it->second;
  r.contexts.erase(it);
  RF_CHECK(hipSetDevice(c.device), 0);
  RF_CHECK(hipStreamSynchronize(c.stream), 0);
  if (c.scratch.ptr) RF_CHECK(hipFree(c.scratch.ptr), 0);
  if (c.workspace.ptr) RF_CHECK(hipFree(c.workspace.ptr), 0);
  if (c.staging.ptr) RF_CHECK(hipFree(c.staging.ptr), 0);
  if (c.params.ptr) RF_CHECK(hipFree(c.params.ptr), 0);
  if (c.hostStaging) RF_CHECK(hipHostFree(c.hostStaging), 0);
  for (const auto& ge : c.graphs) RF_CHECK(hipGraphExecDestroy(ge.second.exec), 0);
  RF_CHECK(hipStreamDestroy(c.stream), 0);
  return RF_OK;
}
