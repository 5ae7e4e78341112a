// act_quant.hip: activation rounding before a product with a quantized weight, as llama.cpp's
// CPU path does it (so the GPU computes the same function as the CPU reference):
// - 32-element blocks (weights Q4_0, Q4_1, Q5_0, Q5_1, Q8_0): d = amax/127, q = rne(x * id)
//   with id = 127/amax (llama.cpp's x86 quantize_row_q8_0/q8_1), and the scale is kept in
//   half precision (q8_0 / q8_1 blocks); for Q4_1 / Q5_1 (q8_1) the block sum term is
//   llama.cpp's s = half(d * sum(q)) with the unrounded d, for the others the exact
//   half(d) * sum(q) that their offset correction needs;
// - 256-element blocks (K-quants): d = max/-127 with max the signed value of largest
//   magnitude, q = min(127, rne(x * -127/max)) (q8_K blocks).
// Output: xq[T*K] int8 and, per 32 elements, xds = (scale, scale * sum(q)).
#include "act_quant.h"
#include "quant_types.h"
#include "rf_kernels.h"

namespace rf {

namespace {
constexpr int QT_THREADS = 256;

__device__ __forceinline__ float block_max(float v, float* red) {
  v = rf_warp_max(v);
  const int w = threadIdx.x / RF_WARP, lane = threadIdx.x % RF_WARP;
  __syncthreads();
  if (lane == 0) red[w] = v;
  __syncthreads();
  float m = red[0];
  for (int i = 1; i < QT_THREADS / RF_WARP; ++i) m = fmaxf(m, red[i]);
  return m;
}
}  // namespace

// One thread per element; blocks of 32 elements.
__global__ void __launch_bounds__(QT_THREADS)
    quantize_q8_32_kernel(const float* __restrict__ x, int8_t* __restrict__ xq,
                          float2* __restrict__ xds, int64_t n, bool q8_1) {
  const int64_t i = (int64_t)blockIdx.x * QT_THREADS + threadIdx.x;
  act_quant32_store(i < n ? x[i] : 0.f, i, i < n, xq, xds, q8_1);
}

// One block of 256 threads per 256 elements (n is a multiple of 256).
__global__ void __launch_bounds__(QT_THREADS)
    quantize_q8_256_kernel(const float* __restrict__ x, int8_t* __restrict__ xq,
                           float2* __restrict__ xds) {
  __shared__ float red[QT_THREADS / 32];
  const int64_t base = (int64_t)blockIdx.x * 256;
  const int tid = threadIdx.x;
  const float v = x[base + tid];
  const float amax = block_max(fabsf(v), red);
  // The first element of largest magnitude gives the signed max (as the CPU loop finds it).
  const float first = block_max(fabsf(v) == amax ? (float)(255 - tid) : -1.f, red);
  const float mx = x[base + (255 - (int)first)];
  float d = 0.f;
  int q = 0;
  if (amax != 0.f) {
    const float iscale = -127.f / mx;
    d = 1.f / iscale;
    q = min(127, __float2int_rn(iscale * v));
  }
  const float sum = rf_group_sum<32>((float)q);
  xq[base + tid] = (int8_t)q;
  if ((tid & 31) == 0) xds[(base + tid) >> 5] = make_float2(d, d * sum);
}

int act_quant_format(int type) {
  return kernel_type_quantized(type) ? act_int8_format(type) : 0;
}

int64_t act_quant_bytes(int T, int K) {
  const int64_t q = ((int64_t)T * K + 255) & ~(int64_t)255;
  const int64_t d = ((int64_t)T * (K / 32) * 8 + 255) & ~(int64_t)255;
  return q + d;
}

namespace {
void act_quant_pointers(void* ws, int T, int K, int8_t** xq, float** xds) {
  *xq = static_cast<int8_t*>(ws);
  *xds = reinterpret_cast<float*>(static_cast<uint8_t*>(ws) +
                                  (((int64_t)T * K + 255) & ~(int64_t)255));
}
}  // namespace

bool fuse_act_quant32(int type, void* ws, int T, int K, Fuse& f) {
  const int format = act_quant_format(type);
  if (format != RF_ACT_Q8_0 && format != RF_ACT_Q8_1) return false;
  float* xds = nullptr;
  act_quant_pointers(ws, T, K, &f.xq, &xds);
  f.xds = reinterpret_cast<float2*>(xds);
  f.q8_1 = format == RF_ACT_Q8_1;
  return true;
}

hipError_t launch_quantize_act(hipStream_t stream, int type, const float* x, void* ws, int T,
                               int K, int8_t** xq, float** xds, bool ready) {
  act_quant_pointers(ws, T, K, xq, xds);
  if (ready) return hipSuccess;
  float2* ds = reinterpret_cast<float2*>(*xds);
  const int64_t n = (int64_t)T * K;
  const bool fault = take_launch_fault(RF_FAULT_ACT_QUANT);
  if (act_int8_format(type) == RF_ACT_Q8_K) {
    const unsigned grid = fault ? 0u : (unsigned)(n / 256);
    quantize_q8_256_kernel<<<grid, QT_THREADS, 0, stream>>>(x, *xq, ds);
  } else {
    const unsigned grid = fault ? 0u : (unsigned)((n + QT_THREADS - 1) / QT_THREADS);
    quantize_q8_32_kernel<<<grid, QT_THREADS, 0, stream>>>(x, *xq, ds, n,
                                                           act_int8_format(type) == RF_ACT_Q8_1);
  }
  return hipGetLastError();
}

}  // namespace rf
