// moe.hip: the mixture-of-experts FFN (llama.cpp's build_moe_ffn, src/backends/cpu/ops/moe.ts is
// the reference) batched by expert. The steps, all on the device:
// 1. router logits [T, nExpert] = x . router^T (+ router bias), the ordinary product;
// 2. per row: softmax over the experts then the top nUsed (ties: lower index), or gpt-oss's top
//    nUsed logits then a softmax over those; weights optionally divided by their sum (clamped to
//    2^-14) and scaled;
// 3. one block lists, per expert, the pairs p = t * nUsed + rank routed to it, in row order;
// 4. gate and up [P, ff] and then down [P, dim] (P = T * nUsed) as one grouped launch each: a
//    block per (rows of the expert's weight, expert), each warp dots 4 weight rows (1 for a
//    single-row batch) with up to 8 of the expert's pairs at a time, so one activation load
//    serves 4 rows, with the sub-block readers of quant_types.h and the int8
//    activations of act_quant.hip (float weights: the rounded float activations), so each
//    expert's weight rows are read once per 8 pairs and experts nobody chose are not read;
// 5. swiglu (or swiglu_oai) on gate and up, in place;
// 6. out[t] = sum over ranks of y[t * nUsed + r] * weight, added in rank order.
#include <algorithm>

#include "moe.h"
#include "quant_types.h"
#include "rf_kernels.h"

namespace rf {

namespace {

constexpr int MOE_THREADS = 256;
constexpr int MOE_PAIRS = 8;  // pairs a warp dots with one pass over its weight rows
constexpr int MOE_ROWS = 4;   // weight rows per warp when several rows share an expert

int64_t align256(int64_t b) { return (b + 255) & ~(int64_t)255; }

// The workspace regions of one MoE launch, in order.
struct MoeLayout {
  int64_t logits, ids, wts, offsets, table, g, u, y, xq, aq, router, end;
};

MoeLayout moe_layout(const MoeArgs& a) {
  const int64_t P = (int64_t)a.T * a.nUsed;
  MoeLayout l{};
  int64_t o = 0;
  auto take = [&](int64_t bytes) {
    const int64_t at = o;
    o += align256(bytes);
    return at;
  };
  l.logits = take((int64_t)a.T * a.nExpert * 4);
  l.ids = take(P * 4);
  l.wts = take(P * 4);
  l.offsets = take(((int64_t)a.nExpert + 1) * 4);
  l.table = take(P * 4);
  l.g = take(P * a.ff * 4);
  l.u = take(P * a.ff * 4);
  l.y = take(P * a.dim * 4);
  l.xq = take(act_quant_bytes(a.T, a.dim));
  l.aq = take(act_quant_bytes((int)P, a.ff));
  l.router = take(matmul_workspace_bytes(a.routerType, a.T, a.dim));
  l.end = o;
  return l;
}

// ggml_soft_max_f32 of n values in place (sum in double, then times the rounded inverse).
__device__ void moe_softmax(float* v, int n) {
  float mx = -INFINITY;
  for (int i = 0; i < n; ++i) mx = fmaxf(mx, v[i]);
  double sum = 0.0;
  for (int i = 0; i < n; ++i) {
    v[i] = expf(v[i] - mx);
    sum += v[i];
  }
  const float inv = (float)(1.0 / sum);
  for (int i = 0; i < n; ++i) v[i] *= inv;
}

// One thread per row: routing of row t (logits in place become the probabilities).
__global__ void moe_route_kernel(float* __restrict__ logits, int T, int nE, int k, int gating,
                                 bool norm, float scale, int* __restrict__ ids,
                                 float* __restrict__ wts) {
  const int t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= T) return;
  float* p = logits + (int64_t)t * nE;
  if (gating == RF_MOE_GATING_SOFTMAX) moe_softmax(p, nE);
  uint32_t taken[RF_MOE_MAX_EXPERTS / 32] = {};
  int chosen[RF_MOE_MAX_USED];
  for (int r = 0; r < k; ++r) {
    int best = -1;
    float bv = 0.f;
    for (int e = 0; e < nE; ++e) {
      if (taken[e >> 5] >> (e & 31) & 1u) continue;
      if (best < 0 || p[e] > bv) {
        best = e;
        bv = p[e];
      }
    }
    taken[best >> 5] |= 1u << (best & 31);
    chosen[r] = best;
  }
  float w[RF_MOE_MAX_USED];
  for (int r = 0; r < k; ++r) w[r] = p[chosen[r]];
  if (gating == RF_MOE_GATING_SOFTMAX_WEIGHT) moe_softmax(w, k);
  if (norm) {
    double sum = 0.0;
    for (int r = 0; r < k; ++r) sum += w[r];
    const float d = fmaxf((float)sum, 6.103515625e-5f);
    for (int r = 0; r < k; ++r) w[r] /= d;
  }
  const bool scaled = scale != 0.f && scale != 1.f;
  for (int r = 0; r < k; ++r) {
    ids[(int64_t)t * k + r] = chosen[r];
    wts[(int64_t)t * k + r] = scaled ? w[r] * scale : w[r];
  }
}

// One block: offsets[e] .. offsets[e + 1] of `table` list the pairs routed to expert e, in order.
__global__ void __launch_bounds__(MOE_THREADS)
    moe_group_kernel(const int* __restrict__ ids, int P, int nE, int* __restrict__ offsets,
                     int* __restrict__ table) {
  __shared__ int start[RF_MOE_MAX_EXPERTS + 1];
  for (int e = threadIdx.x; e < nE; e += MOE_THREADS) {
    int n = 0;
    for (int p = 0; p < P; ++p) n += ids[p] == e;
    start[e + 1] = n;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    start[0] = 0;
    for (int e = 0; e < nE; ++e) start[e + 1] += start[e];
  }
  __syncthreads();
  for (int e = threadIdx.x; e <= nE; e += MOE_THREADS) offsets[e] = start[e];
  for (int e = threadIdx.x; e < nE; e += MOE_THREADS) {
    int at = start[e];
    for (int p = 0; p < P; ++p) {
      if (ids[p] == e) table[at++] = p;
    }
  }
}

// y[p, N] = x[p / xDiv] . W_e^T (+ bias_e) for every pair p routed to expert e = blockIdx.y.
// Each warp takes R consecutive weight rows and dots them with NT pairs at a time, so each
// activation value it loads serves R rows. Quantized weights read int8 activations xq/xds (rows
// of K); float weights read xf.
template <int TYPE, int NT, int R>
__global__ void __launch_bounds__(MOE_THREADS)
    moe_matvec_kernel(const uint8_t* __restrict__ W, const int8_t* __restrict__ xq,
                      const float2* __restrict__ xds, const float* __restrict__ xf, int xDiv,
                      const int* __restrict__ offsets, const int* __restrict__ table,
                      const float* __restrict__ bias, float* __restrict__ y, int K, int N) {
  const int e = blockIdx.y;
  const int row0 = (blockIdx.x * (MOE_THREADS / RF_WARP) + threadIdx.x / RF_WARP) * R;
  const int lane = threadIdx.x % RF_WARP;
  const int p0 = offsets[e], n = offsets[e + 1] - p0;
  if (row0 >= N || n == 0) return;
  const int64_t rowBytes = (int64_t)K / type_block(TYPE) * type_bytes(TYPE);
  const uint8_t* wr[R];
  float b[R];
#pragma unroll
  for (int r = 0; r < R; ++r) {
    const int row = min(row0 + r, N - 1);  // rows past N repeat the last one, unstored
    wr[r] = W + ((int64_t)e * N + row) * rowBytes;
    b[r] = bias ? bias[(int64_t)e * N + row] : 0.f;
  }
  for (int c = 0; c < n; c += NT) {
    const int cnt = min(NT, n - c);
    int pr[NT];
    int64_t xr[NT];
#pragma unroll
    for (int t = 0; t < NT; ++t) {
      pr[t] = t < cnt ? table[p0 + c + t] : 0;
      xr[t] = pr[t] / xDiv;
    }
    float acc[R][NT];
#pragma unroll
    for (int r = 0; r < R; ++r) {
#pragma unroll
      for (int t = 0; t < NT; ++t) acc[r][t] = 0.f;
    }
    if constexpr (is_plain(TYPE)) {
      for (int k = lane; k < K; k += RF_WARP) {
        float w[R];
#pragma unroll
        for (int r = 0; r < R; ++r) w[r] = load_plain<TYPE>(wr[r], k);
#pragma unroll
        for (int t = 0; t < NT; ++t) {
          if (t < cnt) {
            const float xv = round_act<TYPE>(xf[xr[t] * K + k]);
#pragma unroll
            for (int r = 0; r < R; ++r) acc[r][t] += w[r] * xv;
          }
        }
      }
    } else {
      using Q = QT<TYPE>;
      const int nsub = K / 32;
      for (int j = lane; j < nsub; j += RF_WARP) {
        const int sbi = j % Q::SUBS;
        int q[R][8];
        float d0[R], d1[R], m[R];
#pragma unroll
        for (int r = 0; r < R; ++r) {
          const uint8_t* blk = wr[r] + (j / Q::SUBS) * Q::BYTES;
#pragma unroll
          for (int w = 0; w < 8; ++w) q[r][w] = Q::qword(blk, sbi, w);
          Q::scales(blk, sbi, d0[r], d1[r], m[r]);
        }
#pragma unroll
        for (int t = 0; t < NT; ++t) {
          if (t < cnt) {
            const int4* xv = reinterpret_cast<const int4*>(xq + xr[t] * K + 32 * j);
            const int4 a = xv[0], bb = xv[1];
            const float2 ds = xds[xr[t] * nsub + j];
#pragma unroll
            for (int r = 0; r < R; ++r) {
              const int s0 = rf_dp4a(q[r][3], a.w,
                                     rf_dp4a(q[r][2], a.z,
                                             rf_dp4a(q[r][1], a.y, rf_dp4a(q[r][0], a.x, 0))));
              const int s1 = rf_dp4a(q[r][7], bb.w,
                                     rf_dp4a(q[r][6], bb.z,
                                             rf_dp4a(q[r][5], bb.y, rf_dp4a(q[r][4], bb.x, 0))));
              acc[r][t] = sub_term<TYPE>(acc[r][t], s0, s1, d0[r], d1[r], m[r], ds.x, ds.y);
            }
          }
        }
      }
    }
#pragma unroll
    for (int t = 0; t < NT; ++t) {
      if (t < cnt) {  // cnt is the same for the whole warp
#pragma unroll
        for (int r = 0; r < R; ++r) {
          const float v = rf_warp_sum(acc[r][t]);
          if (lane == 0 && row0 + r < N) y[(int64_t)pr[t] * N + row0 + r] = v + b[r];
        }
      }
    }
  }
}

// g = swiglu(g, u) (elementwise.hip's) or gpt-oss's swiglu_oai (alpha 1.702, limit 7), in place.
__global__ void moe_act_kernel(float* __restrict__ g, const float* __restrict__ u, int64_t n,
                               int act) {
  const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  if (act == RF_MOE_ACT_SWIGLU_OAI) {
    const float x = fminf(g[i], 7.f);
    const float v = fminf(fmaxf(u[i], -7.f), 7.f);
    g[i] = x / (1.f + expf(1.702f * -x)) * (v + 1.f);
  } else {
    const float x = g[i];
    g[i] = x / (1.f + __expf(-x)) * u[i];
  }
}

// out[t, d] = sum over r (in rank order) of y[t * k + r, d] * wts[t * k + r].
__global__ void moe_combine_kernel(const float* __restrict__ y, const float* __restrict__ wts,
                                   int T, int k, int dim, float* __restrict__ out) {
  const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= (int64_t)T * dim) return;
  const int64_t t = i / dim, d = i % dim;
  float acc = y[(t * k) * dim + d] * wts[t * k];
  for (int r = 1; r < k; ++r) acc += y[(t * k + r) * dim + d] * wts[t * k + r];
  out[i] = acc;
}

unsigned blocks(int64_t n, int per) { return (unsigned)((n + per - 1) / per); }

// One grouped product: y[p] = x[p / xDiv] . W_e^T for the pairs of every expert. Quantized
// weights first round x (rows of K) to int8 in `xqWs` unless `ready`.
hipError_t grouped(hipStream_t stream, int warp, const MoeArgs& a, int type, const void* W,
                   const float* x, int xRows, int xDiv, const int* offsets, const int* table,
                   const float* bias, float* y, int K, int N, void* xqWs, bool ready) {
  int8_t* xq = nullptr;
  float* xds = nullptr;
  if (kernel_type_quantized(type)) {
    const hipError_t err = launch_quantize_act(stream, type, x, xqWs, xRows, K, &xq, &xds, ready);
    if (err != hipSuccess) return err;
  }
  const uint8_t* w = static_cast<const uint8_t*>(W);
  const float2* ds = reinterpret_cast<const float2*>(xds);
  hipError_t err = hipErrorInvalidValue;  // a type without kernels launches nothing
  dispatch_type(type, [&]<int TYPE>() {
    if (a.T == 1) {  // one row: at most one pair per expert, one weight row per warp
      const dim3 grid(blocks(N, MOE_THREADS / warp), (unsigned)a.nExpert);
      moe_matvec_kernel<TYPE, 1, 1><<<grid, MOE_THREADS, 0, stream>>>(
          w, xq, ds, x, xDiv, offsets, table, bias, y, K, N);
    } else {
      const dim3 grid(blocks(N, MOE_THREADS / warp * MOE_ROWS), (unsigned)a.nExpert);
      moe_matvec_kernel<TYPE, MOE_PAIRS, MOE_ROWS><<<grid, MOE_THREADS, 0, stream>>>(
          w, xq, ds, x, xDiv, offsets, table, bias, y, K, N);
    }
    err = hipGetLastError();
  });
  return err;
}

}  // namespace

int64_t moe_workspace_bytes(const MoeArgs& a) { return moe_layout(a).end; }

hipError_t launch_moe(hipStream_t stream, int warp, int smCount, const MoeArgs& a, const float* x,
                      float* out, void* workspace) {
  const MoeLayout l = moe_layout(a);
  char* ws = static_cast<char*>(workspace);
  float* logits = reinterpret_cast<float*>(ws + l.logits);
  int* ids = reinterpret_cast<int*>(ws + l.ids);
  float* wts = reinterpret_cast<float*>(ws + l.wts);
  int* offsets = reinterpret_cast<int*>(ws + l.offsets);
  int* table = reinterpret_cast<int*>(ws + l.table);
  float* g = reinterpret_cast<float*>(ws + l.g);
  float* u = reinterpret_cast<float*>(ws + l.u);
  float* y = reinterpret_cast<float*>(ws + l.y);
  const int P = a.T * a.nUsed;
  hipError_t err = launch_matmul(stream, warp, smCount, a.routerType, a.router, x, a.routerBias,
                                 logits, a.T, a.dim, a.nExpert, ws + l.router, false);
  if (err != hipSuccess) return err;
  moe_route_kernel<<<blocks(a.T, 64), 64, 0, stream>>>(logits, a.T, a.nExpert, a.nUsed, a.gating,
                                                      a.normWeights, a.weightsScale, ids, wts);
  moe_group_kernel<<<1, MOE_THREADS, 0, stream>>>(ids, P, a.nExpert, offsets, table);
  if ((err = hipGetLastError()) != hipSuccess) return err;
  err = grouped(stream, warp, a, a.gateType, a.gate, x, a.T, a.nUsed, offsets, table, a.gateBias, g,
                a.dim, a.ff, ws + l.xq, false);
  if (err != hipSuccess) return err;
  const int fg = act_quant_format(a.gateType);
  err = grouped(stream, warp, a, a.upType, a.up, x, a.T, a.nUsed, offsets, table, a.upBias, u, a.dim,
                a.ff, ws + l.xq, fg != 0 && fg == act_quant_format(a.upType));
  if (err != hipSuccess) return err;
  const int64_t n = (int64_t)P * a.ff;
  moe_act_kernel<<<blocks(n, MOE_THREADS), MOE_THREADS, 0, stream>>>(g, u, n, a.act);
  if ((err = hipGetLastError()) != hipSuccess) return err;
  err = grouped(stream, warp, a, a.downType, a.down, g, P, 1, offsets, table, a.downBias, y, a.ff,
                a.dim, ws + l.aq, false);
  if (err != hipSuccess) return err;
  moe_combine_kernel<<<blocks((int64_t)a.T * a.dim, MOE_THREADS), MOE_THREADS, 0, stream>>>(
      y, wts, a.T, a.nUsed, a.dim, out);
  return hipGetLastError();
}

}  // namespace rf
