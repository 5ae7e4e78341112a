// attention.c: causal grouped-query attention over a float KV cache whose values are
// rounded to half precision, with the float32 steps of llama.cpp's CPU flash attention
// (ggml_compute_forward_flash_attn_ext_f16_one_chunk with an F16 cache; the same as
// src/backends/cpu/ops/attention.ts): the query is rounded to half; s = dot_f16(k, q) *
// scale; an online softmax with glibc's expf and a half-precision value accumulator: on a
// new maximum acc = half(acc * ms), ms = expf(Mold - M), vs = 1, else vs = expf(s - M);
// then acc = half(fma(v, vs, acc)) and S = S * ms + vs. With a sliding window a query at
// position p sees keys max(0, p - window + 1)..p (llama.cpp skips masked keys). With
// attention sinks, the head's sink logit joins after the loop over keys, as ggml does once
// the accumulator is back in float32: on a new maximum acc = acc * expf(M - sink), else
// S += expf(sink - M) (S = S * ms + vs). Finally out = acc * (1 / S).
#include "rf_libm.h"
#include "rf_wasm.h"

// Rounds four floats to the nearest half-precision value (ties to even), as floats.
RF_INLINE v128_t round_f16_x4(v128_t x) {
  const v128_t sign = wasm_v128_and(x, rf_k.f_sign);
  const v128_t a = wasm_v128_and(x, rf_k.f_abs);
  const v128_t lsb = wasm_v128_and(wasm_u32x4_shr(a, 13), rf_k.one32);
  v128_t r = wasm_i32x4_add(a, wasm_i32x4_add(lsb, rf_k.r_bias));
  r = wasm_v128_and(r, rf_k.r_mask);
  // zero or a normal half on every lane: done (the common case)
  const v128_t normal = wasm_v128_and(
      wasm_u32x4_lt(a, rf_k.h_max),
      wasm_v128_or(wasm_u32x4_ge(a, rf_k.h_min), wasm_i32x4_eq(a, wasm_i32x4_splat(0))));
  if (wasm_i32x4_all_true(normal)) return wasm_v128_or(r, sign);
  const v128_t sub = wasm_f32x4_mul(
      wasm_f32x4_nearest(wasm_f32x4_mul(a, wasm_f32x4_splat(0x1p24f))), wasm_f32x4_splat(0x1p-24f));
  r = wasm_v128_bitselect(sub, r, wasm_u32x4_lt(a, wasm_i32x4_splat(0x38800000)));
  r = wasm_v128_bitselect(wasm_i32x4_splat(0x7f800000), r,
                          wasm_u32x4_ge(a, wasm_i32x4_splat(0x477ff000)));
  r = wasm_v128_bitselect(wasm_v128_or(a, wasm_i32x4_splat(0x00400000)), r,
                          wasm_u32x4_gt(a, wasm_i32x4_splat(0x7f800000)));
  return wasm_v128_or(r, sign);
}

RF_INLINE float round_f16(float x) { return wasm_f32x4_extract_lane(round_f16_x4(wasm_f32x4_splat(x)), 0); }

// ggml_vec_dot_f16 of AVX512 builds on half-valued floats: the first n & ~63 elements in
// 4 accumulators of 16 lanes with FMA, reduced as (a0 + a2) + (a1 + a3) lane by lane and
// then as _mm512_reduce_add_ps does; the rest as float products summed in double.
RF_INLINE float dot_f16(const float* x, const float* y, int n) {
  const int np = n & ~63;
  double sum = 0.0;
  if (np) {
    v128_t acc[16];
    for (int j = 0; j < 16; j++) acc[j] = wasm_f32x4_splat(0.f);
    for (int i = 0; i < np; i += 64) {
      for (int j = 0; j < 16; j++) {
        acc[j] = rf_fma(wasm_v128_load(x + i + 4 * j), wasm_v128_load(y + i + 4 * j), acc[j]);
      }
    }
    sum = rf_vec_dot_reduce(acc);
  }
  for (int i = np; i < n; i++) sum += (double)(x[i] * y[i]);
  return (float)sum;
}

// Writes n floats of src into dst rounded to half precision.
RF_EXPORT(rf_store_f16_rounded)
void rf_store_f16_rounded(float* dst, const float* src, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(dst + i, round_f16_x4(wasm_v128_load(src + i)));
  for (; i < n; i++) dst[i] = round_f16(src[i]);
}

// Work items [i0, i1) of t * n_head: item i is query row i / n_head, head i % n_head.
RF_EXPORT(rf_attention_range) __attribute__((noinline))
void rf_attention_range(const rf_attn_args* a, int i0, int i1) {
  const int hd = a->head_dim, vd = a->value_dim;
  const int kcols = a->n_head_kv * hd, vcols = a->n_head_kv * vd;
  const int group = a->n_head / a->n_head_kv;
  const float* q = (const float*)(uintptr_t)a->q;
  const float* kc = (const float*)(uintptr_t)a->k;
  const float* vc = (const float*)(uintptr_t)a->v;
  float* out = (float*)(uintptr_t)a->out;
  const float* sinks = (const float*)(uintptr_t)a->sinks;
  float qh[512] __attribute__((aligned(16)));
  float acc[512] __attribute__((aligned(16)));
  for (int it = i0; it < i1; it++) {
    const int t = it / a->n_head, h = it % a->n_head;
    const int kvh = h / group;
    const int last = a->pos0 + t;
    const int first = a->window > 0 && last >= a->window ? last - a->window + 1 : 0;
    rf_store_f16_rounded(qh, q + (t * a->n_head + h) * hd, hd);
    for (int d = 0; d < vd; d++) acc[d] = 0.f;
    float max = -__builtin_inff();
    float sum = 0.f;
    for (int p = first; p <= last; p++) {
      const float sc = dot_f16(kc + p * kcols + kvh * hd, qh, hd) * a->scale;
      float ms = 1.f, vs = 1.f;
      if (sc > max) {
        ms = rf_expf(max - sc);
        max = sc;
        if (ms != 1.f) {
          const v128_t m4 = wasm_f32x4_splat(ms);
          int j = 0;
          for (; j + 4 <= vd; j += 4) {
            wasm_v128_store(acc + j, round_f16_x4(wasm_f32x4_mul(wasm_v128_load(acc + j), m4)));
          }
          for (; j < vd; j++) acc[j] = round_f16(acc[j] * ms);
        }
      } else {
        vs = rf_expf(sc - max);
      }
      const float* vr = vc + p * vcols + kvh * vd;
      const v128_t v4 = wasm_f32x4_splat(vs);
      int j = 0;
      for (; j + 4 <= vd; j += 4) {
        const v128_t u = rf_fma(wasm_v128_load(vr + j), v4, wasm_v128_load(acc + j));
        wasm_v128_store(acc + j, round_f16_x4(u));
      }
      for (; j < vd; j++) acc[j] = round_f16(rf_fmaf(vr[j], vs, acc[j]));
      sum = sum * ms + vs;
    }
    if (sinks) {
      const float sk = sinks[h];
      float ms = 1.f, vs = 1.f;
      if (sk > max) {
        ms = rf_expf(max - sk);
        max = sk;
        const v128_t m4 = wasm_f32x4_splat(ms);
        int j = 0;
        for (; j + 4 <= vd; j += 4) wasm_v128_store(acc + j, wasm_f32x4_mul(wasm_v128_load(acc + j), m4));
        for (; j < vd; j++) acc[j] *= ms;
      } else {
        vs = rf_expf(sk - max);
      }
      sum = sum * ms + vs;
    }
    float* o = out + (t * a->n_head + h) * vd;
    const float inv = 1.f / sum;
    for (int d = 0; d < vd; d++) o[d] = acc[d] * inv;
  }
}
