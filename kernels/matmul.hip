// matmul.hip: prefill products y[T, N] = x[T, K] . W^T (+ bias) for T > 8.
//
// Tiles of 128 weight rows x 64 tokens x 32 inputs: each step dequantizes a 128x32 weight
// tile (straight from GGUF blocks) and a 64x32 activation tile into shared memory, then every
// thread accumulates an 8x4 block of outputs with float FMAs. Weights never exist dequantized
// outside shared memory. Activations are rounded as the CPU reference rounds them: int8
// blocks (from launch_quantize_act) for quantized weights, f16/bf16 for F16/BF16 weights.
#include "quant_types.h"
#include "rf_kernels.h"

namespace rf {

namespace {
constexpr int BM = 128, BT = 64, BK = 32, THREADS = 256;
constexpr int WS_STRIDE = BM + 4, XS_STRIDE = BT + 4;
}  // namespace

template <int TYPE>
__device__ __forceinline__ void load_w_tile(const uint8_t* __restrict__ W, int64_t rowBytes,
                                            int n0, int k0, int K, int N, float* Ws) {
  const int tid = threadIdx.x;
  const int r = tid >> 1, h = tid & 1;
  const int n = n0 + r;
  float v[16];
  if (n >= N) {
#pragma unroll
    for (int i = 0; i < 16; ++i) v[i] = 0.f;
  } else if constexpr (is_plain(TYPE)) {
    const uint8_t* row = W + n * rowBytes;
#pragma unroll
    for (int i = 0; i < 16; ++i) {
      const int k = k0 + 16 * h + i;
      v[i] = k < K ? load_plain<TYPE>(row, k) : 0.f;
    }
  } else {
    using Q = QT<TYPE>;
    const int sub = k0 / 32;
    const uint8_t* blk = W + n * rowBytes + (sub / Q::SUBS) * Q::BYTES;
    const int sb = sub % Q::SUBS;
    float d0, d1, m;
    Q::scales(blk, sb, d0, d1, m);
    const float d = h ? d1 : d0;
#pragma unroll
    for (int jj = 0; jj < 4; ++jj) {
      const uint32_t w = (uint32_t)Q::qword(blk, sb, 4 * h + jj);
#pragma unroll
      for (int b = 0; b < 4; ++b) v[4 * jj + b] = d * (float)(int8_t)(w >> (8 * b)) + m;
    }
  }
#pragma unroll
  for (int i = 0; i < 16; ++i) Ws[(16 * h + i) * WS_STRIDE + r] = v[i];
}

// Activation (t, k) as the product reads it.
template <int TYPE>
__device__ __forceinline__ float act_at(const float* __restrict__ x, const int8_t* __restrict__ xq,
                                        const float2* __restrict__ xds, int t, int k, int K) {
  const int64_t i = (int64_t)t * K + k;
  if constexpr (is_plain(TYPE)) {
    const float v = x[i];
    if constexpr (TYPE == T_F16) {
      return __half2float(__float2half_rn(v));
    } else if constexpr (TYPE == T_BF16) {
      const uint32_t u = __float_as_uint(v);
      return __uint_as_float((u + 0x7FFFu + ((u >> 16) & 1u)) & 0xFFFF0000u);
    } else {
      return v;
    }
  } else {
    return (float)xq[i] * xds[i >> 5].x;
  }
}

template <int TYPE>
__global__ void __launch_bounds__(THREADS)
    matmul_tiled_kernel(const uint8_t* __restrict__ W, const float* __restrict__ x,
                        const int8_t* __restrict__ xq, const float2* __restrict__ xds,
                        const float* __restrict__ bias, float* __restrict__ y, int T, int K,
                        int N, int64_t rowBytes) {
  __shared__ __align__(16) float Ws[BK * WS_STRIDE];
  __shared__ __align__(16) float Xs[BK * XS_STRIDE];
  const int tid = threadIdx.x;
  const int n0 = blockIdx.x * BM, t0 = blockIdx.y * BT;
  const int tx = tid % 16, ty = tid / 16;
  float acc[8][4];
#pragma unroll
  for (int i = 0; i < 8; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j) acc[i][j] = 0.f;

  const int xc = tid >> 2, xp = tid & 3;
  for (int k0 = 0; k0 < K; k0 += BK) {
    load_w_tile<TYPE>(W, rowBytes, n0, k0, K, N, Ws);
    {
      const int t = t0 + xc;
#pragma unroll
      for (int i = 0; i < 8; ++i) {
        const int k = k0 + 8 * xp + i;
        Xs[(8 * xp + i) * XS_STRIDE + xc] = (t < T && k < K) ? act_at<TYPE>(x, xq, xds, t, k, K)
                                                             : 0.f;
      }
    }
    __syncthreads();
#pragma unroll 8
    for (int k = 0; k < BK; ++k) {
      const float4 a0 = *reinterpret_cast<const float4*>(&Ws[k * WS_STRIDE + 4 * tx]);
      const float4 a1 = *reinterpret_cast<const float4*>(&Ws[k * WS_STRIDE + 64 + 4 * tx]);
      const float4 b = *reinterpret_cast<const float4*>(&Xs[k * XS_STRIDE + 4 * ty]);
      const float av[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
      const float bv[4] = {b.x, b.y, b.z, b.w};
#pragma unroll
      for (int i = 0; i < 8; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    const int t = t0 + 4 * ty + j;
    if (t >= T) continue;
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      const int n = n0 + (i < 4 ? 4 * tx + i : 64 + 4 * tx + i - 4);
      if (n < N) y[(int64_t)t * N + n] = acc[i][j] + (bias ? bias[n] : 0.f);
    }
  }
}

hipError_t launch_matmul_tiled(hipStream_t stream, int type, const void* W, const float* x,
                               const float* bias, float* y, int T, int K, int N,
                               void* workspace, bool xReady) {
  const dim3 grid((N + BM - 1) / BM, (T + BT - 1) / BT), block(THREADS);
  const uint8_t* w = static_cast<const uint8_t*>(W);
  int8_t* xq = nullptr;
  float* xds = nullptr;
  if (!is_plain(type)) {
    const hipError_t err = launch_quantize_act(stream, type, x, workspace, T, K, &xq, &xds, xReady);
    if (err != hipSuccess) return err;
    if (launch_matmul_mma(stream, type, W, xq, xds, bias, y, T, K, N)) return hipGetLastError();
  }
  const float2* ds = reinterpret_cast<const float2*>(xds);
  const bool known = dispatch_type(type, [&]<int TYPE>() {
    int64_t rowBytes;
    if constexpr (is_plain(TYPE)) {
      rowBytes = (int64_t)K * type_bytes(TYPE);
    } else {
      rowBytes = (int64_t)(K / QT<TYPE>::BLOCK) * QT<TYPE>::BYTES;
    }
    matmul_tiled_kernel<TYPE><<<grid, block, 0, stream>>>(w, x, xq, ds, bias, y, T, K, N,
                                                          rowBytes);
  });
  return known ? hipGetLastError() : hipErrorInvalidValue;
}

}  // namespace rf
