// matmul_mma.hip: prefill products with integer tensor cores (NVIDIA sm_80 and newer) for
// quantized weights: y[T, N] = x[T, K] . W^T (+ bias).
//
// Tiles of 128 weight rows x 64 tokens step through K four 32-element sub-blocks at a time:
// the block unpacks the weight sub-blocks to int8 (plus its scales d0, d1 and offset m) and
// copies the int8 activations (from launch_quantize_act) into shared memory; each warp then
// computes exact int32 dot products of 16 inputs with mma.m16n8k16 (s8 x s8 -> s32) and folds
// them into float accumulators through sub_term (quant_types.h), as the matrix-vector kernel
// does, so both paths compute one function. Types whose halves share a scale (all but Q3_K and
// Q6_K) take one m16n8k32 product per sub-block instead of two m16n8k16.
//
// AMD builds keep the FMA kernel of matmul.hip (this file then only answers "unavailable").
#include "quant_types.h"
#include "rf_kernels.h"

namespace rf {

#if defined(RF_GPU_CUDA)

namespace {
constexpr int MM_BM = 128, MM_BT = 64, MM_THREADS = 256;
constexpr int MM_KS = 4;                   // 32-element sub-blocks per step
constexpr int MM_STRIDE = 32 * MM_KS + 16;  // bytes per shared row: conflict-free fragment loads
}  // namespace

__device__ __forceinline__ void mma_s8_16(int (&c)[4], int a0, int a1, int b0) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.s32.s8.s8.s32 {%0, %1, %2, %3}, {%4, %5}, {%6}, "
      "{%0, %1, %2, %3};\n"
      : "+r"(c[0]), "+r"(c[1]), "+r"(c[2]), "+r"(c[3])
      : "r"(a0), "r"(a1), "r"(b0));
#else
  (void)c;
  (void)a0;
  (void)a1;
  (void)b0;
  __trap();
#endif
}

// The same over 32 elements (m16n8k32): one sub-block per instruction, for types whose two
// halves share a scale.
__device__ __forceinline__ void mma_s8_32(int (&c)[4], int a0, int a1, int a2, int a3, int b0,
                                          int b1) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile(
      "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
      "{%8, %9}, {%0, %1, %2, %3};\n"
      : "+r"(c[0]), "+r"(c[1]), "+r"(c[2]), "+r"(c[3])
      : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
#else
  (void)c;
  (void)a0;
  (void)a1;
  (void)a2;
  (void)a3;
  (void)b0;
  (void)b1;
  __trap();
#endif
}

template <int TYPE>
__global__ void __launch_bounds__(MM_THREADS)
    matmul_mma_kernel(const uint8_t* __restrict__ W, const int8_t* __restrict__ xq,
                      const float2* __restrict__ xds, const float* __restrict__ bias,
                      float* __restrict__ y, int T, int K, int N) {
  using Q = QT<TYPE>;
  __shared__ __align__(16) int8_t Wq[MM_BM * MM_STRIDE];
  __shared__ __align__(16) int8_t Xq[MM_BT * MM_STRIDE];
  __shared__ float Wd0[MM_KS][MM_BM], Wd1[MM_KS][MM_BM], Wm[MM_KS][MM_BM];
  __shared__ float Xd[MM_KS][MM_BT], Xs[MM_KS][MM_BT];
  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
  const int g = lane >> 2, tig = lane & 3;
  const int n0 = blockIdx.x * MM_BM, t0 = blockIdx.y * MM_BT;
  const int wm = warp % 4, wt = warp / 4;  // warp tile: rows wm*32.., tokens wt*32..
  const int nsub = K / 32;
  const int64_t rowBytes = (int64_t)(K / Q::BLOCK) * Q::BYTES;

  float acc[2][4][4];
#pragma unroll
  for (int i = 0; i < 2; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) acc[i][j][e] = 0.f;

  for (int s0 = 0; s0 < nsub; s0 += MM_KS) {
    // Weights: (row, sub, half) tasks of 16 int8, MM_KS sub-blocks per step.
#pragma unroll
    for (int i = 0; i < MM_BM * MM_KS * 2 / MM_THREADS; ++i) {
      const int task = tid + i * MM_THREADS;
      const int r = task / (2 * MM_KS), ks = (task / 2) % MM_KS, h = task & 1;
      const int n = n0 + r, sub = s0 + ks;
      int* dst = reinterpret_cast<int*>(Wq + r * MM_STRIDE + 32 * ks + 16 * h);
      if (n < N && sub < nsub) {
        const uint8_t* blk = W + n * rowBytes + (sub / Q::SUBS) * Q::BYTES;
        const int sb = sub % Q::SUBS;
#pragma unroll
        for (int j = 0; j < 4; ++j) dst[j] = Q::qword(blk, sb, 4 * h + j);
        if (h == 0) {
          float d0, d1, m;
          Q::scales(blk, sb, d0, d1, m);
          Wd0[ks][r] = d0;
          Wd1[ks][r] = d1;
          Wm[ks][r] = m;
        }
      } else {
#pragma unroll
        for (int j = 0; j < 4; ++j) dst[j] = 0;
        if (h == 0) Wd0[ks][r] = Wd1[ks][r] = Wm[ks][r] = 0.f;
      }
    }
    // Activations: (token, sub, half) tasks of 16 int8.
#pragma unroll
    for (int i = 0; i < MM_BT * MM_KS * 2 / MM_THREADS; ++i) {
      const int task = tid + i * MM_THREADS;
      const int c = task / (2 * MM_KS), ks = (task / 2) % MM_KS, h = task & 1;
      const int t = t0 + c, sub = s0 + ks;
      int4 v = make_int4(0, 0, 0, 0);
      if (t < T && sub < nsub) {
        v = *reinterpret_cast<const int4*>(xq + (int64_t)t * K + 32 * sub + 16 * h);
      }
      *reinterpret_cast<int4*>(Xq + c * MM_STRIDE + 32 * ks + 16 * h) = v;
      if (h == 0) {
        const float2 ds =
            t < T && sub < nsub ? xds[(int64_t)t * nsub + sub] : make_float2(0.f, 0.f);
        Xd[ks][c] = ds.x;
        Xs[ks][c] = ds.y;
      }
    }
    __syncthreads();
#pragma unroll
    for (int ks = 0; ks < MM_KS; ++ks) {
      int a[2][2][2];  // [m-tile][k-half][reg]
      float rd0[2][2], rd1[2][2], rm[2][2];  // [m-tile][row g / g+8]
#pragma unroll
      for (int mt = 0; mt < 2; ++mt) {
        const int rb = wm * 32 + mt * 16 + g;
        const int8_t* base = Wq + rb * MM_STRIDE + 32 * ks + 4 * tig;
#pragma unroll
        for (int kh = 0; kh < 2; ++kh) {
          a[mt][kh][0] = *reinterpret_cast<const int*>(base + 16 * kh);
          a[mt][kh][1] = *reinterpret_cast<const int*>(base + 8 * MM_STRIDE + 16 * kh);
        }
#pragma unroll
        for (int hi = 0; hi < 2; ++hi) {
          rd0[mt][hi] = Wd0[ks][rb + 8 * hi];
          rd1[mt][hi] = Wd1[ks][rb + 8 * hi];
          rm[mt][hi] = Wm[ks][rb + 8 * hi];
        }
      }
#pragma unroll
      for (int nt = 0; nt < 4; ++nt) {
        const int cb = wt * 32 + nt * 8;
        const int8_t* bb = Xq + (cb + g) * MM_STRIDE + 32 * ks + 4 * tig;
        const int b0 = *reinterpret_cast<const int*>(bb);
        const int b1 = *reinterpret_cast<const int*>(bb + 16);
        const int c0 = cb + 2 * tig;
        const float dx[2] = {Xd[ks][c0], Xd[ks][c0 + 1]};
        const float sx[2] = {Xs[ks][c0], Xs[ks][c0 + 1]};
#pragma unroll
        for (int mt = 0; mt < 2; ++mt) {
          int lo[4] = {0, 0, 0, 0}, hi[4] = {0, 0, 0, 0};
          if constexpr (split_scales(TYPE)) {
            mma_s8_16(lo, a[mt][0][0], a[mt][0][1], b0);
            mma_s8_16(hi, a[mt][1][0], a[mt][1][1], b1);
          } else {  // one scale per sub-block: one instruction over all 32 elements
            mma_s8_32(lo, a[mt][0][0], a[mt][0][1], a[mt][1][0], a[mt][1][1], b0, b1);
          }
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            const int rh = e >> 1, ci = e & 1;
            acc[mt][nt][e] = sub_term<TYPE>(acc[mt][nt][e], lo[e], hi[e], rd0[mt][rh],
                                            rd1[mt][rh], rm[mt][rh], dx[ci], sx[ci]);
          }
        }
      }
    }
    __syncthreads();
  }
#pragma unroll
  for (int mt = 0; mt < 2; ++mt)
#pragma unroll
    for (int nt = 0; nt < 4; ++nt)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int n = n0 + wm * 32 + mt * 16 + g + 8 * (e >> 1);
        const int t = t0 + wt * 32 + nt * 8 + 2 * tig + (e & 1);
        if (n < N && t < T) y[(int64_t)t * N + n] = acc[mt][nt][e] + (bias ? bias[n] : 0.f);
      }
}

bool launch_matmul_mma(hipStream_t stream, int type, const void* W, const int8_t* xq,
                       const float* xds, const float* bias, float* y, int T, int K, int N) {
  if (is_plain(type)) return false;
  const dim3 grid((N + MM_BM - 1) / MM_BM, (T + MM_BT - 1) / MM_BT), block(MM_THREADS);
  const uint8_t* w = static_cast<const uint8_t*>(W);
  const float2* ds = reinterpret_cast<const float2*>(xds);
  return dispatch_type(type, [&]<int TYPE>() {
    if constexpr (!is_plain(TYPE)) {
      matmul_mma_kernel<TYPE><<<grid, block, 0, stream>>>(w, xq, ds, bias, y, T, K, N);
    }
  });
}

#else

bool launch_matmul_mma(hipStream_t, int, const void*, const int8_t*, const float*, const float*,
                       float*, int, int, int) {
  return false;
}

#endif

}  // namespace rf
