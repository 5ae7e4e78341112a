// elementwise.hip: SwiGLU (silu(gate) * up) and residual add over flat float32 arrays.
#include "rf_kernels.h"

namespace rf {

__global__ void swiglu_kernel(const float* __restrict__ g, const float* __restrict__ u,
                              float* __restrict__ out, int64_t n) {
  const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) {
    const float x = g[i];
    out[i] = x / (1.f + __expf(-x)) * u[i];
  }
}

__global__ void add_kernel(const float* __restrict__ a, const float* __restrict__ b,
                           float* __restrict__ out, int64_t n) {
  const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = a[i] + b[i];
}

hipError_t launch_swiglu(hipStream_t stream, const float* gate, const float* up, float* out,
                         int64_t n) {
  swiglu_kernel<<<(unsigned)((n + 255) / 256), 256, 0, stream>>>(gate, up, out, n);
  return hipGetLastError();
}

hipError_t launch_add(hipStream_t stream, const float* a, const float* b, float* out, int64_t n) {
  add_kernel<<<(unsigned)((n + 255) / 256), 256, 0, stream>>>(a, b, out, n);
  return hipGetLastError();
}

}  // namespace rf
