// act_quant.h: the int8 rounding of one activation value in blocks of 32 (q8_0 / q8_1), as a
// device function, so the kernel that produces a product's input (RMSNorm, SwiGLU) can write
// that input rounded too, with the bits launch_quantize_act would write.
#pragma once
#include <stdint.h>

#include "../native/gpu_compat.h"

namespace rf {

// Element i of a flat activation: every thread of each aligned group of 32 consecutive
// threads calls this (the group holds elements 32b..32b+31, `in` false past the end, v 0
// there). d = amax/127, q = rne(v * 127/amax); per block xds = (half(d), half(d) * sum(q)),
// or for q8_1 (half(d), half(d * sum(q))).
__device__ __forceinline__ void act_quant32_store(float v, int64_t i, bool in,
                                                  int8_t* __restrict__ xq,
                                                  float2* __restrict__ xds, bool q8_1) {
  const float amax = rf_group_max<32>(fabsf(v));
  const float d = amax / 127.f;
  const float id = amax != 0.f ? 127.f / amax : 0.f;
  const int q = __float2int_rn(v * id);
  const float dh = __half2float(__float2half_rn(d));
  const float sum = rf_group_sum<32>((float)q);
  if (in) {
    xq[i] = (int8_t)q;
    const float s = q8_1 ? __half2float(__float2half_rn(d * sum)) : dh * sum;
    if ((i & 31) == 0) xds[i >> 5] = make_float2(dh, s);
  }
}

}  // namespace rf
