// rf_libm.h: bit-exact ports of the float math llama.cpp's CPU code calls, for kernels that
// must reproduce it (same algorithms as src/backends/cpu/ops/libm.ts and f32.ts):
// - rf_fma64: a double fused multiply-add with one rounding (WebAssembly has no scalar
//   FMA), after Boldo and Melquiond: error-free product and sum, low parts added with
//   rounding to odd;
// - rf_expf: glibc's expf (sysdeps/ieee754/flt-32/e_expf.c, the __expf_fma variant that
//   x86-64 CPUs with FMA run).
#pragma once
#include "rf_wasm.h"

RF_INLINE uint64_t rf_bits64(double d) {
  uint64_t u;
  __builtin_memcpy(&u, &d, 8);
  return u;
}

RF_INLINE double rf_as_double(uint64_t u) {
  double d;
  __builtin_memcpy(&d, &u, 8);
  return d;
}

// x + y rounded to odd: the last significand bit set when the sum is inexact.
RF_INLINE double rf_add_round_odd(double x, double y) {
  const double s = x + y;
  const double bb = s - x;
  const double err = (x - (s - bb)) + (y - bb);
  if (err == 0.0 || s == 0.0) return s;
  uint64_t u = rf_bits64(s);
  if (u & 1) return s;
  // one ulp towards the exact sum: away from zero when err has the sign of s
  const int away = (err > 0.0) == (s > 0.0);
  u = away ? u + 1 : u - 1;
  return rf_as_double(u);
}

// fma(a, b, c) in double with a single rounding (no overflow assumed).
RF_INLINE double rf_fma64(double a, double b, double c) {
  const double p = a * b;
  const double ca = 134217729.0 * a;
  const double ah = ca - (ca - a);
  const double al = a - ah;
  const double cb = 134217729.0 * b;
  const double bh = cb - (cb - b);
  const double bl = b - bh;
  const double ul = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
  const double th = c + ul;
  double bb = th - c;
  const double tl = (c - (th - bb)) + (ul - bb);
  const double vh = p + th;
  bb = vh - p;
  const double vl = (p - (vh - bb)) + (th - bb);
  return vh + rf_add_round_odd(tl, vl);
}

// glibc's __exp2f_data.tab: 2^(i/32) as bits, minus i << 47.
static const uint64_t rf_exp2f_tab[32] = {
    0x3ff0000000000000ull, 0x3fefd9b0d3158574ull, 0x3fefb5586cf9890full, 0x3fef9301d0125b51ull,
    0x3fef72b83c7d517bull, 0x3fef54873168b9aaull, 0x3fef387a6e756238ull, 0x3fef1e9df51fdee1ull,
    0x3fef06fe0a31b715ull, 0x3feef1a7373aa9cbull, 0x3feedea64c123422ull, 0x3feece086061892dull,
    0x3feebfdad5362a27ull, 0x3feeb42b569d4f82ull, 0x3feeab07dd485429ull, 0x3feea47eb03a5585ull,
    0x3feea09e667f3bcdull, 0x3fee9f75e8ec5f74ull, 0x3feea11473eb0187ull, 0x3feea589994cce13ull,
    0x3feeace5422aa0dbull, 0x3feeb737b0cdc5e5ull, 0x3feec49182a3f090ull, 0x3feed503b23e255dull,
    0x3feee89f995ad3adull, 0x3feeff76f2fb5e47ull, 0x3fef199bdd85529cull, 0x3fef3720dcef9069ull,
    0x3fef5818dcfba487ull, 0x3fef7c97337b9b5full, 0x3fefa4afa2a490daull, 0x3fefd0765b6e4540ull,
};

// glibc expf: e^x as the FMA build of glibc rounds it.
RF_INLINE float rf_expf(float x) {
  if (x != x) return x;
  if (x > 0x1.62e42ep6f) return __builtin_inff();
  if (x < -0x1.9fe368p6f) return 0.f;
  const double invln2n = 0x1.71547652b82fep+0 * 32;
  const double c0 = 0x1.c6af84b912394p-5 / (32.0 * 32.0 * 32.0);
  const double c1 = 0x1.ebfce50fac4f3p-3 / (32.0 * 32.0);
  const double c2 = 0x1.62e42ff0c52d6p-1 / 32.0;
  const double shift = 0x1.8p+52;
  const double z = invln2n * (double)x;
  double kd = z + shift;
  const uint64_t ki = rf_bits64(kd);
  kd -= shift;
  const double r = z - kd;
  const double s = rf_as_double(rf_exp2f_tab[ki % 32] + (ki << 47));
  const double zz = rf_fma64(c0, r, c1);
  const double r2 = r * r;
  double y = rf_fma64(c2, r, 1.0);
  y = rf_fma64(zz, r2, y);
  return (float)(y * s);
}
