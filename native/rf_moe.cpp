// rf_moe.cpp: the program's moe op (mixture-of-experts FFN, kernels/moe.hip): its checks beyond
// the op table's (rf_program_check.cpp already bounded every slot and weight by its words) and
// its launch. rf_exec's validator calls check_moe_op, run_op calls run_moe_op.
#include <string.h>

#include <string>

#include "../kernels/moe.h"
#include "../kernels/rf_kernels.h"
#include "rf_exec_internal.h"
#include "rf_program_check.h"

namespace rf {

namespace {

const void* arena_ptr(const Arena& a, int32_t slot) {
  return static_cast<const char*>(a.base) + (int64_t)slot * SLOT_BYTES;
}

const float* arena_f32(const Arena* a, int32_t slot) {
  return slot >= 0 ? static_cast<const float*>(arena_ptr(*a, slot)) : nullptr;
}

float* scratch_at(const Context& c, int32_t slot) {
  return reinterpret_cast<float*>(static_cast<char*>(c.scratch.ptr) + (int64_t)slot * SLOT_BYTES);
}

MoeArgs moe_args(const Exec& e, const int32_t* a) {
  MoeArgs m{};
  m.T = a[RF_MOE_T];
  m.dim = a[RF_MOE_DIM];
  m.ff = a[RF_MOE_FF];
  m.nExpert = a[RF_MOE_N_EXPERT];
  m.nUsed = a[RF_MOE_N_USED];
  m.routerType = a[RF_MOE_ROUTER_TYPE];
  m.gateType = a[RF_MOE_GATE_TYPE];
  m.upType = a[RF_MOE_UP_TYPE];
  m.downType = a[RF_MOE_DOWN_TYPE];
  if (e.arena) {
    m.router = arena_ptr(*e.arena, a[RF_MOE_ROUTER_SLOT]);
    m.gate = arena_ptr(*e.arena, a[RF_MOE_GATE_SLOT]);
    m.up = arena_ptr(*e.arena, a[RF_MOE_UP_SLOT]);
    m.down = arena_ptr(*e.arena, a[RF_MOE_DOWN_SLOT]);
    m.routerBias = arena_f32(e.arena, a[RF_MOE_ROUTER_BIAS_SLOT]);
    m.gateBias = arena_f32(e.arena, a[RF_MOE_GATE_BIAS_SLOT]);
    m.upBias = arena_f32(e.arena, a[RF_MOE_UP_BIAS_SLOT]);
    m.downBias = arena_f32(e.arena, a[RF_MOE_DOWN_BIAS_SLOT]);
  }
  m.gating = a[RF_MOE_GATING];
  m.act = a[RF_MOE_ACT];
  m.normWeights = a[RF_MOE_NORM_WEIGHTS] != 0;
  memcpy(&m.weightsScale, &a[RF_MOE_WEIGHTS_SCALE], 4);
  return m;
}

}  // namespace

bool check_moe_op(const Exec& e, const Op& op, std::string& err, int64_t& workspace) {
  const int32_t* a = op.a;
  const int nE = a[RF_MOE_N_EXPERT], k = a[RF_MOE_N_USED];
  auto fails = [&](const std::string& why) {
    err = "moe: " + why;
    return false;
  };
  if (nE > RF_MOE_MAX_EXPERTS || k > RF_MOE_MAX_USED || k > nE) {
    return fails("nUsed " + std::to_string(k) + " of nExpert " + std::to_string(nE) +
                 " (at most " + std::to_string(RF_MOE_MAX_USED) + " of " +
                 std::to_string(RF_MOE_MAX_EXPERTS) + ")");
  }
  if ((int64_t)a[RF_MOE_FF] * nE != a[RF_MOE_FF_ALL] ||
      (int64_t)a[RF_MOE_DIM] * nE != a[RF_MOE_DIM_ALL]) {
    return fails("ffAll and dimAll must be ff and dim times nExpert");
  }
  if ((int64_t)a[RF_MOE_T] * k > (1 << 24)) return fails("T * nUsed above 2^24 rows");
  if (a[RF_MOE_GATING] != RF_MOE_GATING_SOFTMAX && a[RF_MOE_GATING] != RF_MOE_GATING_SOFTMAX_WEIGHT) {
    return fails("unknown gating word");
  }
  if (a[RF_MOE_ACT] != RF_MOE_ACT_SWIGLU && a[RF_MOE_ACT] != RF_MOE_ACT_SWIGLU_OAI) {
    return fails("unknown act word");
  }
  if (a[RF_MOE_NORM_WEIGHTS] != 0 && a[RF_MOE_NORM_WEIGHTS] != 1) {
    return fails("normWeights must be 0 or 1");
  }
  for (const int w : {RF_MOE_ROUTER_TYPE, RF_MOE_GATE_TYPE, RF_MOE_UP_TYPE, RF_MOE_DOWN_TYPE}) {
    if (!kernel_type_supported(a[w])) return fails("a weight type without matrix kernels");
  }
  const int64_t ws = moe_workspace_bytes(moe_args(e, a));
  if (ws > workspace) workspace = ws;
  return true;
}

hipError_t run_moe_op(const Exec& e, const Op& op) {
  const Context& c = *e.ctx;
  const int32_t* a = op.a;
  return launch_moe(c.stream, c.warpSize, c.smCount, moe_args(e, a), scratch_at(c, a[RF_MOE_X]),
                    scratch_at(c, a[RF_MOE_OUT]), c.workspace.ptr);
}

}  // namespace rf
