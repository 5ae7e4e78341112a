// norm_rope.hip: RMSNorm fused with the weight multiply, and rotary position embeddings
// (llama.cpp semantics: normal and NeoX orderings, linear frequency scale, YaRN, frequency
// factors).
#include "act_quant.h"
#include "quant_types.h"
#include "rf_kernels.h"

namespace rf {

// Values each thread keeps in registers when the row fits (cols <= RN_VALS * threads): all its
// loads are then issued at once instead of one dependent round trip per value and pass.
constexpr int RN_VALS = 8;

// One block per row. ADD: the row is x + f.addB, written to f.addOut first (x may be the
// same buffer as f.addOut: each element is read before it is written, by the same thread). Q8:
// the output is also rounded to int8 blocks of 32 (cols a multiple of 32; every thread of a
// warp takes part in each step, since a step's 32 consecutive threads hold one block). Element
// k is always handled by thread k % blockDim.x, in the same order, whichever path runs, so the
// sums and outputs are the same bits with and without fusion.
template <int WTYPE, bool ADD, bool Q8>
__global__ void __launch_bounds__(1024)
    rms_norm_kernel(const float* x, const void* __restrict__ w, float* __restrict__ out, int cols,
                    float eps, Fuse f) {
  __shared__ float partial[32];
  const int64_t base = (int64_t)blockIdx.x * cols;
  const int tid = threadIdx.x, nt = blockDim.x;
  const bool cached = cols <= RN_VALS * nt;  // the same for the whole block
  float v[RN_VALS];
  float ss = 0.f;
  auto in = [&](int k) {
    float t = x[base + k];
    if constexpr (ADD) {
      t += f.addB[base + k];
      f.addOut[base + k] = t;
    }
    return t;
  };
  if (cached) {
#pragma unroll
    for (int j = 0; j < RN_VALS; ++j) {
      const int k = tid + j * nt;
      v[j] = k < cols ? in(k) : 0.f;
      if (k < cols) ss += v[j] * v[j];
    }
  } else {
    for (int k = tid; k < cols; k += nt) {
      const float t = in(k);
      ss += t * t;
    }
  }
  ss = rf_warp_sum(ss);
  const int warp = tid / RF_WARP, lane = tid % RF_WARP;
  const int nWarps = nt / RF_WARP;
  if (lane == 0) partial[warp] = ss;
  __syncthreads();
  float total = 0.f;
  for (int i = 0; i < nWarps; ++i) total += partial[i];
  const float scale = rsqrtf(total / (float)cols + eps);
  const float* src = ADD ? f.addOut : x;
  const uint8_t* wb = static_cast<const uint8_t*>(w);
  if (cached) {
#pragma unroll
    for (int j = 0; j < RN_VALS; ++j) {
      if (j * nt >= cols) break;  // the same for the whole block
      const int k = tid + j * nt;
      float o = 0.f;
      if (k < cols) {
        const float wk = load_plain<WTYPE>(wb, k);
        o = v[j] * scale * wk;
        out[base + k] = o;
      }
      if constexpr (Q8) act_quant32_store(o, base + k, k < cols, f.xq, f.xds, f.q8_1);
    }
  } else if constexpr (Q8) {
    for (int k0 = 0; k0 < cols; k0 += nt) {
      const int k = k0 + tid;
      float o = 0.f;
      if (k < cols) {
        const float wk = load_plain<WTYPE>(wb, k);
        o = src[base + k] * scale * wk;
        out[base + k] = o;
      }
      act_quant32_store(o, base + k, k < cols, f.xq, f.xds, f.q8_1);
    }
  } else {
    for (int k = tid; k < cols; k += nt) {
      const float wk = load_plain<WTYPE>(wb, k);
      out[base + k] = src[base + k] * scale * wk;
    }
  }
}

template <int WTYPE, bool ADD, bool Q8>
void rms_norm_launch(hipStream_t stream, unsigned grid, int threads, const float* x,
                     const void* w, float* out, int cols, float eps, const Fuse& f) {
  rms_norm_kernel<WTYPE, ADD, Q8><<<grid, threads, 0, stream>>>(x, w, out, cols, eps, f);
}

template <int WTYPE>
void rms_norm_variant(hipStream_t stream, unsigned grid, int threads, const float* x,
                      const void* w, float* out, int cols, float eps, const Fuse& f) {
  const bool add = f.addB != nullptr, q8 = f.xq != nullptr;
  if (add && q8) rms_norm_launch<WTYPE, true, true>(stream, grid, threads, x, w, out, cols, eps, f);
  else if (add) rms_norm_launch<WTYPE, true, false>(stream, grid, threads, x, w, out, cols, eps, f);
  else if (q8) rms_norm_launch<WTYPE, false, true>(stream, grid, threads, x, w, out, cols, eps, f);
  else rms_norm_launch<WTYPE, false, false>(stream, grid, threads, x, w, out, cols, eps, f);
}

hipError_t launch_rms_norm(hipStream_t stream, int warp, const float* x, const void* w, int wType,
                           float* out, int T, int cols, float eps, const Fuse& f) {
  (void)warp;
  // Wide rows get more threads (fewer serial loads each); at most 32 warps (partial[32]).
  const int threads = cols >= 2048 ? 1024 : 256;
  // A fused rounding is the activation rounding: the test hook's fault point applies.
  const unsigned grid = f.xq && take_launch_fault(RF_FAULT_ACT_QUANT) ? 0u : (unsigned)T;
  if (wType == T_F16) {
    rms_norm_variant<T_F16>(stream, grid, threads, x, w, out, cols, eps, f);
  } else {
    rms_norm_variant<T_F32>(stream, grid, threads, x, w, out, cols, eps, f);
  }
  return hipGetLastError();
}

__device__ __forceinline__ float yarn_corr_dim(int nDims, int nCtxOrig, float nRot, float base) {
  return (float)nDims * logf((float)nCtxOrig / (nRot * 2.f * 3.14159265358979323846f)) /
         (2.f * logf(base));
}

// One thread per rotated pair (t, head, i) with i < headDim / 2. With a.x2 the threads past
// the first tensor's pairs rotate the second (x2 -> out2, nHeads2 heads, the same positions and
// parameters: the q and k of one layer in one launch); with a.kCache too, the second tensor's
// rows are also stored as half into the K cache from the first position, and the threads past
// its pairs store the T rows of a.v (vRow values each) into the V cache, as launch_kv_store
// would (the attention that follows then stores nothing).
__global__ void rope_kernel(const float* x, float* out, RopeArgs a) {
  const int half = a.headDim / 2;
  int64_t idx = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  const int64_t total = (int64_t)a.T * a.nHeads * half;
  const int64_t total2 = a.x2 ? (int64_t)a.T * a.nHeads2 * half : 0;
  const int64_t p0 = a.pos0d ? *a.pos0d : a.pos0;
  int nHeads = a.nHeads;
  __half* kc = nullptr;
  if (idx >= total) {
    idx -= total;
    if (idx >= total2) {
      idx -= total2;
      if (a.vCache && idx < (int64_t)a.T * a.vRow) {
        reinterpret_cast<__half*>(a.vCache)[p0 * a.vRow + idx] = __float2half_rn(a.v[idx]);
      }
      return;
    }
    x = a.x2;
    out = a.out2;
    nHeads = a.nHeads2;
    if (a.kCache) kc = reinterpret_cast<__half*>(a.kCache) + p0 * a.nHeads2 * a.headDim;
  }
  const int i = (int)(idx % half);
  const int64_t th = idx / half;  // t * nHeads + head
  const int t = (int)(th / nHeads);
  const float* src = x + th * a.headDim;
  float* dst = out + th * a.headDim;
  if (kc) kc += th * a.headDim;
  auto put = [&](int j, float v) {
    dst[j] = v;
    if (kc) kc[j] = __float2half_rn(v);
  };
  const int i0 = 2 * i;
  if (i0 >= a.nRot) {
    // Pairs past nRot pass through (both orderings cover the same index pairs here).
    put(i0, src[i0]);
    put(i0 + 1, src[i0 + 1]);
    return;
  }
  const float pos = a.rowPos ? (float)a.rowPos[t] : (float)(p0 + t);
  float thetaExtrap = pos * powf(a.freqBase, -(float)i0 / (float)a.nRot);
  if (a.ff) {  // rope_yarn(theta / ff[i], ...): the extrapolated angle divided by the factor
    const uint8_t* ff = static_cast<const uint8_t*>(a.ff);
    thetaExtrap /= a.ffType == T_F16 ? load_plain<T_F16>(ff, i) : load_plain<T_F32>(ff, i);
  }
  const float thetaInterp = a.freqScale * thetaExtrap;
  float theta = thetaInterp, mscale = a.attnFactor;
  if (a.extFactor != 0.f) {
    const float lo = fmaxf(0.f, floorf(yarn_corr_dim(a.nRot, a.nCtxOrig, a.betaFast, a.freqBase)));
    const float hi =
        fminf((float)(a.nRot - 1), ceilf(yarn_corr_dim(a.nRot, a.nCtxOrig, a.betaSlow, a.freqBase)));
    const float yv = ((float)i - lo) / fmaxf(0.001f, hi - lo);
    const float rampMix = (1.f - fminf(1.f, fmaxf(0.f, yv))) * a.extFactor;
    theta = thetaInterp * (1.f - rampMix) + thetaExtrap * rampMix;
    mscale *= 1.f + 0.1f * logf(1.f / a.freqScale);
  }
  float s, c;
  sincosf(theta, &s, &c);
  c *= mscale;
  s *= mscale;
  int j0, j1;
  if (a.mode == 2) {  // NeoX: (i, i + nRot/2)
    j0 = i;
    j1 = i + a.nRot / 2;
  } else {
    j0 = i0;
    j1 = i0 + 1;
  }
  const float x0 = src[j0], x1 = src[j1];
  put(j0, x0 * c - x1 * s);
  put(j1, x0 * s + x1 * c);
}

hipError_t launch_rope(hipStream_t stream, const float* x, float* out, const RopeArgs& a) {
  const int64_t total = (int64_t)a.T * (a.nHeads + (a.x2 ? a.nHeads2 : 0)) * (a.headDim / 2) +
                        (a.vCache ? (int64_t)a.T * a.vRow : 0);
  rope_kernel<<<(unsigned)((total + 255) / 256), 256, 0, stream>>>(x, out, a);
  return hipGetLastError();
}

}  // namespace rf
