// norm_rope.hip: RMSNorm fused with the weight multiply, and rotary position embeddings
// (llama.cpp semantics: normal and NeoX orderings, linear frequency scale, YaRN).
#include "quant_types.h"
#include "rf_kernels.h"

namespace rf {

template <int WTYPE>
__global__ void __launch_bounds__(1024)
    rms_norm_kernel(const float* __restrict__ x, const void* __restrict__ w,
                    float* __restrict__ out, int cols, float eps) {
  __shared__ float partial[32];
  const int64_t base = (int64_t)blockIdx.x * cols;
  float ss = 0.f;
  for (int k = threadIdx.x; k < cols; k += blockDim.x) {
    const float v = x[base + k];
    ss += v * v;
  }
  ss = rf_warp_sum(ss);
  const int warp = threadIdx.x / RF_WARP, lane = threadIdx.x % RF_WARP;
  const int nWarps = blockDim.x / RF_WARP;
  if (lane == 0) partial[warp] = ss;
  __syncthreads();
  float total = 0.f;
  for (int i = 0; i < nWarps; ++i) total += partial[i];
  const float scale = rsqrtf(total / (float)cols + eps);
  for (int k = threadIdx.x; k < cols; k += blockDim.x) {
    const float wk = load_plain<WTYPE>(static_cast<const uint8_t*>(w), k);
    out[base + k] = x[base + k] * scale * wk;
  }
}

hipError_t launch_rms_norm(hipStream_t stream, int warp, const float* x, const void* w, int wType,
                           float* out, int T, int cols, float eps) {
  (void)warp;
  // Wide rows get more threads (fewer serial loads each); at most 32 warps (partial[32]).
  const int threads = cols >= 2048 ? 1024 : 256;
  if (wType == T_F16) {
    rms_norm_kernel<1><<<T, threads, 0, stream>>>(x, w, out, cols, eps);
  } else {
    rms_norm_kernel<0><<<T, threads, 0, stream>>>(x, w, out, cols, eps);
  }
  return hipGetLastError();
}

__device__ __forceinline__ float yarn_corr_dim(int nDims, int nCtxOrig, float nRot, float base) {
  return (float)nDims * logf((float)nCtxOrig / (nRot * 2.f * 3.14159265358979323846f)) /
         (2.f * logf(base));
}

// One thread per rotated pair (t, head, i) with i < headDim / 2.
__global__ void rope_kernel(const float* __restrict__ x, float* __restrict__ out, RopeArgs a) {
  const int half = a.headDim / 2;
  const int64_t idx = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  const int64_t total = (int64_t)a.T * a.nHeads * half;
  if (idx >= total) return;
  const int i = (int)(idx % half);
  const int64_t th = idx / half;  // t * nHeads + head
  const int t = (int)(th / a.nHeads);
  const float* src = x + th * a.headDim;
  float* dst = out + th * a.headDim;
  const int i0 = 2 * i;
  if (i0 >= a.nRot) {
    // Pairs past nRot pass through (both orderings cover the same index pairs here).
    dst[i0] = src[i0];
    dst[i0 + 1] = src[i0 + 1];
    return;
  }
  const float pos = (float)((a.pos0d ? *a.pos0d : a.pos0) + t);
  const float thetaExtrap = pos * powf(a.freqBase, -(float)i0 / (float)a.nRot);
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
  dst[j0] = x0 * c - x1 * s;
  dst[j1] = x0 * s + x1 * c;
}

hipError_t launch_rope(hipStream_t stream, const float* x, float* out, const RopeArgs& a) {
  const int64_t total = (int64_t)a.T * a.nHeads * (a.headDim / 2);
  rope_kernel<<<(unsigned)((total + 255) / 256), 256, 0, stream>>>(x, out, a);
  return hipGetLastError();
}

}  // namespace rf
