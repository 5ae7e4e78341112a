// rf_fusion.cpp: plan_fusion, which marks the neighbouring ops of a validated program whose
// work one launch can do (rf_graph.cpp run_op then launches the fused kernels and skips the
// ops whose work a neighbour did). Off with ROCMFORGE_GPU_FUSE=0.
#include <stdlib.h>
#include <string.h>

#include "../kernels/rf_kernels.h"
#include "rf_exec_internal.h"
#include "rf_program_check.h"

namespace rf {

namespace {

// ROCMFORGE_GPU_FUSE=0 launches every op on its own (to measure or rule out the fusion).
bool fusion_enabled() {
  static const bool on = [] {
    const char* v = getenv("ROCMFORGE_GPU_FUSE");
    return !(v && strcmp(v, "0") == 0);
  }();
  return on;
}

// True when scratch ranges [s0, s0+n0) and [s1, s1+n1) (slots, float counts) do not overlap.
bool apart(int32_t s0, int64_t n0, int32_t s1, int64_t n1) {
  return (int64_t)s0 * SLOT_BYTES + n0 * 4 <= (int64_t)s1 * SLOT_BYTES ||
         (int64_t)s1 * SLOT_BYTES + n1 * 4 <= (int64_t)s0 * SLOT_BYTES;
}

// True when the two ranges are the same range or do not overlap.
bool same_or_apart(int32_t s0, int64_t n0, int32_t s1, int64_t n1) {
  return (s0 == s1 && n0 == n1) || apart(s0, n0, s1, n1);
}

// The weight type of `next` when it is a product whose input is `slot` (rows T of K) and whose
// activations are 32-blocks that a producing kernel can round itself; else -1.
int quant_target(const Op& next, int32_t slot, int64_t T, int64_t K) {
  if (next.code != RF_OP_MATMUL || next.a[RF_MATMUL_X] != slot || next.a[RF_MATMUL_T] != T ||
      next.a[RF_MATMUL_K] != K) {
    return -1;
  }
  const int type = next.a[RF_MATMUL_W_TYPE];
  const int format = act_quant_format(type);
  return format == RF_ACT_Q8_0 || format == RF_ACT_Q8_1 ? type : -1;
}

// True when rope `b` can run in rope `a`'s launch: the same words but its tensors and head
// count, and neither reading what the other writes.
bool rope_pair(const Op& a, const Op& b) {
  for (int w = 0; w < a.info->words; ++w) {
    if (w != RF_ROPE_OUT && w != RF_ROPE_X && w != RF_ROPE_N_HEADS && a.a[w] != b.a[w]) {
      return false;
    }
  }
  const int64_t row = (int64_t)a.a[RF_ROPE_T] * a.a[RF_ROPE_HEAD_DIM];
  const int64_t na = row * a.a[RF_ROPE_N_HEADS], nb = row * b.a[RF_ROPE_N_HEADS];
  return apart(a.a[RF_ROPE_OUT], na, b.a[RF_ROPE_X], nb) &&
         apart(b.a[RF_ROPE_OUT], nb, a.a[RF_ROPE_X], na) &&
         apart(a.a[RF_ROPE_OUT], na, b.a[RF_ROPE_OUT], nb);
}

// True when product `b` can run in product `a`'s launch: the same input, rows, K and weight
// type, a type the decode kernel quantizes, few rows, and its output apart from the input and
// from the outputs of `a` and the products already joined to it.
bool matmul_part(const Op& a, const Op& b) {
  const int32_t* x = a.a;
  const int32_t* y = b.a;
  if (b.code != RF_OP_MATMUL || b.fusedAway || a.nParts >= MATMUL_MAX_PARTS ||
      y[RF_MATMUL_X] != x[RF_MATMUL_X] || y[RF_MATMUL_T] != x[RF_MATMUL_T] ||
      y[RF_MATMUL_K] != x[RF_MATMUL_K] || y[RF_MATMUL_W_TYPE] != x[RF_MATMUL_W_TYPE] ||
      x[RF_MATMUL_T] > MATVEC_MAX_T || !kernel_type_quantized(x[RF_MATMUL_W_TYPE])) {
    return false;
  }
  const int64_t T = x[RF_MATMUL_T];
  const int64_t outN = T * y[RF_MATMUL_N];
  if (!apart(y[RF_MATMUL_OUT], outN, x[RF_MATMUL_X], T * x[RF_MATMUL_K])) return false;
  for (int i = 0; i < a.nParts; ++i) {
    const int32_t* p = part_words(a, i);
    if (!apart(y[RF_MATMUL_OUT], outN, p[RF_MATMUL_OUT], T * p[RF_MATMUL_N])) return false;
  }
  return true;
}

}  // namespace

// Plans the fused launches: a residual add into the RMSNorm that reads its sum (when the norm's
// output is the sum's input buffer itself or apart from both inputs, since rows run in
// parallel), an RMSNorm or SwiGLU into the int8 rounding of the product that reads it, the
// second of two ropes (a layer's q and k) into the first, and the K/V store of the attention
// after them into that launch, and up to three neighbouring decode products of one input (q, k
// and v; gate and up) into one. The kernels compute the same bits as the separate launches.
void plan_fusion(std::vector<Op>& ops) {
  if (!fusion_enabled()) return;
  for (size_t i = 0; i + 1 < ops.size(); ++i) {
    Op& op = ops[i];
    const Op& next = ops[i + 1];
    if (op.code == RF_OP_MATMUL && !op.fusedAway) {
      for (size_t j = i + 1; j < ops.size() && matmul_part(op, ops[j]); ++j) {
        op.partWords[op.nParts++ - 1] = ops[j].a;
        ops[j].fusedAway = true;
      }
    } else if (op.code == RF_OP_ROPE && next.code == RF_OP_ROPE && !op.fusedAway &&
        rope_pair(op, next)) {
      op.pairWords = next.a;
      ops[i + 1].fusedAway = true;
      // The attention right after it, reading the second rope's output as K: its K/V store too.
      const int32_t* k = next.a;
      const int32_t* at = i + 2 < ops.size() && ops[i + 2].code == RF_OP_ATTENTION ? ops[i + 2].a
                                                                                  : nullptr;
      if (at && at[RF_ATTENTION_CAUSAL] && at[RF_ATTENTION_K] == k[RF_ROPE_OUT] && at[RF_ATTENTION_T] == k[RF_ROPE_T] &&
          at[RF_ATTENTION_N_HEAD_KV] == k[RF_ROPE_N_HEADS] &&
          at[RF_ATTENTION_HEAD_DIM] == k[RF_ROPE_HEAD_DIM]) {
        const int64_t vn = (int64_t)at[RF_ATTENTION_T] * at[RF_ATTENTION_N_HEAD_KV] *
                           at[RF_ATTENTION_VALUE_DIM];
        const int64_t row = (int64_t)k[RF_ROPE_T] * k[RF_ROPE_HEAD_DIM];
        if (apart(op.a[RF_ROPE_OUT], row * op.a[RF_ROPE_N_HEADS], at[RF_ATTENTION_V], vn) &&
            apart(k[RF_ROPE_OUT], row * k[RF_ROPE_N_HEADS], at[RF_ATTENTION_V], vn)) {
          op.kvWords = at;
          ops[i + 2].kvStored = true;
        }
      }
    } else if (op.code == RF_OP_ADD && next.code == RF_OP_RMS_NORM) {
      const int32_t* n = next.a;
      const int64_t elems = (int64_t)n[RF_RMS_NORM_T] * n[RF_RMS_NORM_COLS];
      if (n[RF_RMS_NORM_X] == op.a[RF_ADD_OUT] && elems == op.a[RF_ADD_N] &&
          same_or_apart(n[RF_RMS_NORM_OUT], elems, op.a[RF_ADD_A], elems) &&
          same_or_apart(n[RF_RMS_NORM_OUT], elems, op.a[RF_ADD_B], elems)) {
        op.fusedAway = true;
        ops[i + 1].addWords = op.a;
      }
    } else if (op.code == RF_OP_RMS_NORM || op.code == RF_OP_SWIGLU) {
      const bool norm = op.code == RF_OP_RMS_NORM;
      const int32_t out = norm ? op.a[RF_RMS_NORM_OUT] : op.a[RF_SWIGLU_OUT];
      const int64_t elems =
          norm ? (int64_t)op.a[RF_RMS_NORM_T] * op.a[RF_RMS_NORM_COLS] : op.a[RF_SWIGLU_N];
      const int K = next.code == RF_OP_MATMUL ? next.a[RF_MATMUL_K] : 0;
      if (K > 0 && elems % K == 0 && (!norm || op.a[RF_RMS_NORM_COLS] == K)) {
        op.quantType = quant_target(next, out, elems / K, K);
        op.quantT = (int)(elems / K);
        op.quantK = K;
      }
    }
  }
}

}  // namespace rf
