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

// The products of one launch: rows 0..N[0]-1 are part 0's, the next N[1] part 1's, and so on
// (a layer's q, k and v, or its gate and up: one input, one type, one K).
struct MatvecParts {
  const uint8_t* W[MATMUL_MAX_PARTS];
  const float* bias[MATMUL_MAX_PARTS];
  float* y[MATMUL_MAX_PARTS];
  int N[MATMUL_MAX_PARTS];
  int n;
};

// Each warp walks its rows (row = warp id + k * total warps) as a sequence of chunks of at
// most MV_STAGE bytes (whole blocks). A chunk is fetched with aligned, fully coalesced 16-byte
// loads into registers while the previous chunk, already in the warp's shared-memory buffer, is
// decoded: lanes take 32-element sub-blocks and dot them with the int8 activations. So every
// weight byte is read once, and each warp keeps a chunk in flight while it computes.
template <int TYPE, int NT>
__global__ void __launch_bounds__(MV_THREADS, MV_MIN_BLOCKS)
    matvec_q_kernel(const MatvecParts p, const int8_t* __restrict__ xq,
                    const float2* __restrict__ xds, int K, int N) {
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

  int off = 0, nvec = 0, b0 = 0, nblk = 0, part = 0;
  int64_t row = 0;
  uint4 r[VPL];
  auto fetch = [&](int64_t c) {
    row = gw + (c / chunksPerRow) * totalWarps;
    for (part = 0; part + 1 < p.n && row >= p.N[part]; ++part) row -= p.N[part];
    b0 = (int)(c % chunksPerRow) * BPS;
    nblk = min(BPS, nb - b0);
    const uint8_t* sp = p.W[part] + row * rowBytes + (int64_t)b0 * Q::BYTES;
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
    const int cOff = off, cB0 = b0, cNblk = nblk, cPart = part;
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
        if (lane == 0) {
          const float* bias = p.bias[cPart];
          p.y[cPart][(int64_t)t * p.N[cPart] + cRow] = v + (bias ? bias[cRow] : 0.f);
        }
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
hipError_t matvec_launch(hipStream_t stream, int warp, int smCount, const MatmulPart* parts,
                         int nParts, const float* x, int K, void* ws, bool xReady) {
  const int rowsPerBlock = MV_THREADS / warp;
  const dim3 block(MV_THREADS);
  if constexpr (is_plain(TYPE)) {
    (void)smCount;
    (void)ws;
    (void)xReady;
    for (int i = 0; i < nParts; ++i) {
      const MatmulPart& pt = parts[i];
      const uint8_t* w = static_cast<const uint8_t*>(pt.W);
      const dim3 grid((pt.N + rowsPerBlock - 1) / rowsPerBlock);
      if (K % 8 == 0) {
        matvec_f_kernel<TYPE, NT, true><<<grid, block, 0, stream>>>(w, x, pt.bias, pt.y, K, pt.N);
      } else {
        matvec_f_kernel<TYPE, NT, false><<<grid, block, 0, stream>>>(w, x, pt.bias, pt.y, K, pt.N);
      }
    }
  } else {
    // As many blocks as fit on the device at once, each warp looping over rows.
    static int resident = 0;
    if (resident == 0 &&
        hipOccupancyMaxActiveBlocksPerMultiprocessor(
            &resident, reinterpret_cast<const void*>(&matvec_q_kernel<TYPE, NT>), MV_THREADS,
            0) != hipSuccess) {
      resident = 2;
    }
    MatvecParts p{};
    int N = 0;
    for (int i = 0; i < nParts; ++i) {
      p.W[i] = static_cast<const uint8_t*>(parts[i].W);
      p.bias[i] = parts[i].bias;
      p.y[i] = parts[i].y;
      p.N[i] = parts[i].N;
      N += parts[i].N;
    }
    p.n = nParts;
    int8_t* xq;
    float* xds;
    const hipError_t err = launch_quantize_act(stream, TYPE, x, ws, NT, K, &xq, &xds, xReady);
    if (err != hipSuccess) return err;
    const dim3 grid(
        (unsigned)std::min((N + rowsPerBlock - 1) / rowsPerBlock, std::max(resident, 1) * smCount));
    matvec_q_kernel<TYPE, NT><<<grid, block, 0, stream>>>(p, xq, reinterpret_cast<float2*>(xds),
                                                          K, N);
  }
  return hipGetLastError();
}

template <int TYPE>
hipError_t matvec_dispatch(hipStream_t stream, int warp, int sm, const MatmulPart* parts,
                           int nParts, const float* x, int T, int K, void* ws, bool xReady) {
  switch (T) {
    case 1: return matvec_launch<TYPE, 1>(stream, warp, sm, parts, nParts, x, K, ws, xReady);
    case 2: return matvec_launch<TYPE, 2>(stream, warp, sm, parts, nParts, x, K, ws, xReady);
    case 3: return matvec_launch<TYPE, 3>(stream, warp, sm, parts, nParts, x, K, ws, xReady);
    case 4: return matvec_launch<TYPE, 4>(stream, warp, sm, parts, nParts, x, K, ws, xReady);
    case 5: return matvec_launch<TYPE, 5>(stream, warp, sm, parts, nParts, x, K, ws, xReady);
    case 6: return matvec_launch<TYPE, 6>(stream, warp, sm, parts, nParts, x, K, ws, xReady);
    case 7: return matvec_launch<TYPE, 7>(stream, warp, sm, parts, nParts, x, K, ws, xReady);
    default: return matvec_launch<TYPE, 8>(stream, warp, sm, parts, nParts, x, K, ws, xReady);
  }
}
}  // namespace


bool kernel_type_supported(int type) { return (hip_type_uses(type) & USE_MATRIX) != 0; }

bool kernel_type_quantized(int type) { return kernel_type_supported(type) && !is_plain(type); }

int64_t matmul_workspace_bytes(int type, int T, int K) {
  return kernel_type_quantized(type) ? act_quant_bytes(T, K) : 0;
}

hipError_t launch_matmul_parts(hipStream_t stream, int warp, int smCount, int type,
                               const MatmulPart* parts, int nParts, const float* x, int T, int K,
                               void* workspace, bool xReady) {
  if (nParts < 1 || nParts > MATMUL_MAX_PARTS) return hipErrorInvalidValue;
  if (T > MATVEC_MAX_T) {
    for (int i = 0; i < nParts; ++i) {
      const MatmulPart& p = parts[i];
      const hipError_t err = launch_matmul_tiled(stream, type, p.W, x, p.bias, p.y, T, K, p.N,
                                                 workspace, xReady || i > 0);
      if (err != hipSuccess) return err;
    }
    return hipSuccess;
  }
  hipError_t err = hipErrorInvalidValue;  // a type without kernels launches nothing
  dispatch_type(type, [&]<int TYPE>() {
    err = matvec_dispatch<TYPE>(stream, warp, smCount, parts, nParts, x, T, K, workspace, xReady);
  });
  return err;
}

hipError_t launch_matmul(hipStream_t stream, int warp, int smCount, int type, const void* W,
                         const float* x, const float* bias, float* y, int T, int K, int N,
                         void* workspace, bool xReady) {
  const MatmulPart part{W, bias, y, N};
  return launch_matmul_parts(stream, warp, smCount, type, &part, 1, x, T, K, workspace, xReady);
}

}  // namespace rf
