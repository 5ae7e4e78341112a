// matvec.hip: decode-path products y[T, N] = x[T, K] . W^T for small T (1..8).
//
// One warp per weight row; lanes walk the row's 32-element sub-blocks, so a warp reads one
// contiguous span of the row per step and every weight byte is read once per launch.
// Quantized weights are dotted with int8 activations (q8_1-style: int8 values, a scale and
// scale*sum per 32) through 4-way int8 dot products; float weights are dotted with the
// float activations (16-byte loads when K is a multiple of 8).
#include <algorithm>

#include "quant_types.h"
#include "rf_kernels.h"

namespace rf {

namespace {
constexpr int MV_THREADS = 256;
constexpr int MV_STAGE = 4096;  // weight bytes staged per warp and step
constexpr int MV_MIN_BLOCKS = 1;  // forcing more resident blocks spills the chunk registers
}  // namespace

// Each warp walks its rows (row = warp id + k * total warps) as a sequence of chunks of at
// most MV_STAGE bytes (whole blocks). A chunk is fetched with aligned, fully coalesced 16-byte
// loads into registers while the previous chunk, already in the warp's shared-memory buffer, is
// decoded: lanes take 32-element sub-blocks and dot them with the int8 activations. So every
// weight byte is read once, and each warp keeps a chunk in flight while it computes.
template <int TYPE, int NT>
__global__ void __launch_bounds__(MV_THREADS, MV_MIN_BLOCKS)
    matvec_q_kernel(const uint8_t* __restrict__ W, const int8_t* __restrict__ xq,
                    const float2* __restrict__ xds, const float* __restrict__ bias,
                    float* __restrict__ y, int K, int N) {
  using Q = QT<TYPE>;
  constexpr int NW = MV_THREADS / RF_WARP;
  constexpr int BPS = (MV_STAGE - 16) / Q::BYTES;  // blocks per chunk
  constexpr int VPL = MV_STAGE / 16 / RF_WARP;     // 16-byte loads per lane and chunk
  __shared__ __align__(16) uint8_t stage[NW][MV_STAGE];
  const int warp = threadIdx.x / RF_WARP, lane = threadIdx.x % RF_WARP;
  const int nb = K / Q::BLOCK;
  const int nsubRow = K / 32;
  const int64_t rowBytes = (int64_t)nb * Q::BYTES;
  const int chunksPerRow = (nb + BPS - 1) / BPS;
  const int64_t totalWarps = (int64_t)gridDim.x * NW;
  const int64_t gw = (int64_t)blockIdx.x * NW + warp;
  const int64_t myRows = gw < N ? (N - 1 - gw) / totalWarps + 1 : 0;
  const int64_t nChunks = myRows * chunksPerRow;
  uint4* buf = reinterpret_cast<uint4*>(stage[warp]);

  int off = 0, nvec = 0, b0 = 0, nblk = 0;
  int64_t row = 0;
  uint4 r[VPL];
  auto fetch = [&](int64_t c) {
    row = gw + (c / chunksPerRow) * totalWarps;
    b0 = (int)(c % chunksPerRow) * BPS;
    nblk = min(BPS, nb - b0);
    const uint8_t* sp = W + row * rowBytes + (int64_t)b0 * Q::BYTES;
    const uintptr_t aligned = reinterpret_cast<uintptr_t>(sp) & ~static_cast<uintptr_t>(15);
    off = (int)(reinterpret_cast<uintptr_t>(sp) - aligned);
    nvec = (off + nblk * Q::BYTES + 15) / 16;
    const uint4* src = reinterpret_cast<const uint4*>(aligned);
#pragma unroll
    for (int v = 0; v < VPL; ++v) {
      const int i = lane + v * RF_WARP;
      if (i < nvec) r[v] = src[i];
    }
  };
  if (nChunks > 0) fetch(0);
  float acc[NT];
#pragma unroll
  for (int t = 0; t < NT; ++t) acc[t] = 0.f;
  for (int64_t c = 0; c < nChunks; ++c) {
    rf_warp_sync();  // every lane is done reading the previous chunk
#pragma unroll
    for (int v = 0; v < VPL; ++v) {
      const int i = lane + v * RF_WARP;
      if (i < nvec) buf[i] = r[v];
    }
    rf_warp_sync();
    const int cOff = off, cB0 = b0, cNblk = nblk;
    const int64_t cRow = row;
    if (c + 1 < nChunks) fetch(c + 1);  // in flight while this chunk is computed
    const uint8_t* sb = stage[warp] + cOff;
    const int nsub = cNblk * Q::SUBS;
    for (int j = lane; j < nsub; j += RF_WARP) {
      const uint8_t* blk = sb + (j / Q::SUBS) * Q::BYTES;
      const int sbi = j % Q::SUBS;
      int q[8];
#pragma unroll
      for (int w = 0; w < 8; ++w) q[w] = Q::qword(blk, sbi, w);
      float d0, d1, m;
      Q::scales(blk, sbi, d0, d1, m);
      const int gs = cB0 * Q::SUBS + j;
#pragma unroll
      for (int t = 0; t < NT; ++t) {
        const int4* xv = reinterpret_cast<const int4*>(xq + (int64_t)t * K + 32 * gs);
        const int4 a = xv[0], b = xv[1];
        const int s0 = rf_dp4a(q[3], a.w, rf_dp4a(q[2], a.z, rf_dp4a(q[1], a.y, rf_dp4a(q[0], a.x, 0))));
        const int s1 = rf_dp4a(q[7], b.w, rf_dp4a(q[6], b.z, rf_dp4a(q[5], b.y, rf_dp4a(q[4], b.x, 0))));
        const float2 ds = xds[(int64_t)t * nsubRow + gs];
        acc[t] = sub_term<TYPE>(acc[t], s0, s1, d0, d1, m, ds.x, ds.y);
      }
    }
    if (cB0 + cNblk == nb) {  // the row is complete
#pragma unroll
      for (int t = 0; t < NT; ++t) {
        const float v = rf_warp_sum(acc[t]);
        if (lane == 0) y[(int64_t)t * N + cRow] = v + (bias ? bias[cRow] : 0.f);
        acc[t] = 0.f;
      }
    }
  }
}

template <int TYPE>
__device__ __forceinline__ void load8_plain(const uint8_t* row, int64_t k, float* w) {
  if constexpr (TYPE == T_F32) {
    const float4* p = reinterpret_cast<const float4*>(row + 4 * k);
    const float4 a = p[0], b = p[1];
    w[0] = a.x; w[1] = a.y; w[2] = a.z; w[3] = a.w;
    w[4] = b.x; w[5] = b.y; w[6] = b.z; w[7] = b.w;
  } else {
    const uint4 v = *reinterpret_cast<const uint4*>(row + 2 * k);
    const uint32_t u[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      if constexpr (TYPE == T_F16) {
        w[2 * i] = h2f((uint16_t)(u[i] & 0xFFFF));
        w[2 * i + 1] = h2f((uint16_t)(u[i] >> 16));
      } else {
        w[2 * i] = __uint_as_float(u[i] << 16);
        w[2 * i + 1] = __uint_as_float(u[i] & 0xFFFF0000u);
      }
    }
  }
}

template <int TYPE, int NT, bool VEC>
__global__ void matvec_f_kernel(const uint8_t* __restrict__ W, const float* __restrict__ x,
                                const float* __restrict__ bias, float* __restrict__ y, int K,
                                int N) {
  constexpr int ES = type_bytes(TYPE);
  const int row = blockIdx.x * (blockDim.x / RF_WARP) + threadIdx.x / RF_WARP;
  const int lane = threadIdx.x % RF_WARP;
  if (row >= N) return;
  const uint8_t* wr = W + (int64_t)row * K * ES;
  float acc[NT];
#pragma unroll
  for (int t = 0; t < NT; ++t) acc[t] = 0.f;
  if constexpr (VEC) {
    for (int k = 8 * lane; k < K; k += 8 * RF_WARP) {
      float w[8];
      load8_plain<TYPE>(wr, k, w);
#pragma unroll
      for (int t = 0; t < NT; ++t) {
        const float4* xv = reinterpret_cast<const float4*>(x + (int64_t)t * K + k);
        const float4 a = xv[0], b = xv[1];
        acc[t] += w[0] * round_act<TYPE>(a.x) + w[1] * round_act<TYPE>(a.y) +
                  w[2] * round_act<TYPE>(a.z) + w[3] * round_act<TYPE>(a.w) +
                  w[4] * round_act<TYPE>(b.x) + w[5] * round_act<TYPE>(b.y) +
                  w[6] * round_act<TYPE>(b.z) + w[7] * round_act<TYPE>(b.w);
      }
    }
  } else {
    for (int k = lane; k < K; k += RF_WARP) {
      const float w = load_plain<TYPE>(wr, k);
#pragma unroll
      for (int t = 0; t < NT; ++t) acc[t] += w * round_act<TYPE>(x[(int64_t)t * K + k]);
    }
  }
#pragma unroll
  for (int t = 0; t < NT; ++t) {
    const float v = rf_warp_sum(acc[t]);
    if (lane == 0) y[(int64_t)t * N + row] = v + (bias ? bias[row] : 0.f);
  }
}

namespace {
template <int TYPE, int NT>
hipError_t matvec_launch(hipStream_t stream, int warp, int smCount, const void* W, const float* x,
                   const float* bias, float* y, int K, int N, void* ws, bool xReady) {
  const int rowsPerBlock = MV_THREADS / warp;
  const dim3 block(MV_THREADS);
  const dim3 grid((N + rowsPerBlock - 1) / rowsPerBlock);
  // Quantized rows: as many blocks as fit on the device at once, each warp looping over rows.
  static int resident = 0;
  if constexpr (!is_plain(TYPE)) {
    if (resident == 0 &&
        hipOccupancyMaxActiveBlocksPerMultiprocessor(
            &resident, reinterpret_cast<const void*>(&matvec_q_kernel<TYPE, NT>), MV_THREADS,
            0) != hipSuccess) {
      resident = 2;
    }
  }
  const dim3 qgrid(
      (unsigned)std::min((N + rowsPerBlock - 1) / rowsPerBlock, std::max(resident, 1) * smCount));
  const uint8_t* w = static_cast<const uint8_t*>(W);
  if constexpr (is_plain(TYPE)) {
    (void)ws;
    (void)xReady;
    const bool vec = K % 8 == 0;
    if (vec) {
      matvec_f_kernel<TYPE, NT, true><<<grid, block, 0, stream>>>(w, x, bias, y, K, N);
    } else {
      matvec_f_kernel<TYPE, NT, false><<<grid, block, 0, stream>>>(w, x, bias, y, K, N);
    }
  } else {
    int8_t* xq;
    float* xds;
    const hipError_t err = launch_quantize_act(stream, TYPE, x, ws, NT, K, &xq, &xds, xReady);
    if (err != hipSuccess) return err;
    matvec_q_kernel<TYPE, NT><<<qgrid, block, 0, stream>>>(w, xq, reinterpret_cast<float2*>(xds),
                                                           bias, y, K, N);
  }
  return hipGetLastError();
}

template <int TYPE>
hipError_t matvec_dispatch(hipStream_t stream, int warp, int sm, const void* W, const float* x,
                           const float* bias, float* y, int T, int K, int N, void* ws,
                           bool xReady) {
  switch (T) {
    case 1: return matvec_launch<TYPE, 1>(stream, warp, sm, W, x, bias, y, K, N, ws, xReady);
    case 2: return matvec_launch<TYPE, 2>(stream, warp, sm, W, x, bias, y, K, N, ws, xReady);
    case 3: return matvec_launch<TYPE, 3>(stream, warp, sm, W, x, bias, y, K, N, ws, xReady);
    case 4: return matvec_launch<TYPE, 4>(stream, warp, sm, W, x, bias, y, K, N, ws, xReady);
    case 5: return matvec_launch<TYPE, 5>(stream, warp, sm, W, x, bias, y, K, N, ws, xReady);
    case 6: return matvec_launch<TYPE, 6>(stream, warp, sm, W, x, bias, y, K, N, ws, xReady);
    case 7: return matvec_launch<TYPE, 7>(stream, warp, sm, W, x, bias, y, K, N, ws, xReady);
    default: return matvec_launch<TYPE, 8>(stream, warp, sm, W, x, bias, y, K, N, ws, xReady);
  }
}
}  // namespace


constexpr int MATVEC_MAX_T = 8;

bool kernel_type_supported(int type) { return (hip_type_uses(type) & USE_MATRIX) != 0; }

bool kernel_type_quantized(int type) { return kernel_type_supported(type) && !is_plain(type); }

int64_t matmul_workspace_bytes(int type, int T, int K) {
  return kernel_type_quantized(type) ? act_quant_bytes(T, K) : 0;
}

hipError_t launch_matmul(hipStream_t stream, int warp, int smCount, int type, const void* W,
                         const float* x, const float* bias, float* y, int T, int K, int N,
                         void* workspace, bool xReady) {
  if (T > MATVEC_MAX_T) {
    return launch_matmul_tiled(stream, type, W, x, bias, y, T, K, N, workspace, xReady);
  }
  hipError_t err = hipErrorInvalidValue;  // a type without kernels launches nothing
  dispatch_type(type, [&]<int TYPE>() {
    err = matvec_dispatch<TYPE>(stream, warp, smCount, W, x, bias, y, T, K, N, workspace, xReady);
  });
  return err;
}

}  // namespace rf
