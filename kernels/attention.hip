// attention.hip: causal grouped-query attention over a half-precision KV cache, flash style.
//
// One warp per (query row t, head h, position chunk c). Each lane owns dims lane, lane+WARP, ...
// of the head; for every cached position the warp reduces q.k, and keeps an online softmax
// (running max m, running sum l, running weighted sum of values), so no score matrix is ever
// stored. Decode (few rows) splits the positions into chunks whose partial (m, l, acc) are then
// merged by a second kernel; prefill (many rows) uses one chunk.
#include "quant_types.h"
#include "rf_kernels.h"

namespace rf {

namespace {
constexpr int MAX_HEAD_DIM = 256;
constexpr int ATTN_THREADS = 128;
constexpr int POS_UNROLL = 4;
}  // namespace

__global__ void __launch_bounds__(ATTN_THREADS)
    attention_kernel(const float* __restrict__ q, const uint16_t* __restrict__ kc,
                     const uint16_t* __restrict__ vc, float* __restrict__ out,
                     float* __restrict__ part, AttnArgs a, int nChunks, int chunk) {
  constexpr int DPL = MAX_HEAD_DIM / RF_WARP;  // dims per lane at most
  const int warpsPerBlock = blockDim.x / RF_WARP;
  const int64_t w = (int64_t)blockIdx.x * warpsPerBlock + threadIdx.x / RF_WARP;
  const int lane = threadIdx.x % RF_WARP;
  const int64_t nWork = (int64_t)a.T * a.nHead * nChunks;
  if (w >= nWork) return;
  const int c = (int)(w % nChunks);
  const int h = (int)((w / nChunks) % a.nHead);
  const int t = (int)(w / ((int64_t)nChunks * a.nHead));
  const int kvh = h / (a.nHead / a.nHeadKV);
  const int nPos = a.pos0 + t + 1;
  const int p0 = c * chunk;
  const int p1 = min(nPos, p0 + chunk);
  const int64_t kStride = (int64_t)a.nHeadKV * a.headDim;
  const int64_t vStride = (int64_t)a.nHeadKV * a.valueDim;
  const uint16_t* kh = kc + (int64_t)kvh * a.headDim;
  const uint16_t* vh = vc + (int64_t)kvh * a.valueDim;

  float qr[DPL], acc[DPL];
  const float* qrow = q + ((int64_t)t * a.nHead + h) * a.headDim;
#pragma unroll
  for (int i = 0; i < DPL; ++i) {
    const int d = lane + i * RF_WARP;
    qr[i] = d < a.headDim ? __half2float(__float2half_rn(qrow[d])) : 0.f;
    acc[i] = 0.f;
  }
  float m = -INFINITY, l = 0.f;
  for (int p = p0; p < p1; p += POS_UNROLL) {
    float s[POS_UNROLL];
#pragma unroll
    for (int u = 0; u < POS_UNROLL; ++u) {
      float dot = 0.f;
      if (p + u < p1) {
        const uint16_t* kr = kh + (int64_t)(p + u) * kStride;
#pragma unroll
        for (int i = 0; i < DPL; ++i) {
          const int d = lane + i * RF_WARP;
          if (d < a.headDim) dot += qr[i] * h2f(kr[d]);
        }
      }
      s[u] = dot;
    }
#pragma unroll
    for (int u = 0; u < POS_UNROLL; ++u) s[u] = rf_warp_sum(s[u]) * a.scale;
    float mNew = m;
#pragma unroll
    for (int u = 0; u < POS_UNROLL; ++u) {
      if (p + u < p1) mNew = fmaxf(mNew, s[u]);
    }
    const float corr = __expf(m - mNew);
    l *= corr;
#pragma unroll
    for (int i = 0; i < DPL; ++i) acc[i] *= corr;
#pragma unroll
    for (int u = 0; u < POS_UNROLL; ++u) {
      if (p + u < p1) {
        const float e = __expf(s[u] - mNew);
        l += e;
        const uint16_t* vr = vh + (int64_t)(p + u) * vStride;
#pragma unroll
        for (int i = 0; i < DPL; ++i) {
          const int d = lane + i * RF_WARP;
          if (d < a.valueDim) acc[i] = fmaf(e, h2f(vr[d]), acc[i]);
        }
      }
    }
    m = mNew;
  }
  if (nChunks == 1) {
    const float inv = l > 0.f ? 1.f / l : 0.f;
    float* orow = out + ((int64_t)t * a.nHead + h) * a.valueDim;
#pragma unroll
    for (int i = 0; i < DPL; ++i) {
      const int d = lane + i * RF_WARP;
      if (d < a.valueDim) orow[d] = acc[i] * inv;
    }
  } else {
    float* pr = part + w * (a.valueDim + 2);
    if (lane == 0) {
      pr[0] = m;
      pr[1] = l;
    }
#pragma unroll
    for (int i = 0; i < DPL; ++i) {
      const int d = lane + i * RF_WARP;
      if (d < a.valueDim) pr[2 + d] = acc[i];
    }
  }
}

// Merges the chunk partials of each (t, h): one block per (t, h), threads over value dims.
__global__ void attention_merge_kernel(const float* __restrict__ part, float* __restrict__ out,
                                       int valueDim, int nChunks) {
  const int64_t th = blockIdx.x;
  const float* pr = part + th * nChunks * (valueDim + 2);
  float mMax = -INFINITY;
  for (int c = 0; c < nChunks; ++c) mMax = fmaxf(mMax, pr[c * (valueDim + 2)]);
  float l = 0.f;
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
// Positions per chunk at least: a warp walks its chunk serially (latency bound), so decode
// splits short contexts finely to keep many warps busy; the merge is cheap.
constexpr int MIN_CHUNK = 8;

// Chunks per (t, h): enough warps to fill the device, chunks of at least MIN_CHUNK positions.
void plan_chunks(const AttnArgs& a, int smCount, int warp, int& nChunks, int& chunk) {
  const int maxPos = a.pos0 + a.T;
  const int64_t rows = (int64_t)a.T * a.nHead;
  const int64_t target = (int64_t)smCount * (2048 / warp);  // about one full wave of warps
  int n = (int)((target + rows - 1) / rows);
  n = min(n, (maxPos + MIN_CHUNK - 1) / MIN_CHUNK);
  n = max(n, 1);
  nChunks = n;
  chunk = (maxPos + n - 1) / n;
}
}  // namespace

int64_t attention_workspace_bytes(const AttnArgs& a, int smCount, int warp) {
  int nChunks, chunk;
  plan_chunks(a, smCount, warp, nChunks, chunk);
  if (nChunks == 1) return 0;
  const int64_t floats = (int64_t)a.T * a.nHead * nChunks * (a.valueDim + 2);
  return (floats * 4 + 255) & ~(int64_t)255;
}

// Rounds the new K rows (kn values) and V rows (vn values) to half into the cache, one launch.
__global__ void kv_store_kernel(const float* __restrict__ ks, __half* __restrict__ kd, int64_t kn,
                                const float* __restrict__ vs, __half* __restrict__ vd,
                                int64_t vn) {
  const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < kn) kd[i] = __float2half_rn(ks[i]);
  if (i < vn) vd[i] = __float2half_rn(vs[i]);
}

hipError_t launch_kv_store(hipStream_t stream, const float* k, uint16_t* kDst, int64_t kn,
                           const float* v, uint16_t* vDst, int64_t vn) {
  const int64_t n = kn > vn ? kn : vn;
  kv_store_kernel<<<(unsigned)((n + 255) / 256), 256, 0, stream>>>(
      k, reinterpret_cast<__half*>(kDst), kn, v, reinterpret_cast<__half*>(vDst), vn);
  return hipGetLastError();
}

hipError_t launch_attention(hipStream_t stream, int warp, int smCount, const float* q,
                            const uint16_t* kCache, const uint16_t* vCache, float* out,
                            const AttnArgs& a, void* workspace) {
  int nChunks, chunk;
  plan_chunks(a, smCount, warp, nChunks, chunk);
  const int warpsPerBlock = ATTN_THREADS / warp;
  const int64_t nWork = (int64_t)a.T * a.nHead * nChunks;
  const unsigned blocks = (unsigned)((nWork + warpsPerBlock - 1) / warpsPerBlock);
  float* part = static_cast<float*>(workspace);
  attention_kernel<<<blocks, ATTN_THREADS, 0, stream>>>(q, kCache, vCache, out, part, a, nChunks,
                                                        chunk);
  if (nChunks > 1) {
    attention_merge_kernel<<<(unsigned)(a.T * a.nHead), 128, 0, stream>>>(part, out, a.valueDim,
                                                                         nChunks);
  }
  return hipGetLastError();
}

}  // namespace rf
