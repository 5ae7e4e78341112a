// attention.hip: grouped-query attention over a half-precision KV cache: causal (over the whole
// history, or a sliding window of it) or not (the rows of one pass), with soft-capped scores
// and per-head sink logits when the node has them.
//
// Flash attention (kernels/attention_flash.h): tiles of query rows (token x query head of one
// KV head's group) against tiles of cached positions, online softmax, tensor cores on NVIDIA.
// When the row tiles alone do not fill the device (decode, short prompts) the positions are
// split into chunks whose partials (max, sum, output) a second kernel merges (split-KV).
#include <stdlib.h>
#include <string.h>

#include "attention_flash.h"
#include "attention_flash_mma.h"

namespace rf {

// Merges the chunk partials of each (t, h): one block per (t, h), threads over value dims.
// The head's sink logit (if any) joins the maximum and the sum.
__global__ void attention_merge_kernel(const float* __restrict__ part, float* __restrict__ out,
                                       AttnArgs a, int nChunks) {
  const int64_t th = blockIdx.x;
  const int valueDim = a.valueDim;
  const float* pr = part + th * nChunks * (valueDim + 2);
  const float sink = fa_sink(a, (int)(th % a.nHead));
  float mMax = sink;
  for (int c = 0; c < nChunks; ++c) mMax = fmaxf(mMax, pr[c * (valueDim + 2)]);
  float l = sink == -INFINITY ? 0.f : __expf(sink - mMax);
  for (int c = 0; c < nChunks; ++c) {
    const float* pc = pr + c * (valueDim + 2);
    if (pc[1] > 0.f) l += pc[1] * __expf(pc[0] - mMax);
  }
  const float inv = l > 0.f ? 1.f / l : 0.f;
  for (int d = threadIdx.x; d < valueDim; d += blockDim.x) {
    float v = 0.f;
    for (int c = 0; c < nChunks; ++c) {
      const float* pc = pr + c * (valueDim + 2);
      if (pc[1] > 0.f) v += pc[2 + d] * __expf(pc[0] - mMax);
    }
    out[th * valueDim + d] = v * inv;
  }
}

namespace {
// Tile shapes (head dims padded to D = 64, 128 or 256). NVIDIA: 64-row tiles for prefill;
// AMD: tiles that fit 64 KiB of LDS. Row tiles of 16 when the rows of a KV head are few.
struct FaShape {
  int d, bm, bk;
};

FaShape fa_shape(const AttnArgs& a) {
  const int hd = a.headDim > a.valueDim ? a.headDim : a.valueDim;
  const int d = hd <= 64 ? 64 : hd <= 128 ? 128 : 256;
  const int rows = a.T * (a.nHead / a.nHeadKV);
#if defined(RF_GPU_CUDA)
  const int bm = rows <= 16 ? 16 : 64;
  const int bk = d == 256 ? 32 : 64;
#else
  const int bm = rows <= 16 || d == 256 ? 16 : 32;
  const int bk = 32;
#endif
  return {d, bm, bk};
}

// Position chunks over the planned span: enough blocks for about four per multiprocessor,
// chunks of whole K/V tiles and at least two tiles each (the merge is cheap, an idle
// multiprocessor is not; one tile per chunk in decode measured 3-8% slower on an H200).
void plan_chunks(const AttnArgs& a, int smCount, int& nChunks, int& chunk) {
  const FaShape s = fa_shape(a);
  const int maxPos = a.span - a.base;
  const int rows = a.T * (a.nHead / a.nHeadKV);
  const int64_t blocks =
      (int64_t)((rows + s.bm - 1) / s.bm) * a.nHeadKV * (a.nSeqs > 0 ? a.nSeqs : 1);
  const int64_t target = (int64_t)smCount * 4;
  int n = (int)((target + blocks - 1) / blocks);
  n = min(n, (maxPos + 2 * s.bk - 1) / (2 * s.bk));
  n = max(n, 1);
  chunk = (maxPos + n - 1) / n;
  chunk = (chunk + s.bk - 1) / s.bk * s.bk;
  nChunks = (maxPos + chunk - 1) / chunk;
}

template <int D, int BM, int BK>
hipError_t launch_flash(hipStream_t stream, const float* q, const uint16_t* kc,
                        const uint16_t* vc, float* out, float* part, const AttnArgs& a,
                        int nChunks, int chunk) {
  using L = FaLayout<D, BM, BK>;
#if defined(RF_GPU_CUDA)
  static_assert(L::BYTES <= 227 * 1024, "flash attention tile exceeds shared memory");
  static bool attributed = false;  // the opt-in above 48 KiB, once per instantiation
  if (!attributed) {
    const hipError_t err = cudaFuncSetAttribute(flash_attention_kernel<D, BM, BK>,
                                                cudaFuncAttributeMaxDynamicSharedMemorySize,
                                                L::BYTES);
    if (err != hipSuccess) return err;
    attributed = true;
  }
#else
  static_assert(L::BYTES <= 64 * 1024, "flash attention tile exceeds 64 KiB of LDS");
#endif
  const int rows = a.T * (a.nHead / a.nHeadKV);
  const dim3 grid((unsigned)((rows + BM - 1) / BM), (unsigned)a.nHeadKV,
                  (unsigned)(nChunks * (a.nSeqs > 0 ? a.nSeqs : 1)));
  flash_attention_kernel<D, BM, BK><<<grid, FA_THREADS, L::BYTES, stream>>>(q, kc, vc, out, part,
                                                                         a, nChunks, chunk);
  return hipGetLastError();
}

#if defined(RF_GPU_CUDA)
// The register-tiled prefill kernel (head dims <= 128); false (nothing launched) where the
// loaded code predates sm_80's mma.sync, so the caller runs the wmma kernel.
template <int D>
bool launch_flash_mma(hipStream_t stream, const float* q, const uint16_t* kc, const uint16_t* vc,
                      float* out, float* part, const AttnArgs& a, int nChunks, int chunk,
                      hipError_t& err) {
  using L = FaMmaLayout<D>;
  static int usable = -1;  // once per instantiation: the code version and the shared opt-in
  if (usable < 0) {
    // ROCMFORGE_FA_MMA=0 selects the wmma kernel instead (to test and time both).
    const char* env = getenv("ROCMFORGE_FA_MMA");
    cudaFuncAttributes attr{};
    usable = !(env && strcmp(env, "0") == 0) && cudaFuncGetAttributes(&attr, flash_attention_mma_kernel<D>) == cudaSuccess &&
             attr.ptxVersion >= 80 &&
             cudaFuncSetAttribute(flash_attention_mma_kernel<D>,
                                  cudaFuncAttributeMaxDynamicSharedMemorySize,
                                  L::BYTES) == cudaSuccess;
    (void)hipGetLastError();
  }
  if (!usable) return false;
  const int rows = a.T * (a.nHead / a.nHeadKV);
  const dim3 grid((unsigned)((rows + FA_MMA_BM - 1) / FA_MMA_BM), (unsigned)a.nHeadKV,
                  (unsigned)nChunks);
  flash_attention_mma_kernel<D><<<grid, FA_THREADS, L::BYTES, stream>>>(q, kc, vc, out, part, a,
                                                                       nChunks, chunk);
  err = hipGetLastError();
  return true;
}
#endif
}  // namespace

int64_t attention_workspace_bytes(const AttnArgs& a, int smCount, int /*warp*/) {
  int nChunks, chunk;
  plan_chunks(a, smCount, nChunks, chunk);
  if (nChunks == 1) return 0;
  const int64_t rowsAll = a.nSeqs > 0 ? a.rowsAll : a.T;
  const int64_t floats = rowsAll * a.nHead * nChunks * (a.valueDim + 2);
  return (floats * 4 + 255) & ~(int64_t)255;
}

// Rounds the T new K rows and V rows to half into the cache from position pos0, one launch.
__global__ void kv_store_kernel(const float* __restrict__ ks, __half* __restrict__ kc,
                                int64_t kRow, const float* __restrict__ vs,
                                __half* __restrict__ vc, int64_t vRow, int T, int pos0,
                                const int* __restrict__ pos0d) {
  const int64_t p = pos0d ? *pos0d : pos0;
  const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < T * kRow) kc[p * kRow + i] = __float2half_rn(ks[i]);
  if (i < T * vRow) vc[p * vRow + i] = __float2half_rn(vs[i]);
}

hipError_t launch_kv_store(hipStream_t stream, const float* k, uint16_t* kCache, int64_t kRow,
                           const float* v, uint16_t* vCache, int64_t vRow, int T, int pos0,
                           const int* pos0d) {
  const int64_t n = (int64_t)T * (kRow > vRow ? kRow : vRow);
  kv_store_kernel<<<(unsigned)((n + 255) / 256), 256, 0, stream>>>(
      k, reinterpret_cast<__half*>(kCache), kRow, v, reinterpret_cast<__half*>(vCache), vRow, T,
      pos0, pos0d);
  return hipGetLastError();
}

hipError_t launch_attention(hipStream_t stream, int /*warp*/, int smCount, const float* q,
                            const uint16_t* kCache, const uint16_t* vCache, float* out,
                            const AttnArgs& a, void* workspace) {
  int nChunks, chunk;
  plan_chunks(a, smCount, nChunks, chunk);
  float* part = static_cast<float*>(workspace);
  const FaShape s = fa_shape(a);
  hipError_t err = hipSuccess;
#if defined(RF_GPU_CUDA)
  static_assert(FA_MMA_BM == 64 && FA_MMA_BK == 64, "fa_shape's CUDA prefill tile");
  const bool mma = s.bm == 64 && a.nSeqs == 0 &&  // the register-tiled kernel takes one sequence
                    ((s.d == 64 && launch_flash_mma<64>(stream, q, kCache, vCache,
                                                                     out, part, a, nChunks,
                                                                     chunk, err)) ||
                                  (s.d == 128 && launch_flash_mma<128>(stream, q, kCache, vCache,
                                                                       out, part, a, nChunks,
                                                                       chunk, err)));
#else
  const bool mma = false;
#endif
  if (mma) {
    // launched by the register-tiled kernel
  } else
#define RF_FA_CASE(D, BM, BK)                                                          \
  if (s.d == D && s.bm == BM && s.bk == BK) {                                          \
    err = launch_flash<D, BM, BK>(stream, q, kCache, vCache, out, part, a, nChunks, chunk); \
  } else
#if defined(RF_GPU_CUDA)
  RF_FA_CASE(64, 16, 64)
  RF_FA_CASE(64, 64, 64)
  RF_FA_CASE(128, 16, 64)
  RF_FA_CASE(128, 64, 64)
  RF_FA_CASE(256, 16, 32)
  RF_FA_CASE(256, 64, 32)
#else
  RF_FA_CASE(64, 16, 32)
  RF_FA_CASE(64, 32, 32)
  RF_FA_CASE(128, 16, 32)
  RF_FA_CASE(128, 32, 32)
  RF_FA_CASE(256, 16, 32)
#endif
  return hipErrorInvalidValue;
#undef RF_FA_CASE
  if (err != hipSuccess) return err;
  if (nChunks > 1) {
    const int rowsAll = a.nSeqs > 0 ? a.rowsAll : a.T;
    attention_merge_kernel<<<(unsigned)(rowsAll * a.nHead), 128, 0, stream>>>(part, out, a,
                                                                            nChunks);
  }
  return hipGetLastError();
}

}  // namespace rf
