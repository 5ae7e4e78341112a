// moe.h: host-side launcher of the mixture-of-experts FFN (kernels/moe.hip), which
// native/rf_moe.cpp calls for the program's moe op.
#pragma once
#include <stdint.h>

#include "../native/gpu_compat.h"

namespace rf {

// One MoE FFN over T rows of x [T, dim]: weights in the arena, in GGUF block form.
struct MoeArgs {
  int T, dim, ff, nExpert, nUsed;
  const void* router;  // [dim] rows, nExpert of them
  const void* gate;    // [dim] rows, ff per expert, expert after expert
  const void* up;
  const void* down;  // [ff] rows, dim per expert
  int routerType, gateType, upType, downType;
  // F32 biases or null: router [nExpert]; gate, up [ff * nExpert]; down [dim * nExpert].
  const float* routerBias;
  const float* gateBias;
  const float* upBias;
  const float* downBias;
  int gating;  // RF_MOE_GATING_*
  int act;     // RF_MOE_ACT_*
  bool normWeights;
  float weightsScale;  // 0 or 1: none
};

// Workspace bytes launch_moe needs (router logits, routing, row tables, expert products and
// their int8 activations), 256-aligned.
int64_t moe_workspace_bytes(const MoeArgs& a);

// out[T, dim] = the MoE FFN of x (graph.ts moe): router logits (one product), per row a softmax
// and the top nUsed experts with their weights (or gpt-oss's top logits and a softmax over them),
// a device-side table of the rows routed to each expert, then one grouped launch per projection
// (gate, up, down) over every (expert, row) pair reading each expert's rows once per 8 pairs, the
// activation, and the weighted sum in rank order. Nothing is read back to the host.
hipError_t launch_moe(hipStream_t stream, int warp, int smCount, const MoeArgs& a, const float* x,
                      float* out, void* workspace);

}  // namespace rf
