// rf_simple_ops.cpp: the ops of a program that read no KV cache and take part in no fusion:
// GELU, GeGLU, scale, tanh (elementwise), the column slice and LayerNorm. Their own checks run
// in rf_exec's validation, after the op table's (rf_program_check.cpp); run_op launches them
// through run_simple_op.
#include <string.h>

#include <string>

#include "../kernels/rf_kernels.h"
#include "rf_exec_internal.h"
#include "rf_program_check.h"

namespace rf {

namespace {

float word_float(int32_t w) {
  float f;
  memcpy(&f, &w, 4);
  return f;
}

float* scratch_f32(const Context& c, int32_t slot) {
  return reinterpret_cast<float*>(static_cast<char*>(c.scratch.ptr) + (int64_t)slot * SLOT_BYTES);
}

const void* arena_at(const Arena& a, int32_t slot) {
  return static_cast<const char*>(a.base) + (int64_t)slot * SLOT_BYTES;
}

}  // namespace

bool check_simple_op(const Op& op, std::string& err) {
  const int32_t* a = op.a;
  if (op.code == RF_OP_SLICE &&
      (int64_t)a[RF_SLICE_OFFSET] + a[RF_SLICE_COLS] > a[RF_SLICE_X_COLS]) {
    err = "slice: columns " + std::to_string(a[RF_SLICE_OFFSET]) + ".." +
          std::to_string((int64_t)a[RF_SLICE_OFFSET] + a[RF_SLICE_COLS] - 1) +
          " are outside rows of " + std::to_string(a[RF_SLICE_X_COLS]);
    return false;
  }
  return true;
}

hipError_t run_simple_op(const Exec& e, const Op& op) {
  const Context& c = *e.ctx;
  const int32_t* a = op.a;
  switch (op.code) {
    case RF_OP_GELU:
      return launch_gelu(c.stream, scratch_f32(c, a[RF_GELU_X]), scratch_f32(c, a[RF_GELU_OUT]),
                         a[RF_GELU_N]);
    case RF_OP_GEGLU:
      return launch_geglu(c.stream, scratch_f32(c, a[RF_GEGLU_GATE]),
                          scratch_f32(c, a[RF_GEGLU_UP]), scratch_f32(c, a[RF_GEGLU_OUT]),
                          a[RF_GEGLU_N]);
    case RF_OP_SCALE:
      return launch_scale(c.stream, scratch_f32(c, a[RF_SCALE_X]), word_float(a[RF_SCALE_S]),
                          scratch_f32(c, a[RF_SCALE_OUT]), a[RF_SCALE_N]);
    case RF_OP_TANH:
      return launch_tanh(c.stream, scratch_f32(c, a[RF_TANH_X]), scratch_f32(c, a[RF_TANH_OUT]),
                         a[RF_TANH_N]);
    case RF_OP_SLICE:
      return launch_slice(c.stream, scratch_f32(c, a[RF_SLICE_X]), scratch_f32(c, a[RF_SLICE_OUT]),
                          a[RF_SLICE_T], a[RF_SLICE_COLS], a[RF_SLICE_X_COLS], a[RF_SLICE_OFFSET]);
    case RF_OP_LAYER_NORM: {
      const int32_t biasSlot = a[RF_LAYER_NORM_BIAS_SLOT];
      const void* bias = biasSlot >= 0 ? arena_at(*e.arena, biasSlot) : nullptr;
      return launch_layer_norm(c.stream, scratch_f32(c, a[RF_LAYER_NORM_X]),
                               arena_at(*e.arena, a[RF_LAYER_NORM_W_SLOT]),
                               a[RF_LAYER_NORM_W_TYPE], bias, a[RF_LAYER_NORM_BIAS_TYPE],
                               scratch_f32(c, a[RF_LAYER_NORM_OUT]), a[RF_LAYER_NORM_T],
                               a[RF_LAYER_NORM_COLS], word_float(a[RF_LAYER_NORM_EPS]));
    }
    default:
      return hipSuccess;
  }
}

}  // namespace rf
