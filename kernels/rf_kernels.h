// rf_kernels.h: host-side launchers of the GPU kernels in kernels/*.hip. Each launcher enqueues
// its kernels on `stream` and returns the launch error (hipSuccess when all were queued).
// `warp` is the device's runtime warp size; kernels use the matching compile-time RF_WARP.
#pragma once
#include <stdint.h>

#include "../native/gpu_compat.h"
#include "../native/rf_api.h"
#include "../native/rf_schema.gen.h"

namespace rf {

// True when the matmul/embed kernels read `type`.
bool kernel_type_supported(int type);
// True for block-quantized types (those whose matvec reads q8 activations).
bool kernel_type_quantized(int type);

// True (once per armed count) when the test hook rf_test_fail_launch armed `point`
// (an RF_FAULT_* of rf_api.h): the launcher then uses an empty grid so its launch fails.
bool take_launch_fault(int32_t point);
// True while the test hook has launch faults left (a cached graph is then captured again, so
// the armed launch happens).
bool launch_fault_armed();

// Workspace bytes of int8 activations (and their block scales) for T rows of K, 256-aligned.
int64_t act_quant_bytes(int T, int K);
// Rounds x[T, K] to int8 activations in `ws` in the format the CPU pairs with weight `type`
// (q8 blocks of 32 with half scales, or of 256 for K-quants); sets *xq and *xds (pairs of
// floats: scale, scale * sum of the 32 int8 values) into ws. With `ready` (ws already holds
// this x in this format) only the pointers are set and nothing is launched.
hipError_t launch_quantize_act(hipStream_t stream, int type, const float* x, void* ws, int T,
                               int K, int8_t** xq, float** xds, bool ready);
// Work fused into an elementwise or norm launch (rf_graph.cpp plans it from the program):
// - addB/addOut (RMSNorm): the input is x + addB (the residual add before the norm), written
//   to addOut as the add would;
// - xq/xds (RMSNorm, SwiGLU): the output is also rounded to int8 blocks of 32 there, in the
//   following product's format (fuse_act_quant32), so the product reads it as ready.
struct Fuse {
  const float* addB = nullptr;
  float* addOut = nullptr;
  int8_t* xq = nullptr;
  float2* xds = nullptr;
  bool q8_1 = false;
};
// Sets f's int8 output to the workspace layout launch_quantize_act uses for T rows of K and
// weight `type`; false (f untouched) for types whose activations are not 32-blocks (float
// weights, K-quants), which keep their own rounding launch.
bool fuse_act_quant32(int type, void* ws, int T, int K, Fuse& f);
// The activation format a weight type reads: 0 none (float), else RF_ACT_Q8_0 (q8 blocks of 32),
// RF_ACT_Q8_K (q8 blocks of 256, K-quants) or RF_ACT_Q8_1 (blocks of 32 with sums, Q4_1/Q5_1),
// from the type schema. Two products whose weights share a nonzero format can share one rounding.
int act_quant_format(int type);
// The tiled prefill product (T > 8); quantized types read activations from launch_quantize_act.
// Returns the first launch error (the activation rounding's included).
hipError_t launch_matmul_tiled(hipStream_t stream, int type, const void* W, const float* x,
                               const float* bias, float* y, int T, int K, int N,
                               void* workspace, bool xReady);

// Integer tensor-core prefill product for quantized weights (NVIDIA sm_80+); returns false
// (and launches nothing) where unavailable, so the caller uses the FMA kernel.
bool launch_matmul_mma(hipStream_t stream, int type, const void* W, const int8_t* xq,
                       const float* xds, const float* bias, float* y, int T, int K, int N);

// Workspace bytes a matmul of T tokens and K inputs needs (q8 activations), 256-aligned.
int64_t matmul_workspace_bytes(int type, int T, int K);

// y[T, N] = x[T, K] . W^T (+ bias) with W in GGUF block form, rows of K elements. `xReady`:
// the workspace already holds x rounded in act_quant_format(type) (by the previous product).
hipError_t launch_matmul(hipStream_t stream, int warp, int smCount, int type, const void* W,
                         const float* x, const float* bias, float* y, int T, int K, int N,
                         void* workspace, bool xReady);

// The most rows per launch that the decode matrix-vector kernels take (more: the tiled kernels).
constexpr int MATVEC_MAX_T = 8;
// One product of launch_matmul_parts: weights, bias (or null), output [T, N], rows N.
struct MatmulPart {
  const void* W;
  const float* bias;
  float* y;
  int N;
};
constexpr int MATMUL_MAX_PARTS = 3;
// launch_matmul for up to MATMUL_MAX_PARTS products of one input x[T, K] and one weight type (a
// layer's q, k and v; its gate and up): for quantized weights and T <= MATVEC_MAX_T one launch
// whose rows run through the parts in order, else one launch each. The same bits per part.
hipError_t launch_matmul_parts(hipStream_t stream, int warp, int smCount, int type,
                               const MatmulPart* parts, int nParts, const float* x, int T, int K,
                               void* workspace, bool xReady);

// out[T, cols] = dequantized rows of W: tokens[t] (index RF_EMBED_INDEX_TOKEN), the position
// pos0 + t (RF_EMBED_INDEX_POSITION; pos0 read from pos0d, device memory, when not null) or row
// 0 (RF_EMBED_INDEX_ZERO). With rowPos (a multi-sequence batch), row t's position is rowPos[t].
hipError_t launch_embed(hipStream_t stream, int type, const void* W, const int32_t* tokens,
                        float* out, int T, int cols, int index = RF_EMBED_INDEX_TOKEN,
                        int pos0 = 0, const int* pos0d = nullptr,
                        const int* rowPos = nullptr);

// out = x / sqrt(mean(x^2) + eps) * w, per row; w is F32 or F16 (with `f`: see Fuse).
hipError_t launch_rms_norm(hipStream_t stream, int warp, const float* x, const void* w, int wType,
                           float* out, int T, int cols, float eps, const Fuse& f = Fuse());

// out = (x - mean) / sqrt(var + eps) * w (+ b), per row (ggml_norm, then the weight and bias);
// w and b are F32 or F16 (of types wType, bType); b may be null.
hipError_t launch_layer_norm(hipStream_t stream, const float* x, const void* w, int wType,
                             const void* b, int bType, float* out, int T, int cols, float eps);

struct RopeArgs {
  int T, nHeads, headDim, mode, nRot, nCtxOrig, pos0;
  float freqBase, freqScale, extFactor, attnFactor, betaFast, betaSlow;
  // When not null, nRot / 2 frequency factors (F32 or F16, of type ffType) dividing each pair's
  // angle (llama.cpp's rope_freqs).
  const void* ff = nullptr;
  int ffType = T_F32;
  // When not null the kernel reads the first position here (device memory) instead of pos0, so
  // a replayed graph serves every decode step.
  const int* pos0d;
  // When not null, a second tensor of nHeads2 heads rotated by the same launch (x2 -> out2).
  const float* x2 = nullptr;
  float* out2 = nullptr;
  int nHeads2 = 0;
  // With x2: when not null, out2's rows are also stored as half into kCache (rows of
  // nHeads2 * headDim) and v's T rows (vRow values) into vCache, from position pos0: the KV
  // store of the attention that follows.
  uint16_t* kCache = nullptr;
  const float* v = nullptr;
  uint16_t* vCache = nullptr;
  int vRow = 0;
  // When not null, the position of each of the T rows (a multi-sequence batch, rf_seqs.cpp);
  // pos0 and pos0d then go unused.
  const int* rowPos = nullptr;
};
hipError_t launch_rope(hipStream_t stream, const float* x, float* out, const RopeArgs& a);

// One sequence of a multi-sequence attention launch (device memory).
struct AttnSeq {
  int row0, rows, pos0, pad;
  const uint16_t* base;  // the sequence's KV cache (KVCache::base)
};

struct AttnArgs {
  int T, pos0, nHead, nHeadKV, headDim, valueDim;
  float scale;
  // The positions the launch is planned for (grid and split-KV chunks), >= pos0 + T. A replayed
  // graph plans for attention_span(pos0 + T, capacity) and reads the real first position from
  // pos0d (device memory, when not null); position chunks past it write empty partials.
  int span;
  const int* pos0d;
  // A multi-sequence batch (rf_seqs.cpp): with nSeqs > 0, the sequences seqs[0..nSeqs) (device
  // memory), each its rows of q and out against its own cache (AttnSeq::base + kOff / vOff)
  // from its own first position, in one launch; T is then the most rows of one sequence,
  // rowsAll the rows of all, span the latest end.
  const AttnSeq* seqs = nullptr;
  int nSeqs = 0, rowsAll = 0;
  int64_t kOff = 0, vOff = 0;
  // The variants of graph.ts's attention node. window > 0: the row at position p sees keys
  // p - window + 1 .. p only. softcap > 0: a score s becomes softcap * tanh(s / softcap) before
  // the scale (the CPU's order). sinks (nHead values of sinkType F32/F16, or null): each head's
  // logit joins its softmax denominator. causal 0: every row sees keys pos0 .. pos0 + T - 1.
  int window = 0;
  float softcap = 0.f;
  const void* sinks = nullptr;
  int sinkType = 0;
  int causal = 1;
  // First position the chunks are planned from: no row of the launch sees a key below it.
  int base = 0;
};
// Stores T rows of K and V into per-sequence caches: row t goes to position rowPos[t] of the
// cache seqs[rowSeq[t]].base (+ kOff for K, + vOff for V), as half.
hipError_t launch_kv_store_rows(hipStream_t stream, const float* k, int64_t kRow, const float* v,
                                int64_t vRow, int T, const int* rowPos, const int* rowSeq,
                                const AttnSeq* seqs, int64_t kOff, int64_t vOff);
// out[s, :] = x[rows[s], :] for s < n (the last row of each sequence).
hipError_t launch_gather_rows(hipStream_t stream, const float* x, float* out, const int* rows,
                              int n, int cols);
// Positions to plan a replayed decode step for: pos0 + T rounded up to ATTN_SPAN_STEP (at most
// the capacity), so one graph serves ATTN_SPAN_STEP consecutive steps.
constexpr int ATTN_SPAN_STEP = 256;
inline int attention_span(int64_t end, int capacity) {
  const int64_t s = (end + ATTN_SPAN_STEP - 1) / ATTN_SPAN_STEP * ATTN_SPAN_STEP;
  return (int)(s < capacity ? s : capacity);
}
// The first position a launch of T rows ending at `span` plans for with a sliding window: the
// window start of the earliest first row any pos0 of that span can have (a replayed span serves
// ends span - ATTN_SPAN_STEP + 1 .. span); 0 without a window.
inline int attention_base(int span, int T, int window, bool replayed) {
  if (window <= 0) return 0;
  const int64_t lowestPos0 = (int64_t)span - T - (replayed ? ATTN_SPAN_STEP - 1 : 0);
  const int64_t b = lowestPos0 - window + 1;
  return b > 0 ? (int)b : 0;
}
// Workspace bytes the attention of `a` needs (split-position partials), 256-aligned.
int64_t attention_workspace_bytes(const AttnArgs& a, int smCount, int warp);
// Stores the T new K rows (kRow float32 values each) and V rows (vRow values) as half precision
// into the KV cache rows from position pos0 (read from pos0d, device memory, when not null), in
// one launch.
hipError_t launch_kv_store(hipStream_t stream, const float* k, uint16_t* kCache, int64_t kRow,
                           const float* v, uint16_t* vCache, int64_t vRow, int T, int pos0,
                           const int* pos0d);
// Grouped-query attention of q[T, nHead*headDim] over the half-precision cache rows
// [0, pos0 + t] (causal; the last `window` of them with a window; [pos0, pos0 + T) when not
// causal), q rounded to half as the CPU reference does, math in float32.
hipError_t launch_attention(hipStream_t stream, int warp, int smCount, const float* q,
                            const uint16_t* kCache, const uint16_t* vCache, float* out,
                            const AttnArgs& a, void* workspace);

hipError_t launch_swiglu(hipStream_t stream, const float* gate, const float* up, float* out,
                         int64_t n, const Fuse& f = Fuse());
hipError_t launch_add(hipStream_t stream, const float* a, const float* b, float* out, int64_t n);
// ggml's tanh GELU as its half-precision table gives it (GGML_GELU_FP16): the input rounded to
// half, the float32 formula, the result rounded to half; 0 at or below -10, x at or above 10.
hipError_t launch_gelu(hipStream_t stream, const float* x, float* out, int64_t n);
// out = gelu(gate) * up (the same gelu).
hipError_t launch_geglu(hipStream_t stream, const float* gate, const float* up, float* out,
                        int64_t n);
hipError_t launch_scale(hipStream_t stream, const float* x, float s, float* out, int64_t n);
hipError_t launch_tanh(hipStream_t stream, const float* x, float* out, int64_t n);
// out[T, cols] = columns offset .. offset + cols of x[T, xCols].
hipError_t launch_slice(hipStream_t stream, const float* x, float* out, int T, int cols,
                        int xCols, int offset);

}  // namespace rf
