// layer_norm.hip: LayerNorm (ggml_norm, then the weight multiply and the optional bias add), one
// block per row: the mean, then the variance of the centered values, each summed per warp and
// then over the block's warps.
#include "quant_types.h"
#include "rf_kernels.h"

namespace rf {

// Element k of an F32 or F16 vector.
__device__ __forceinline__ float load_vec(const void* p, int type, int k) {
  const uint8_t* b = static_cast<const uint8_t*>(p);
  return type == T_F16 ? load_plain<T_F16>(b, k) : load_plain<T_F32>(b, k);
}

// The sum of every thread's `v` over the block (blockDim.x a multiple of RF_WARP, at most 32
// warps); `partial` is reused, so the block synchronizes before and after.
__device__ __forceinline__ float block_sum(float v, float* partial) {
  v = rf_warp_sum(v);
  const int warp = threadIdx.x / RF_WARP, lane = threadIdx.x % RF_WARP;
  const int nWarps = blockDim.x / RF_WARP;
  __syncthreads();
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  float total = 0.f;
  for (int i = 0; i < nWarps; ++i) total += partial[i];
  return total;
}

__global__ void __launch_bounds__(1024)
    layer_norm_kernel(const float* __restrict__ x, const void* __restrict__ w, int wType,
                      const void* __restrict__ b, int bType, float* __restrict__ out, int cols,
                      float eps) {
  __shared__ float partial[32];
  const int64_t base = (int64_t)blockIdx.x * cols;
  const int tid = threadIdx.x, nt = blockDim.x;
  float s = 0.f;
  for (int k = tid; k < cols; k += nt) s += x[base + k];
  const float mean = block_sum(s, partial) / (float)cols;
  float sq = 0.f;
  for (int k = tid; k < cols; k += nt) {
    const float d = x[base + k] - mean;
    sq += d * d;
  }
  const float variance = block_sum(sq, partial) / (float)cols;
  const float scale = 1.f / sqrtf(variance + eps);
  for (int k = tid; k < cols; k += nt) {
    float y = (x[base + k] - mean) * scale * load_vec(w, wType, k);
    if (b) y += load_vec(b, bType, k);
    out[base + k] = y;
  }
}

hipError_t launch_layer_norm(hipStream_t stream, const float* x, const void* w, int wType,
                             const void* b, int bType, float* out, int T, int cols, float eps) {
  // Wide rows get more threads, as the RMSNorm does; at most 32 warps (partial[32]).
  const int threads = cols >= 2048 ? 1024 : 256;
  layer_norm_kernel<<<(unsigned)T, threads, 0, stream>>>(x, w, wType, b, bType, out, cols, eps);
  return hipGetLastError();
}

}  // namespace rf
