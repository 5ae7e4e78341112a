// attention_flash.h: the flash-attention kernel (included by attention.hip only).
//
// One block per (tile of BM query rows, KV head, position chunk). The rows of a tile are the
// (token t, query head g of the KV head's group) pairs, m = t * G + g, so every K/V tile is read
// once for all G query heads that share it (GQA) and for all tokens of the tile. Per K/V tile
// of BK positions: S = Q K^T into shared memory, an online softmax per row (running max and sum,
// the accumulated output rescaled), then O += P V. On NVIDIA both products use half-precision
// tensor cores (wmma 16x16x16, float accumulation); elsewhere (AMD) the same shared-memory tiles
// go through a plain FMA loop, so the kernel is warp-size generic. With several chunks the block
// writes its partial (max, sum, unnormalized output) for attention_merge_kernel.
#pragma once
#include "quant_types.h"
#include "rf_kernels.h"

#if defined(RF_GPU_CUDA)
#include <mma.h>
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 700
#define RF_FA_WMMA 1
#endif
#endif

namespace rf {

constexpr int FA_THREADS = 128;

// Shared-memory layout of one block; leading dimensions padded against bank conflicts and kept
// multiples of 8 halves / 4 floats (wmma), regions 128-byte aligned.
template <int D, int BM, int BK>
struct FaLayout {
  static constexpr int QLD = D + 8, KLD = D + 8, SLD = BK + 4, PLD = BK + 8, OLD = D + 4;
  static constexpr int al(int x) { return (x + 127) & ~127; }
  static constexpr int Q_OFF = 0;
  static constexpr int K_OFF = Q_OFF + al(BM * QLD * 2);
  static constexpr int V_OFF = K_OFF + al(BK * KLD * 2);
  static constexpr int S_OFF = V_OFF + al(BK * KLD * 2);
  static constexpr int P_OFF = S_OFF + al(BM * SLD * 4);
  static constexpr int O_OFF = P_OFF + al(BM * PLD * 2);
  static constexpr int R_OFF = O_OFF + al(BM * OLD * 4);
  static constexpr int BYTES = R_OFF + al(3 * BM * 4);
};

// Copies `n` halves of `src` (n <= D) to `dst`, zero-filling up to D; `vec`: 16-byte loads.
template <int D>
__device__ __forceinline__ void fa_load_row8(__half* dst, const uint16_t* src, int n, int d8,
                                             bool valid, bool vec) {
  if (vec) {
    uint4 v = make_uint4(0u, 0u, 0u, 0u);
    if (valid && d8 < n) v = *reinterpret_cast<const uint4*>(src + d8);
    *reinterpret_cast<uint4*>(dst + d8) = v;
  } else {
    uint16_t* d = reinterpret_cast<uint16_t*>(dst);
#pragma unroll
    for (int i = 0; i < 8; ++i) d[d8 + i] = (valid && d8 + i < n) ? src[d8 + i] : (uint16_t)0;
  }
}

// The keys row t (a token of the launch) sees: fa_first(t) .. fa_last(t) (AttnArgs).
__device__ __forceinline__ int fa_last(const AttnArgs& a, int pos0, int t) {
  return a.causal ? pos0 + t : pos0 + a.T - 1;
}
__device__ __forceinline__ int fa_first(const AttnArgs& a, int pos0, int t) {
  return a.window > 0 ? max(0, pos0 + t - a.window + 1) : 0;
}
// A raw score Q.K soft-capped (when set) and scaled; invCap = 1 / softcap.
__device__ __forceinline__ float fa_score(const AttnArgs& a, float invCap, float dot) {
  if (a.softcap > 0.f) dot = tanhf(dot * invCap) * a.softcap;
  return dot * a.scale;
}
// Head h's sink logit, -INFINITY without sinks.
__device__ __forceinline__ float fa_sink(const AttnArgs& a, int h) {
  if (!a.sinks) return -INFINITY;
  const uint8_t* s = static_cast<const uint8_t*>(a.sinks);
  return a.sinkType == T_F16 ? load_plain<T_F16>(s, h) : load_plain<T_F32>(s, h);
}
// The sink joins a finished row (running max m, sum l, unnormalized output o): the factor o
// and l are rescaled by, with l updated; 1 without a sink.
__device__ __forceinline__ float fa_sink_join(float sink, float m, float& l) {
  if (sink == -INFINITY) return 1.f;
  const float mNew = fmaxf(m, sink);
  const float s = m == -INFINITY ? 0.f : __expf(m - mNew);
  l = l * s + __expf(sink - mNew);
  return s;
}

template <int D, int BM, int BK>
__global__ void __launch_bounds__(FA_THREADS)
    flash_attention_kernel(const float* __restrict__ q, const uint16_t* __restrict__ kc,
                           const uint16_t* __restrict__ vc, float* __restrict__ out,
                           float* __restrict__ part, AttnArgs a, int nChunks, int chunk) {
  using L = FaLayout<D, BM, BK>;
  extern __shared__ __align__(128) unsigned char fa_smem[];
  __half* sQ = reinterpret_cast<__half*>(fa_smem + L::Q_OFF);
  __half* sK = reinterpret_cast<__half*>(fa_smem + L::K_OFF);
  __half* sV = reinterpret_cast<__half*>(fa_smem + L::V_OFF);
  float* sS = reinterpret_cast<float*>(fa_smem + L::S_OFF);
  __half* sP = reinterpret_cast<__half*>(fa_smem + L::P_OFF);
  float* sO = reinterpret_cast<float*>(fa_smem + L::O_OFF);
  float* rowM = reinterpret_cast<float*>(fa_smem + L::R_OFF);
  float* rowL = rowM + BM;
  float* rowC = rowL + BM;

  int c = blockIdx.z;
  if (a.seqs) {  // a multi-sequence batch: blockIdx.z / nChunks is the sequence
    const AttnSeq sq = a.seqs[blockIdx.z / nChunks];
    c = blockIdx.z % nChunks;
    if ((int)blockIdx.x * BM >= sq.rows * (a.nHead / a.nHeadKV)) return;
    q += (int64_t)sq.row0 * a.nHead * a.headDim;
    out += (int64_t)sq.row0 * a.nHead * a.valueDim;
    if (nChunks > 1) part += (int64_t)sq.row0 * a.nHead * nChunks * (a.valueDim + 2);
    kc = sq.base + a.kOff;
    vc = sq.base + a.vOff;
    a.T = sq.rows;
    a.pos0 = sq.pos0;
  }
  const int tid = threadIdx.x;
  const int warp = tid / RF_WARP, lane = tid % RF_WARP, nWarps = FA_THREADS / RF_WARP;
  const int G = a.nHead / a.nHeadKV;
  const int rows = a.T * G;
  const int m0 = blockIdx.x * BM;
  const int kvh = blockIdx.y;
  const int tLast = (min(rows, m0 + BM) - 1) / G;
  const int pos0 = a.pos0d ? *a.pos0d : a.pos0;  // chunks past it (a replayed span) stay empty
  const int p0 = a.base + c * chunk;
  const int p1 = min(fa_last(a, pos0, tLast) + 1, p0 + chunk);
  const int pStart = max(p0, fa_first(a, pos0, m0 / G));  // keys below: outside every window
  const float invCap = a.softcap > 0.f ? 1.f / a.softcap : 0.f;
  const int64_t kStride = (int64_t)a.nHeadKV * a.headDim;
  const int64_t vStride = (int64_t)a.nHeadKV * a.valueDim;
  const uint16_t* kh = kc + (int64_t)kvh * a.headDim;
  const uint16_t* vh = vc + (int64_t)kvh * a.valueDim;
  const bool vec = (a.headDim % 8 == 0) && (a.valueDim % 8 == 0);

  for (int i = tid; i < BM * D; i += FA_THREADS) {
    const int r = i / D, d = i % D, m = m0 + r;
    float x = 0.f;
    if (m < rows && d < a.headDim) {
      const int t = m / G, h = kvh * G + m % G;
      x = q[((int64_t)t * a.nHead + h) * a.headDim + d];
    }
    sQ[r * L::QLD + d] = __float2half_rn(x);
    sO[r * L::OLD + d] = 0.f;
  }
  for (int r = tid; r < BM; r += FA_THREADS) {
    rowM[r] = -INFINITY;
    rowL[r] = 0.f;
  }

  for (int kp = pStart; kp < p1; kp += BK) {
    for (int i = tid; i < BK * (D / 8); i += FA_THREADS) {
      const int j = i / (D / 8), d8 = (i % (D / 8)) * 8;
      const bool valid = kp + j < p1;
      fa_load_row8<D>(sK + j * L::KLD, kh + (int64_t)(kp + j) * kStride, a.headDim, d8, valid,
                      vec);
      fa_load_row8<D>(sV + j * L::KLD, vh + (int64_t)(kp + j) * vStride, a.valueDim, d8, valid,
                      vec);
    }
    __syncthreads();
#if defined(RF_FA_WMMA)
    {
      using namespace nvcuda;
      for (int tile = warp; tile < (BM / 16) * (BK / 16); tile += nWarps) {
        const int ti = tile / (BK / 16), tj = tile % (BK / 16);
        wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
        wmma::fill_fragment(acc, 0.f);
#pragma unroll
        for (int k = 0; k < D / 16; ++k) {
          wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> fa;
          wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::col_major> fb;
          wmma::load_matrix_sync(fa, sQ + ti * 16 * L::QLD + k * 16, L::QLD);
          wmma::load_matrix_sync(fb, sK + tj * 16 * L::KLD + k * 16, L::KLD);
          wmma::mma_sync(acc, fa, fb, acc);
        }
        wmma::store_matrix_sync(sS + ti * 16 * L::SLD + tj * 16, acc, L::SLD,
                                wmma::mem_row_major);
      }
    }
#else
    for (int i = tid; i < BM * BK; i += FA_THREADS) {
      const int r = i / BK, j = i % BK;
      float dot = 0.f;
#pragma unroll 8
      for (int d = 0; d < D; ++d) {
        dot = fmaf(__half2float(sQ[r * L::QLD + d]), __half2float(sK[j * L::KLD + d]), dot);
      }
      sS[r * L::SLD + j] = dot;
    }
#endif
    __syncthreads();
    for (int r = warp; r < BM; r += nWarps) {
      const int m = m0 + r;
      const int limit = m < rows ? fa_last(a, pos0, m / G) : -1;  // keys row m sees: first..limit
      const int first = fa_first(a, pos0, m / G);
      float mx = -INFINITY;
      for (int j = lane; j < BK; j += RF_WARP) {
        const int p = kp + j;
        const bool ok = p < p1 && p >= first && p <= limit;
        const float x = ok ? fa_score(a, invCap, sS[r * L::SLD + j]) : -INFINITY;
        sS[r * L::SLD + j] = x;
        mx = fmaxf(mx, x);
      }
      mx = rf_warp_max(mx);
      const float mOld = rowM[r];
      const float mNew = fmaxf(mOld, mx);
      const float corr = mNew == -INFINITY ? 1.f : __expf(mOld - mNew);
      float sum = 0.f;
      for (int j = lane; j < BK; j += RF_WARP) {
        const float x = sS[r * L::SLD + j];
        const float e = x == -INFINITY ? 0.f : __expf(x - mNew);
        sS[r * L::SLD + j] = e;
        sP[r * L::PLD + j] = __float2half_rn(e);
        sum += e;
      }
      sum = rf_warp_sum(sum);
      if (lane == 0) {
        rowL[r] = rowL[r] * corr + sum;
        rowM[r] = mNew;
        rowC[r] = corr;
      }
    }
    __syncthreads();
#if defined(RF_FA_WMMA)
    for (int i = tid; i < BM * D; i += FA_THREADS) sO[(i / D) * L::OLD + i % D] *= rowC[i / D];
    __syncthreads();
    {
      using namespace nvcuda;
      for (int tile = warp; tile < (BM / 16) * (D / 16); tile += nWarps) {
        const int ti = tile / (D / 16), tj = tile % (D / 16);
        wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
        float* o = sO + ti * 16 * L::OLD + tj * 16;
        wmma::load_matrix_sync(acc, o, L::OLD, wmma::mem_row_major);
#pragma unroll
        for (int k = 0; k < BK / 16; ++k) {
          wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> fa;
          wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::row_major> fb;
          wmma::load_matrix_sync(fa, sP + ti * 16 * L::PLD + k * 16, L::PLD);
          wmma::load_matrix_sync(fb, sV + k * 16 * L::KLD + tj * 16, L::KLD);
          wmma::mma_sync(acc, fa, fb, acc);
        }
        wmma::store_matrix_sync(o, acc, L::OLD, wmma::mem_row_major);
      }
    }
#else
    for (int i = tid; i < BM * D; i += FA_THREADS) {
      const int r = i / D, d = i % D;
      float acc = sO[r * L::OLD + d] * rowC[r];
#pragma unroll 8
      for (int j = 0; j < BK; ++j) {
        acc = fmaf(sS[r * L::SLD + j], __half2float(sV[j * L::KLD + d]), acc);
      }
      sO[r * L::OLD + d] = acc;
    }
#endif
    __syncthreads();
  }
  __syncthreads();  // the initial sO / rowL when no position tile ran

  for (int i = tid; i < BM * D; i += FA_THREADS) {
    const int r = i / D, d = i % D, m = m0 + r;
    if (m >= rows || d >= a.valueDim) continue;
    const int t = m / G, h = kvh * G + m % G;
    const int64_t th = (int64_t)t * a.nHead + h;
    const float o = sO[r * L::OLD + d];
    if (nChunks == 1) {
      float l = rowL[r];
      const float s = fa_sink_join(fa_sink(a, h), rowM[r], l);
      out[th * a.valueDim + d] = l > 0.f ? o * s / l : 0.f;
    } else {
      float* pr = part + (th * nChunks + c) * (a.valueDim + 2);
      if (d == 0) {
        pr[0] = rowM[r];
        pr[1] = rowL[r];
      }
      pr[2 + d] = o;
    }
  }
}

}  // namespace rf
