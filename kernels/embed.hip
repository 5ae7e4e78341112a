// embed.hip: embedding lookup, out[t, :] = dequantized row tokens[t] of W (any weight type the
// kernels read), or row pos0 + t (position embeddings), or row 0. Token ids and positions were
// range-checked on the host.
#include "quant_types.h"
#include "rf_kernels.h"

namespace rf {

template <int TYPE>
__global__ void embed_kernel(const uint8_t* __restrict__ W, const int32_t* __restrict__ tokens,
                             float* __restrict__ out, int cols, int64_t rowBytes, int index,
                             int pos0, const int* pos0d, const int* rowPos) {
  const int t = blockIdx.y;
  const int k = blockIdx.x * blockDim.x + threadIdx.x;
  if (k >= cols) return;
  const int64_t id = index == RF_EMBED_INDEX_TOKEN      ? (int64_t)tokens[t]
                     : index == RF_EMBED_INDEX_POSITION && rowPos ? (int64_t)rowPos[t]
                     : index == RF_EMBED_INDEX_POSITION ? (int64_t)(pos0d ? *pos0d : pos0) + t
                                                        : 0;
  const uint8_t* row = W + id * rowBytes;
  float v;
  if constexpr (is_plain(TYPE)) {
    v = load_plain<TYPE>(row, k);
  } else {
    v = load_quant<TYPE>(row, k);
  }
  out[(int64_t)t * cols + k] = v;
}

hipError_t launch_embed(hipStream_t stream, int type, const void* W, const int32_t* tokens,
                        float* out, int T, int cols, int index, int pos0, const int* pos0d,
                        const int* rowPos) {
  const dim3 grid((cols + 255) / 256, T), block(256);
  const uint8_t* w = static_cast<const uint8_t*>(W);
  dispatch_type(type, [&]<int TYPE>() {
    int64_t rowBytes;
    if constexpr (is_plain(TYPE)) {
      rowBytes = (int64_t)cols * type_bytes(TYPE);
    } else {
      rowBytes = (int64_t)(cols / QT<TYPE>::BLOCK) * QT<TYPE>::BYTES;
    }
    embed_kernel<TYPE><<<grid, block, 0, stream>>>(w, tokens, out, cols, rowBytes, index, pos0,
                                                   pos0d, rowPos);
  });
  return hipGetLastError();
}

}  // namespace rf
