// multiseq.hip: the kernels of multi-sequence batches (native/rf_seqs.cpp) besides attention:
// the K/V store of rows that belong to different sequences' caches, and the gather of each
// sequence's last row.
#include "rf_kernels.h"

namespace rf {

__global__ void kv_store_rows_kernel(const float* __restrict__ ks, int64_t kRow,
                                     const float* __restrict__ vs, int64_t vRow, int T,
                                     const int* __restrict__ rowPos,
                                     const int* __restrict__ rowSeq,
                                     const AttnSeq* __restrict__ seqs, int64_t kOff,
                                     int64_t vOff) {
  const int t = blockIdx.y;
  const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= T) return;
  const int64_t p = rowPos[t];
  __half* base = reinterpret_cast<__half*>(const_cast<uint16_t*>(seqs[rowSeq[t]].base));
  if (i < kRow) base[kOff + p * kRow + i] = __float2half_rn(ks[(int64_t)t * kRow + i]);
  if (i < vRow) base[vOff + p * vRow + i] = __float2half_rn(vs[(int64_t)t * vRow + i]);
}

hipError_t launch_kv_store_rows(hipStream_t stream, const float* k, int64_t kRow, const float* v,
                                int64_t vRow, int T, const int* rowPos, const int* rowSeq,
                                const AttnSeq* seqs, int64_t kOff, int64_t vOff) {
  const int64_t n = kRow > vRow ? kRow : vRow;
  const dim3 grid((unsigned)((n + 255) / 256), (unsigned)T);
  kv_store_rows_kernel<<<grid, 256, 0, stream>>>(k, kRow, v, vRow, T, rowPos, rowSeq, seqs, kOff,
                                                 vOff);
  return hipGetLastError();
}

__global__ void gather_rows_kernel(const float* __restrict__ x, float* __restrict__ out,
                                   const int* __restrict__ rows, int cols) {
  const int s = blockIdx.y;
  const int k = blockIdx.x * blockDim.x + threadIdx.x;
  if (k < cols) out[(int64_t)s * cols + k] = x[(int64_t)rows[s] * cols + k];
}

hipError_t launch_gather_rows(hipStream_t stream, const float* x, float* out, const int* rows,
                              int n, int cols) {
  const dim3 grid((unsigned)((cols + 255) / 256), (unsigned)n);
  gather_rows_kernel<<<grid, 256, 0, stream>>>(x, out, rows, cols);
  return hipGetLastError();
}

}  // namespace rf
