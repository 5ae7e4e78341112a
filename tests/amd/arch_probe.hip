// Compiled by tests/amd_arch_macros_test.ts for every default AMD target: each path that
// native/gpu_arch.h enables must compile and emit its instruction (v_mfma, v_wmma, v_dot4).
#include "../../native/gpu_compat.h"

typedef _Float16 rf_h4 __attribute__((ext_vector_type(4)));
typedef _Float16 rf_h8 __attribute__((ext_vector_type(8)));
typedef _Float16 rf_h16 __attribute__((ext_vector_type(16)));
typedef float rf_f4 __attribute__((ext_vector_type(4)));
typedef float rf_f8 __attribute__((ext_vector_type(8)));

__global__ void rf_arch_probe(int* o, rf_f4* m, rf_f8* w, rf_h4 a, rf_h16 b, rf_h8 c) {
  (void)m, (void)w, (void)a, (void)b, (void)c;
  o[0] = rf_dp4a(o[1], o[2], o[3]);
#if RF_HAS_MFMA
  m[0] = __builtin_amdgcn_mfma_f32_16x16x16f16(a, a, m[1], 0, 0, 0);
#endif
#if RF_HAS_WMMA == 11
  w[0] = __builtin_amdgcn_wmma_f32_16x16x16_f16_w32(b, b, w[1]);
#elif RF_HAS_WMMA == 12
  w[0] = __builtin_amdgcn_wmma_f32_16x16x16_f16_w32_gfx12(c, c, w[1]);
#endif
  o[4] = RF_WARP;
}
