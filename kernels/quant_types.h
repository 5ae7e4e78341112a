// quant_types.h: device-side readers of GGUF weight blocks (ggml layouts), shared by the
// matvec, matmul and embedding kernels.
//
// Every quantized type is read in sub-blocks of 32 elements. For sub-block `s` of a block:
//   qword(blk, s, j)  -> 4 signed int8 values, elements 4j..4j+3 of the sub-block (j < 8)
//   scales(blk, s, d0, d1, m) -> element e of the sub-block is  d_(e/16) * q_e + m
// so a dot product with int8 activations a (scale da, sum-times-scale sa) is
//   da * (d0 * dot(q[0..15], a[0..15]) + d1 * dot(q[16..31], a[16..31])) + m * sa.
#pragma once
#include <stdint.h>

#include "../native/gpu_compat.h"
#include "../native/rf_schema.gen.h"

namespace rf {

__device__ __forceinline__ float h2f(uint16_t h) { return __half2float(__ushort_as_half(h)); }
__device__ __forceinline__ float bf2f(uint16_t h) { return __uint_as_float(((uint32_t)h) << 16); }
__device__ __forceinline__ uint16_t ld16(const uint8_t* p) {
  return *reinterpret_cast<const uint16_t*>(p);
}
// 32-bit little-endian load from a 2-byte aligned address.
__device__ __forceinline__ uint32_t ld32a2(const uint8_t* p) {
  const uint16_t* h = reinterpret_cast<const uint16_t*>(p);
  return (uint32_t)h[0] | ((uint32_t)h[1] << 16);
}
__device__ __forceinline__ uint32_t ld32(const uint8_t* p) {
  return *reinterpret_cast<const uint32_t*>(p);
}
// Subtracts `k` (< 128) from each of four unsigned bytes holding values >= 0, giving int8s.
__device__ __forceinline__ int sub_bytes(uint32_t v, uint32_t k) {
  return (int)(((v | 0x80808080u) - k * 0x01010101u) ^ 0x80808080u);
}
// Spreads the low 4 bits of `b` to bit 4 of each byte.
__device__ __forceinline__ uint32_t spread4(uint32_t b) {
  return ((b & 1u) << 4) | ((b & 2u) << 11) | ((b & 4u) << 18) | ((b & 8u) << 25);
}

// 32-bit little-endian load from any address (MXFP4's 17-byte blocks).
__device__ __forceinline__ uint32_t ld32u(const uint8_t* p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
// Four table lookups: byte i of `v` (0..15) selects int8 entry v_i of a 16-entry table held in
// four words (t0: entries 0..3, ..., t3: 12..15). Each selector nibble keeps the low 3 bits
// (PTX's prmt reads bit 3 as "replicate the sign"), so entries 0..7 come from (t0, t1) and
// 8..15 from (t2, t3); bit 3 of each index picks between the two.
__device__ __forceinline__ int lut16(uint32_t v, uint32_t t0, uint32_t t1, uint32_t t2,
                                     uint32_t t3) {
  const uint32_t sel = (v & 0x7u) | ((v >> 4) & 0x70u) | ((v >> 8) & 0x700u) | ((v >> 12) & 0x7000u);
  const uint32_t lo = __byte_perm(t0, t1, sel), hi = __byte_perm(t2, t3, sel);
  const uint32_t high = ((v >> 3) & 0x01010101u) * 0xFFu;  // 0xFF in the bytes of entries >= 8
  return (int)((lo & ~high) | (hi & high));
}
__device__ __forceinline__ int lut_iq4nl(uint32_t v) {
  return lut16(v, kvalues_iq4nl(0), kvalues_iq4nl(1), kvalues_iq4nl(2), kvalues_iq4nl(3));
}
__device__ __forceinline__ int lut_mxfp4(uint32_t v) {
  return lut16(v, kvalues_mxfp4(0), kvalues_mxfp4(1), kvalues_mxfp4(2), kvalues_mxfp4(3));
}
// ggml_e8m0_to_fp32_half: half the E8M0 scale, 2^(e - 128) (e < 2 gives subnormals).
__device__ __forceinline__ float e8m0_half(uint32_t e) {
  return __uint_as_float(e < 2 ? 0x00200000u << e : (e - 1) << 23);
}

template <int TYPE>
struct QT;

// Facts of QT<T>::scales the product kernels specialize on: whether the two 16-element halves of
// a sub-block can have different scales (d0 != d1: Q3_K and Q6_K scale every 16 weights) and
// whether a sub-block has an offset m (the types with a min).
RF_HD constexpr bool split_scales(int t) { return t == T_Q3_K || t == T_Q6_K; }
RF_HD constexpr bool has_offset(int t) {
  return t == T_Q4_1 || t == T_Q5_1 || t == T_Q4_K || t == T_Q5_K;
}

// A sub-block's term of a product, added to acc: dx * (d0 * s0 + d1 * s1) + m * sx, where s0
// and s1 are the integer dots of its two 16-element halves with the int8 activations (scale dx,
// sum sx). With one scale the halves are added first (s1 = 0 when the caller has their sum).
// Every quantized product kernel (matvec, grouped MoE, tensor-core prefill) folds through this.
template <int TYPE>
__device__ __forceinline__ float sub_term(float acc, int s0, int s1, float d0, float d1, float m,
                                          float dx, float sx) {
  if constexpr (split_scales(TYPE)) {
    acc += dx * (d0 * (float)s0 + d1 * (float)s1);
  } else {
    acc = fmaf(dx * d0, (float)(s0 + s1), acc);
  }
  if constexpr (has_offset(TYPE)) acc = fmaf(m, sx, acc);
  return acc;
}

template <>
struct QT<T_Q4_0> {  // half d; u8 qs[16]
  static constexpr int BLOCK = type_block(T_Q4_0), BYTES = type_bytes(T_Q4_0), SUBS = 1;
  __device__ static int qword(const uint8_t* b, int, int j) {
    uint32_t v = ld32a2(b + 2 + 4 * (j & 3));
    v = (j < 4 ? v : v >> 4) & 0x0F0F0F0Fu;
    return sub_bytes(v, 8);
  }
  __device__ static void scales(const uint8_t* b, int, float& d0, float& d1, float& m) {
    d0 = d1 = h2f(ld16(b));
    m = 0.f;
  }
};

template <>
struct QT<T_Q4_1> {  // half d, m; u8 qs[16]
  static constexpr int BLOCK = type_block(T_Q4_1), BYTES = type_bytes(T_Q4_1), SUBS = 1;
  __device__ static int qword(const uint8_t* b, int, int j) {
    uint32_t v = ld32(b + 4 + 4 * (j & 3));
    return (int)((j < 4 ? v : v >> 4) & 0x0F0F0F0Fu);
  }
  __device__ static void scales(const uint8_t* b, int, float& d0, float& d1, float& m) {
    d0 = d1 = h2f(ld16(b));
    m = h2f(ld16(b + 2));
  }
};

template <>
struct QT<T_Q5_0> {  // half d; u8 qh[4]; u8 qs[16]
  static constexpr int BLOCK = type_block(T_Q5_0), BYTES = type_bytes(T_Q5_0), SUBS = 1;
  __device__ static int qword(const uint8_t* b, int, int j) {
    const uint32_t qh = ld32a2(b + 2);
    uint32_t v = ld32a2(b + 6 + 4 * (j & 3));
    v = (j < 4 ? v : v >> 4) & 0x0F0F0F0Fu;
    v |= spread4((qh >> (4 * j)) & 0xFu);  // element e uses bit e (j<4) or bit 16+e-16 (j>=4)
    return sub_bytes(v, 16);
  }
  __device__ static void scales(const uint8_t* b, int, float& d0, float& d1, float& m) {
    d0 = d1 = h2f(ld16(b));
    m = 0.f;
  }
};

template <>
struct QT<T_Q5_1> {  // half d, m; u8 qh[4]; u8 qs[16]
  static constexpr int BLOCK = type_block(T_Q5_1), BYTES = type_bytes(T_Q5_1), SUBS = 1;
  __device__ static int qword(const uint8_t* b, int, int j) {
    const uint32_t qh = ld32(b + 4);
    uint32_t v = ld32(b + 8 + 4 * (j & 3));
    v = (j < 4 ? v : v >> 4) & 0x0F0F0F0Fu;
    return (int)(v | spread4((qh >> (4 * j)) & 0xFu));
  }
  __device__ static void scales(const uint8_t* b, int, float& d0, float& d1, float& m) {
    d0 = d1 = h2f(ld16(b));
    m = h2f(ld16(b + 2));
  }
};

template <>
struct QT<T_Q8_0> {  // half d; i8 qs[32]
  static constexpr int BLOCK = type_block(T_Q8_0), BYTES = type_bytes(T_Q8_0), SUBS = 1;
  __device__ static int qword(const uint8_t* b, int, int j) { return (int)ld32a2(b + 2 + 4 * j); }
  __device__ static void scales(const uint8_t* b, int, float& d0, float& d1, float& m) {
    d0 = d1 = h2f(ld16(b));
    m = 0.f;
  }
};

template <>
struct QT<T_IQ4_NL> {  // half d; u8 qs[16] (indices into kvalues_iq4nl, laid out as Q4_0)
  static constexpr int BLOCK = type_block(T_IQ4_NL), BYTES = type_bytes(T_IQ4_NL), SUBS = 1;
  __device__ static int qword(const uint8_t* b, int, int j) {
    const uint32_t v = ld32a2(b + 2 + 4 * (j & 3));
    return lut_iq4nl((j < 4 ? v : v >> 4) & 0x0F0F0F0Fu);
  }
  __device__ static void scales(const uint8_t* b, int, float& d0, float& d1, float& m) {
    d0 = d1 = h2f(ld16(b));
    m = 0.f;
  }
};

template <>
struct QT<T_MXFP4> {  // u8 e (E8M0); u8 qs[16] (E2M1 codes, laid out as Q4_0)
  static constexpr int BLOCK = type_block(T_MXFP4), BYTES = type_bytes(T_MXFP4), SUBS = 1;
  __device__ static int qword(const uint8_t* b, int, int j) {
    const uint32_t v = ld32u(b + 1 + 4 * (j & 3));
    return lut_mxfp4((j < 4 ? v : v >> 4) & 0x0F0F0F0Fu);
  }
  __device__ static void scales(const uint8_t* b, int, float& d0, float& d1, float& m) {
    d0 = d1 = e8m0_half(b[0]);
    m = 0.f;
  }
};

// 6-bit scale and min of sub-block j of a Q4_K/Q5_K block (12 packed scale bytes at `q`).
__device__ __forceinline__ void scale_min_k4(int j, const uint8_t* q, int& sc, int& mn) {
  if (j < 4) {
    sc = q[j] & 63;
    mn = q[j + 4] & 63;
  } else {
    sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    mn = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

template <>
struct QT<T_Q4_K> {  // half d, dmin; u8 scales[12]; u8 qs[128]
  static constexpr int BLOCK = type_block(T_Q4_K), BYTES = type_bytes(T_Q4_K), SUBS = 8;
  __device__ static int qword(const uint8_t* b, int s, int j) {
    const uint32_t v = ld32(b + 16 + 32 * (s >> 1) + 4 * j);
    return (int)((v >> (4 * (s & 1))) & 0x0F0F0F0Fu);
  }
  __device__ static void scales(const uint8_t* b, int s, float& d0, float& d1, float& m) {
    int sc, mn;
    scale_min_k4(s, b + 4, sc, mn);
    d0 = d1 = h2f(ld16(b)) * (float)sc;
    m = -h2f(ld16(b + 2)) * (float)mn;
  }
};

template <>
struct QT<T_Q5_K> {  // half d, dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]
  static constexpr int BLOCK = type_block(T_Q5_K), BYTES = type_bytes(T_Q5_K), SUBS = 8;
  __device__ static int qword(const uint8_t* b, int s, int j) {
    const uint32_t v = ld32(b + 48 + 32 * (s >> 1) + 4 * j);
    const uint32_t h = ld32(b + 16 + 4 * j);
    return (int)(((v >> (4 * (s & 1))) & 0x0F0F0F0Fu) | (((h >> s) & 0x01010101u) << 4));
  }
  __device__ static void scales(const uint8_t* b, int s, float& d0, float& d1, float& m) {
    int sc, mn;
    scale_min_k4(s, b + 4, sc, mn);
    d0 = d1 = h2f(ld16(b)) * (float)sc;
    m = -h2f(ld16(b + 2)) * (float)mn;
  }
};

template <>
struct QT<T_Q6_K> {  // u8 ql[128]; u8 qh[64]; i8 scales[16]; half d
  static constexpr int BLOCK = type_block(T_Q6_K), BYTES = type_bytes(T_Q6_K), SUBS = 8;
  __device__ static int qword(const uint8_t* b, int s, int j) {
    const int n = s >> 2, g = s & 3;
    const uint32_t l = ld32a2(b + 64 * n + 32 * (g & 1) + 4 * j);
    const uint32_t h = ld32a2(b + 128 + 32 * n + 4 * j);
    const uint32_t v = ((l >> (4 * (g >> 1))) & 0x0F0F0F0Fu) | (((h >> (2 * g)) & 0x03030303u) << 4);
    return sub_bytes(v, 32);
  }
  __device__ static void scales(const uint8_t* b, int s, float& d0, float& d1, float& m) {
    const int n = s >> 2, g = s & 3;
    const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192);
    const float d = h2f(ld16(b + 208));
    d0 = d * (float)sc[8 * n + 2 * g];
    d1 = d * (float)sc[8 * n + 2 * g + 1];
    m = 0.f;
  }
};

template <>
struct QT<T_Q3_K> {  // u8 hmask[32]; u8 qs[64]; u8 scales[12]; half d
  static constexpr int BLOCK = type_block(T_Q3_K), BYTES = type_bytes(T_Q3_K), SUBS = 8;
  // Element l of sub-block s: 2 bits at shift 2 (s % 4) of qs[32 (s / 4) + l], minus 4 unless
  // bit s of hmask[l] is set.
  __device__ static int qword(const uint8_t* b, int s, int j) {
    const uint32_t l = (ld32a2(b + 32 + 32 * (s >> 2) + 4 * j) >> (2 * (s & 3))) & 0x03030303u;
    const uint32_t h = (ld32a2(b + 4 * j) >> s) & 0x01010101u;
    return sub_bytes(l | (h << 2), 4);
  }
  // 6-bit scale of 16-element group g (0..15), minus 32.
  __device__ static int scale6(const uint8_t* sc, int g) {
    const int lo = g < 8 ? sc[g] & 0xF : sc[g - 8] >> 4;
    return (lo | (((sc[8 + (g & 3)] >> (2 * (g >> 2))) & 3) << 4)) - 32;
  }
  __device__ static void scales(const uint8_t* b, int s, float& d0, float& d1, float& m) {
    const float d = h2f(ld16(b + 108));
    d0 = d * (float)scale6(b + 96, 2 * s);
    d1 = d * (float)scale6(b + 96, 2 * s + 1);
    m = 0.f;
  }
};

template <>
struct QT<T_IQ4_XS> {  // half d; u16 scales_h; u8 scales_l[4]; u8 qs[128]
  static constexpr int BLOCK = type_block(T_IQ4_XS), BYTES = type_bytes(T_IQ4_XS), SUBS = 8;
  // Sub-block s: 16 bytes at qs + 16 s, elements 0..15 in the low nibbles, 16..31 high.
  __device__ static int qword(const uint8_t* b, int s, int j) {
    const uint32_t v = ld32(b + 8 + 16 * s + 4 * (j & 3));
    return lut_iq4nl((j < 4 ? v : v >> 4) & 0x0F0F0F0Fu);
  }
  __device__ static void scales(const uint8_t* b, int s, float& d0, float& d1, float& m) {
    const int ls = ((b[4 + (s >> 1)] >> (4 * (s & 1))) & 0xF) | (((ld16(b + 2) >> (2 * s)) & 3) << 4);
    d0 = d1 = h2f(ld16(b)) * (float)(ls - 32);
    m = 0.f;
  }
};

// Plain float types: element k of a row.
template <int TYPE>
__device__ __forceinline__ float load_plain(const uint8_t* row, int64_t k);
template <>
__device__ __forceinline__ float load_plain<T_F32>(const uint8_t* row, int64_t k) {
  return reinterpret_cast<const float*>(row)[k];
}
template <>
__device__ __forceinline__ float load_plain<T_F16>(const uint8_t* row, int64_t k) {
  return h2f(reinterpret_cast<const uint16_t*>(row)[k]);
}
template <>
__device__ __forceinline__ float load_plain<T_BF16>(const uint8_t* row, int64_t k) {
  return bf2f(reinterpret_cast<const uint16_t*>(row)[k]);
}

// Rounds an activation as the CPU reference does before an F16/BF16 product
// (matvec.hip, moe.hip).
template <int TYPE>
__device__ __forceinline__ float round_act(float x) {
  if constexpr (TYPE == T_F16) {
    return __half2float(__float2half_rn(x));
  } else if constexpr (TYPE == T_BF16) {
    const uint32_t u = __float_as_uint(x);
    return __uint_as_float((u + 0x7FFFu + ((u >> 16) & 1u)) & 0xFFFF0000u);
  } else {
    return x;
  }
}

// Element k of a quantized row (slow path: embeddings).
template <int TYPE>
__device__ __forceinline__ float load_quant(const uint8_t* row, int64_t k) {
  using Q = QT<TYPE>;
  const uint8_t* blk = row + (k / Q::BLOCK) * Q::BYTES;
  const int within = (int)(k % Q::BLOCK);
  const int s = within / 32, e = within % 32;
  const int w = Q::qword(blk, s, e / 4);
  const int q = (int)(int8_t)((uint32_t)w >> (8 * (e % 4)));
  float d0, d1, m;
  Q::scales(blk, s, d0, d1, m);
  return (e < 16 ? d0 : d1) * (float)q + m;
}

// Calls f.template operator()<TYPE>() for a type the matrix kernels read (RF_HIP_MATRIX_TYPES,
// generated from the type schema); returns false otherwise.
template <class F>
__host__ bool dispatch_type(int type, F&& f) {
#define RF_DISPATCH_CASE(T) \
  case T: f.template operator()<T>(); return true;
  switch (type) {
    RF_HIP_MATRIX_TYPES(RF_DISPATCH_CASE)
    default: return false;
  }
#undef RF_DISPATCH_CASE
}

}  // namespace rf
