// rf_error.cpp: the per-thread last error behind rf_last_error, and ggml block sizes.
#include <string.h>

#include "rf_internal.h"

namespace rf {

namespace {
struct LastError {
  rf_status status = RF_OK;
  std::string message, call, gpuName;
  int gpuCode = 0;
  int64_t bytes = 0;
};
thread_local LastError g_error;

void copy_str(const std::string& s, char* dst, int32_t len) {
  if (!dst || len <= 0) return;
  const size_t n = s.size() < (size_t)(len - 1) ? s.size() : (size_t)(len - 1);
  memcpy(dst, s.data(), n);
  dst[n] = '\0';
}
}  // namespace

rf_status fail(rf_status status, const std::string& call, const std::string& message, int gpuCode,
               int64_t bytes) {
  g_error.status = status;
  g_error.call = call;
  g_error.message = call + ": " + message;
  g_error.gpuCode = gpuCode;
  g_error.gpuName = gpuCode ? hipGetErrorName((hipError_t)gpuCode) : "";
  g_error.bytes = bytes;
  return status;
}

rf_status fail_gpu(hipError_t err, const std::string& call, int64_t bytes) {
  const rf_status st = err == hipErrorOutOfMemory ? RF_ERR_OOM
                       : err == hipErrorNoDevice  ? RF_ERR_NO_DEVICE
                                                  : RF_ERR_GPU;
  std::string msg = std::string(hipGetErrorName(err)) + " (" + hipGetErrorString(err) + ")";
  if (bytes > 0) msg += ", " + std::to_string(bytes) + " bytes";
  return fail(st, call, msg, (int)err, bytes);
}

void clear_error() { g_error = LastError(); }

}  // namespace rf

extern "C" rf_status rf_last_error(char* msg, int32_t msgLen, char* call, int32_t callLen,
                                   char* gpuName, int32_t gpuNameLen, int64_t* nums) {
  const rf::LastError& e = rf::g_error;
  rf::copy_str(e.message, msg, msgLen);
  rf::copy_str(e.call, call, callLen);
  rf::copy_str(e.gpuName, gpuName, gpuNameLen);
  if (nums) {
    nums[0] = e.status;
    nums[1] = e.gpuCode;
    nums[2] = e.bytes;
  }
  return e.status;
}
