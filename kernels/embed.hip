// embed.hip: token embedding lookup, out[t, :] = dequantized row tokens[t] of W (any weight
// type the kernels read). Token ids were range-checked on the host.
#include "quant_types.h"
#include "rf_kernels.h"

namespace rf {

template <int TYPE>
__global__ void embed_kernel(const uint8_t* __restrict__ W, const int32_t* __restrict__ tokens,
                             float* __restrict__ out, int cols, int64_t rowBytes) {
  const int t = blockIdx.y;
  const int k = blockIdx.x * blockDim.x + threadIdx.x;
  if (k >= cols) return;
  const uint8_t* row = W + (int64_t)tokens[t] * rowBytes;
  float v;
  if constexpr (is_plain(TYPE)) {
    v = load_plain<TYPE>(row, k);
  } else {
    v = load_quant<TYPE>(row, k);
  }
  out[(int64_t)t * cols + k] = v;
}

hipError_t launch_embed(hipStream_t stream, int type, const void* W, const int32_t* tokens,
                        float* out, int T, int cols) {
  const dim3 grid((cols + 255) / 256, T), block(256);
  const uint8_t* w = static_cast<const uint8_t*>(W);
  dispatch_type(type, [&]<int TYPE>() {
    int64_t rowBytes;
    if constexpr (is_plain(TYPE)) {
      rowBytes = (int64_t)cols * type_bytes(TYPE);
    } else {
      rowBytes = (int64_t)(cols / QT<TYPE>::BLOCK) * QT<TYPE>::BYTES;
    }
    embed_kernel<TYPE><<<grid, block, 0, stream>>>(w, tokens, out, cols, rowBytes);
  });
  return hipGetLastError();
}

}  // namespace rf
