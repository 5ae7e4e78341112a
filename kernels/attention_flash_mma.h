// attention_flash_mma.h: flash attention for prefill on NVIDIA tensor cores (sm_80+), head dims
// up to 128 (included by attention.hip only; the CUDA build).
//
// Same tiles and outputs as flash_attention_kernel (attention_flash.h), FlashAttention-2 style:
// each of the 4 warps owns 16 of the block's 64 query rows, so S = Q K^T, the online softmax and
// O += P V of those rows stay in the warp's registers (mma.sync m16n8k16, f16 inputs, f32
// accumulators, documented PTX fragment layouts): S's accumulator fragments are P's operand
// fragments, O never goes through shared memory, and the block synchronizes only around each
// K/V tile load.
#pragma once
#include "attention_flash.h"

#if defined(RF_GPU_CUDA)
namespace rf {

constexpr int FA_MMA_BM = 64, FA_MMA_BK = 64;

template <int D>
struct FaMmaLayout {
  static constexpr int LD = D + 8;  // halves; rows 16-byte aligned, conflict-free 32-bit reads
  static constexpr int K_OFF = FA_MMA_BM * LD * 2;
  static constexpr int V_OFF = K_OFF + FA_MMA_BK * LD * 2;
  static constexpr int BYTES = V_OFF + FA_MMA_BK * LD * 2;
};

__device__ __forceinline__ void fa_mma(float (&c)[4], const uint32_t (&a)[4], uint32_t b0,
                                       uint32_t b1) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
      "{%8, %9}, {%0, %1, %2, %3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#else
  (void)c, (void)a, (void)b0, (void)b1;
  __trap();  // launched only where the host found sm_80 or newer
#endif
}

__device__ __forceinline__ uint32_t fa_ld32(const __half* p) {
  return *reinterpret_cast<const uint32_t*>(p);
}
__device__ __forceinline__ uint32_t fa_pack(float lo, float hi) {
  const __half2 h = __floats2half2_rn(lo, hi);
  return *reinterpret_cast<const uint32_t*>(&h);
}
__device__ __forceinline__ uint32_t fa_pack_h(__half lo, __half hi) {
  const __half2 h = __halves2half2(lo, hi);
  return *reinterpret_cast<const uint32_t*>(&h);
}

template <int D>
__global__ void __launch_bounds__(FA_THREADS)
    flash_attention_mma_kernel(const float* __restrict__ q, const uint16_t* __restrict__ kc,
                               const uint16_t* __restrict__ vc, float* __restrict__ out,
                               float* __restrict__ part, AttnArgs a, int nChunks, int chunk) {
  using L = FaMmaLayout<D>;
  constexpr int BM = FA_MMA_BM, BK = FA_MMA_BK, LD = L::LD;
  extern __shared__ __align__(128) unsigned char fa_smem[];
  __half* sQ = reinterpret_cast<__half*>(fa_smem);
  __half* sK = reinterpret_cast<__half*>(fa_smem + L::K_OFF);
  __half* sV = reinterpret_cast<__half*>(fa_smem + L::V_OFF);

  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const int g = lane >> 2, tg = lane & 3;  // fragment row group, thread in group
  const int G = a.nHead / a.nHeadKV;
  const int rows = a.T * G;
  const int m0 = blockIdx.x * BM;
  const int kvh = blockIdx.y;
  const int c = blockIdx.z;
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
    sQ[r * LD + d] = __float2half_rn(x);
  }
  __syncthreads();
  const int r0 = warp * 16 + g;  // this lane's two rows: r0 and r0 + 8
  uint32_t qa[D / 16][4];
#pragma unroll
  for (int k = 0; k < D / 16; ++k) {
    qa[k][0] = fa_ld32(sQ + r0 * LD + k * 16 + 2 * tg);
    qa[k][1] = fa_ld32(sQ + (r0 + 8) * LD + k * 16 + 2 * tg);
    qa[k][2] = fa_ld32(sQ + r0 * LD + k * 16 + 8 + 2 * tg);
    qa[k][3] = fa_ld32(sQ + (r0 + 8) * LD + k * 16 + 8 + 2 * tg);
  }
  int lim[2], first[2];
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    const int m = m0 + r0 + 8 * h;
    lim[h] = m < rows ? fa_last(a, pos0, m / G) : -1;  // keys the row sees: first .. lim
    first[h] = fa_first(a, pos0, m / G);
  }
  float o[D / 8][4];
#pragma unroll
  for (int n = 0; n < D / 8; ++n) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.f;
  float rm[2] = {-INFINITY, -INFINITY}, rl[2] = {0.f, 0.f};  // rl: this lane's partial sums

  for (int kp = pStart; kp < p1; kp += BK) {
    for (int i = tid; i < BK * (D / 8); i += FA_THREADS) {
      const int j = i / (D / 8), d8 = (i % (D / 8)) * 8;
      const bool valid = kp + j < p1;
      fa_load_row8<D>(sK + j * LD, kh + (int64_t)(kp + j) * kStride, a.headDim, d8, valid, vec);
      fa_load_row8<D>(sV + j * LD, vh + (int64_t)(kp + j) * vStride, a.valueDim, d8, valid, vec);
    }
    __syncthreads();
    float s[BK / 8][4];
#pragma unroll
    for (int n = 0; n < BK / 8; ++n) {
      s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.f;
      const __half* kr = sK + (n * 8 + g) * LD + 2 * tg;
#pragma unroll
      for (int k = 0; k < D / 16; ++k) {
        fa_mma(s[n], qa[k], fa_ld32(kr + k * 16), fa_ld32(kr + k * 16 + 8));
      }
    }
    float corr[2];
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      float mx = -INFINITY;
#pragma unroll
      for (int n = 0; n < BK / 8; ++n) {
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          const int p = kp + n * 8 + 2 * tg + e;
          const bool ok = p < p1 && p >= first[h] && p <= lim[h];
          s[n][2 * h + e] = ok ? fa_score(a, invCap, s[n][2 * h + e]) : -INFINITY;
          mx = fmaxf(mx, s[n][2 * h + e]);
        }
      }
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
      const float mNew = fmaxf(rm[h], mx);
      corr[h] = mNew == -INFINITY ? 1.f : __expf(rm[h] - mNew);
      float sum = 0.f;
#pragma unroll
      for (int n = 0; n < BK / 8; ++n) {
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          const float x = s[n][2 * h + e];
          const float p = x == -INFINITY ? 0.f : __expf(x - mNew);
          s[n][2 * h + e] = p;
          sum += p;
        }
      }
      rl[h] = rl[h] * corr[h] + sum;
      rm[h] = mNew;
    }
#pragma unroll
    for (int n = 0; n < D / 8; ++n) {
      o[n][0] *= corr[0];
      o[n][1] *= corr[0];
      o[n][2] *= corr[1];
      o[n][3] *= corr[1];
    }
#pragma unroll
    for (int k = 0; k < BK / 16; ++k) {
      const uint32_t pa[4] = {fa_pack(s[2 * k][0], s[2 * k][1]), fa_pack(s[2 * k][2], s[2 * k][3]),
                              fa_pack(s[2 * k + 1][0], s[2 * k + 1][1]),
                              fa_pack(s[2 * k + 1][2], s[2 * k + 1][3])};
      const __half* v0 = sV + (k * 16 + 2 * tg) * LD + g;
#pragma unroll
      for (int n = 0; n < D / 8; ++n) {
        const __half* vr = v0 + n * 8;
        fa_mma(o[n], pa, fa_pack_h(vr[0], vr[LD]), fa_pack_h(vr[8 * LD], vr[9 * LD]));
      }
    }
    __syncthreads();
  }

#pragma unroll
  for (int h = 0; h < 2; ++h) {
    rl[h] += __shfl_xor_sync(0xffffffffu, rl[h], 1);
    rl[h] += __shfl_xor_sync(0xffffffffu, rl[h], 2);
    const int m = m0 + r0 + 8 * h;
    if (m >= rows) continue;
    const int t = m / G, hq = kvh * G + m % G;
    const int64_t th = (int64_t)t * a.nHead + hq;
    float* pr = nChunks > 1 ? part + (th * nChunks + c) * (a.valueDim + 2) : nullptr;
    if (nChunks > 1 && tg == 0) {
      pr[0] = rm[h];
      pr[1] = rl[h];
    }
    float l = rl[h];
    const float sk = nChunks == 1 ? fa_sink_join(fa_sink(a, hq), rm[h], l) : 1.f;
    const float inv = l > 0.f ? sk / l : 0.f;
#pragma unroll
    for (int n = 0; n < D / 8; ++n) {
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        const int d = n * 8 + 2 * tg + e;
        if (d >= a.valueDim) continue;
        if (nChunks == 1) out[th * a.valueDim + d] = o[n][2 * h + e] * inv;
        else pr[2 + d] = o[n][2 * h + e];
      }
    }
  }
}

}  // namespace rf
#endif
