// rf_cpu_api.c: the exported C ABI of librocmforge_cpu (see rf_cpu.h and
// src/backends/cpu/native/symbols.ts): CPU detection, contexts (a thread pool, the chosen
// kernel build and a scratch buffer for quantized activations), weight layout and the
// matrix product.
#include <cpuid.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rf_cpu.h"

#define RF_API __attribute__((visibility("default")))
#define MAX_CONTEXTS 64

enum { T_Q4_0 = 2, T_Q8_0 = 8, T_Q4_K = 12, T_Q5_K = 13, T_Q6_K = 14 };

typedef struct {
  int live;
  rf_cpu_pool* pool;
  const rf_cpu_kernels* kernels;
  uint8_t* scratch;
  size_t scratch_bytes;
} context;

static context contexts[MAX_CONTEXTS];

static unsigned long long xgetbv0(void) {
  unsigned int lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return ((unsigned long long)hi << 32) | lo;
}

static int features(void) {
  unsigned int a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
  const int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
  const int f16c = (c >> 29) & 1;
  if (!(osxsave && avx && fma && f16c)) return 0;
  const unsigned long long xcr0 = xgetbv0();
  if ((xcr0 & 0x6) != 0x6) return 0;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
  int f = 0;
  if ((b >> 5) & 1) f |= RF_CPU_HAS_AVX2;
  const int avx512 = ((b >> 16) & 1) && ((b >> 30) & 1) && ((b >> 31) & 1);
  const int vnni = (c >> 11) & 1;
  if ((f & RF_CPU_HAS_AVX2) && avx512 && vnni && (xcr0 & 0xe0) == 0xe0) {
    f |= RF_CPU_HAS_AVX512VNNI;
  }
  return f;
}

int rf_cpu_act_bytes(int type, int k) {
  switch (type) {
    case T_Q4_0:
    case T_Q8_0: return k % 32 ? 0 : (k / 32) * (int)sizeof(rf_cpu_act32);
    case T_Q4_K:
    case T_Q5_K:
    case T_Q6_K: return k % 256 ? 0 : (k / 256) * (int)sizeof(rf_cpu_act256);
    default: return 0;
  }
}

static int block_bytes(int type) {
  return type == T_Q4_0 ? 18 : type == T_Q8_0 ? 34 : type == T_Q4_K ? 144 : type == T_Q5_K ? 176 : 210;
}

// out[0] = RF_CPU_ABI_VERSION, out[1] = feature bits, out[2] = online processors.
RF_API int rf_cpu_version(int32_t* out) {
  out[0] = RF_CPU_ABI_VERSION;
  out[1] = features();
  out[2] = (int32_t)sysconf(_SC_NPROCESSORS_ONLN);
  return RF_CPU_OK;
}

// A context of `threads` threads (the caller's included) polling `spin` times before they
// sleep, on kernel build `variant` (RF_CPU_AUTO: the best this CPU runs). out[0] = handle,
// out[1] = the build chosen (RF_CPU_AVX2 or RF_CPU_VNNI), out[2] = threads started.
RF_API int rf_cpu_create(int threads, int spin, int variant, int32_t* out) {
  const int f = features();
  if (threads < 1 || threads > 256 || spin < 0 || variant < 0 || variant > 2) {
    return RF_CPU_INVALID;
  }
  if (!(f & RF_CPU_HAS_AVX2)) return RF_CPU_UNSUPPORTED;
  if (variant == RF_CPU_AUTO) variant = (f & RF_CPU_HAS_AVX512VNNI) ? RF_CPU_VNNI : RF_CPU_AVX2;
  if (variant == RF_CPU_VNNI && !(f & RF_CPU_HAS_AVX512VNNI)) return RF_CPU_UNSUPPORTED;
  int h = 0;
  while (h < MAX_CONTEXTS && contexts[h].live) h++;
  if (h == MAX_CONTEXTS) return RF_CPU_OOM;
  rf_cpu_pool* pool = rf_cpu_pool_create(threads, spin);
  if (!pool) return RF_CPU_OOM;
  contexts[h] = (context){1, pool, variant == RF_CPU_VNNI ? &rf_cpu_kernels_vnni : &rf_cpu_kernels_avx2,
                          NULL, 0};
  out[0] = h;
  out[1] = variant;
  out[2] = rf_cpu_pool_threads(pool);
  return RF_CPU_OK;
}

static context* get(int h) {
  return h >= 0 && h < MAX_CONTEXTS && contexts[h].live ? &contexts[h] : NULL;
}

RF_API int rf_cpu_destroy(int h) {
  context* c = get(h);
  if (!c) return RF_CPU_HANDLE;
  rf_cpu_pool_destroy(c->pool);
  free(c->scratch);
  memset(c, 0, sizeof(*c));
  return RF_CPU_OK;
}

// Bytes of a Q4_K super-block of 8 interleaved rows (kern_kquant.c, q4k_rows_tile).
#define Q4K_GROUP_BYTES 1184

// How weights of `type` with `rows` x `cols` are held: out[0] = 1 when a kernel takes them,
// out[1] = 1 when rf_cpu_repack must rewrite them first, out[2] = their bytes in that layout.
RF_API int rf_cpu_layout(int type, int rows, int cols, int32_t* out) {
  out[0] = rows > 0 && rf_cpu_act_bytes(type, cols) > 0;
  out[1] = out[0] && (type == T_Q4_0 || type == T_Q8_0 || type == T_Q4_K) && rows % 8 == 0;
  const int64_t bytes = type == T_Q4_K && out[1]
                            ? (int64_t)(rows / 8) * (cols / 256) * Q4K_GROUP_BYTES
                            : (int64_t)rows * (cols / (type >= T_Q4_K ? 256 : 32)) *
                                  block_bytes(type);
  if (bytes > INT32_MAX) out[0] = out[1] = 0;  // a buffer past 2 GiB stays on the other kernels
  out[2] = out[0] ? (int32_t)bytes : 0;
  return RF_CPU_OK;
}

// Q4_0 code of element e of the block at b.
static inline uint8_t q4_code(const uint8_t* b, int e) {
  return e < 16 ? b[2 + e] & 15 : b[2 + e - 16] >> 4;
}

// Q4_0 group block (144 bytes): the 8 rows' d, then 4 vectors of 32 bytes, byte 4r + e of
// vector p = GGUF qs byte 4p + e of row r (elements 4p + e and 16 + 4p + e).
static void q4_0_group(uint8_t* o, const uint8_t* const* blk, int unpack) {
  for (int r = 0; r < 8; r++) {
    uint8_t* b = (uint8_t*)blk[r];
    for (int p = 0; p < 4; p++) {
      for (int e = 0; e < 4; e++) {
        if (unpack) b[2 + 4 * p + e] = o[16 + 32 * p + 4 * r + e];
        else o[16 + 32 * p + 4 * r + e] = (uint8_t)(q4_code(b, 4 * p + e) | (q4_code(b, 16 + 4 * p + e) << 4));
      }
    }
    if (unpack) memcpy(b, o + 2 * r, 2);
    else memcpy(o + 2 * r, b, 2);
  }
}

// Q8_0 group block (272 bytes): the 8 rows' d, then row r's 32 codes at 16 + 32 r.
static void q8_0_group(uint8_t* o, const uint8_t* const* blk, int unpack) {
  for (int r = 0; r < 8; r++) {
    uint8_t* b = (uint8_t*)blk[r];
    if (unpack) {
      memcpy(b, o + 2 * r, 2);
      memcpy(b + 2, o + 16 + 32 * r, 32);
    } else {
      memcpy(o + 2 * r, b, 2);
      memcpy(o + 16 + 32 * r, b + 2, 32);
    }
  }
}

// Q4_K group super-block (Q4K_GROUP_BYTES): d[8], dmin[8] (halves), the 6-bit scales sc[j][r]
// and minimums mn[j][r] as bytes (sub-block j, row r), then for each pair g of sub-blocks and
// each 4 elements e, 32 bytes: byte 4r + i = GGUF qs byte 32g + 4e + i of row r (low nibble
// sub-block 2g, high 2g + 1). Unpacking rebuilds the GGUF scale bytes from sc and mn.
static void q4_k_group(uint8_t* o, const uint8_t* const* blk, int unpack) {
  for (int r = 0; r < 8; r++) {
    uint8_t* b = (uint8_t*)blk[r];
    if (unpack) {
      memcpy(b, o + 2 * r, 2);
      memcpy(b + 2, o + 16 + 2 * r, 2);
      uint8_t* q = b + 4;
      for (int j = 0; j < 4; j++) {
        const int scj = o[32 + 8 * j + r], mnj = o[96 + 8 * j + r];
        const int sc4 = o[32 + 8 * (j + 4) + r], mn4 = o[96 + 8 * (j + 4) + r];
        q[j] = (uint8_t)(scj | ((sc4 >> 4) << 6));
        q[j + 4] = (uint8_t)(mnj | ((mn4 >> 4) << 6));
        q[j + 8] = (uint8_t)((sc4 & 15) | ((mn4 & 15) << 4));
      }
    } else {
      memcpy(o + 2 * r, b, 2);
      memcpy(o + 16 + 2 * r, b + 2, 2);
      const uint8_t* q = b + 4;
      for (int j = 0; j < 8; j++) {
        int sc, mn;
        if (j < 4) {
          sc = q[j] & 63;
          mn = q[j + 4] & 63;
        } else {
          sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
          mn = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
        }
        o[32 + 8 * j + r] = (uint8_t)sc;
        o[96 + 8 * j + r] = (uint8_t)mn;
      }
    }
    for (int g = 0; g < 4; g++) {
      for (int e = 0; e < 8; e++) {
        for (int i = 0; i < 4; i++) {
          uint8_t* v = o + 160 + 256 * g + 32 * e + 4 * r + i;
          if (unpack) b[16 + 32 * g + 4 * e + i] = *v;
          else *v = b[16 + 32 * g + 4 * e + i];
        }
      }
    }
  }
}

// Rewrites GGUF weights into the layout rf_cpu_layout names (unpack = 0), or back (1).
static int repack(int type, int rows, int cols, const uint8_t* src, uint8_t* dst, int unpack) {
  int32_t l[3];
  rf_cpu_layout(type, rows, cols, l);
  if (!l[1]) return RF_CPU_INVALID;
  const int qk = type == T_Q4_K ? 256 : 32;
  const int nb = cols / qk;
  const int bb = block_bytes(type);
  const int gb = type == T_Q4_K ? Q4K_GROUP_BYTES : 8 * bb;
  const int64_t rb = (int64_t)nb * bb;
  const uint8_t* gguf = unpack ? dst : src;
  uint8_t* packed = unpack ? (uint8_t*)src : dst;
  for (int g = 0; g < rows / 8; g++) {
    for (int b = 0; b < nb; b++) {
      const uint8_t* blk[8];
      for (int r = 0; r < 8; r++) blk[r] = gguf + (int64_t)(8 * g + r) * rb + (int64_t)b * bb;
      uint8_t* o = packed + ((int64_t)g * nb + b) * gb;
      if (type == T_Q4_K) q4_k_group(o, blk, unpack);
      else if (type == T_Q8_0) q8_0_group(o, blk, unpack);
      else q4_0_group(o, blk, unpack);
    }
  }
  return RF_CPU_OK;
}

// GGUF weights (rows x cols of `type`) -> the kernels' layout, when rf_cpu_layout asks for it.
RF_API int rf_cpu_repack(int type, int rows, int cols, const uint8_t* src, uint8_t* dst) {
  return repack(type, rows, cols, src, dst, 0);
}

// The inverse of rf_cpu_repack: repacked weights back to GGUF bytes.
RF_API int rf_cpu_unpack(int type, int rows, int cols, const uint8_t* src, uint8_t* dst) {
  return repack(type, rows, cols, src, dst, 1);
}

typedef struct {
  const rf_cpu_kernels* k;
  rf_cpu_mm mm;
} job_ctx;

typedef struct {
  const rf_cpu_kernels* k;
  int type;
  const float* x;
  uint8_t* y;
  int cols;
  int64_t stride;
} quant_ctx;

static void quant_rows(void* ctx, int i0, int i1) {
  const quant_ctx* q = ctx;
  q->k->quant(q->type, q->x + (int64_t)i0 * q->cols, q->y + (int64_t)i0 * q->stride, q->cols,
              i1 - i0);
}

static void run_rows(void* ctx, int i0, int i1) {
  const job_ctx* j = ctx;
  j->k->mm(&j->mm, i0, i1);
}

// y[t * rows + n] = dot(W row n, x row t) (+ bias[n]) for t < T, n < rows: x holds T rows of
// cols floats, quantized here as llama.cpp quantizes activations for the weight type. `w` is
// in the layout rf_cpu_layout names (repacked when it says so). bias may be NULL.
RF_API int rf_cpu_matmul(int h, int type, int repacked, const uint8_t* w, int rows, int cols,
                         const float* x, int T, float* y, const float* bias) {
  context* c = get(h);
  if (!c) return RF_CPU_HANDLE;
  int32_t l[3];
  rf_cpu_layout(type, rows, cols, l);
  if (!l[0] || l[1] != (repacked != 0) || T < 1 || !w || !x || !y) return RF_CPU_INVALID;
  const int64_t stride = rf_cpu_act_bytes(type, cols);
  const size_t need = (size_t)stride * (size_t)T + 64;
  if (c->scratch_bytes < need) {
    free(c->scratch);
    c->scratch_bytes = 0;
    c->scratch = aligned_alloc(64, (need + 63) / 64 * 64);
    if (!c->scratch) return RF_CPU_OOM;
    c->scratch_bytes = need;
  }
  quant_ctx qc = {c->kernels, type, x, c->scratch, cols, stride};
  const int threads0 = rf_cpu_pool_threads(c->pool);
  // activation rows over the threads, as llama.cpp quantizes them
  rf_cpu_pool_run(c->pool, quant_rows, &qc, T, (T + threads0 - 1) / threads0);
  const int64_t row_bytes =
      (int64_t)(cols / (type >= T_Q4_K ? 256 : 32)) * block_bytes(type);
  job_ctx j = {c->kernels,
               {type, cols, rows, T, repacked != 0, w, row_bytes, c->scratch, stride, y, rows, bias}};
  const int threads = rf_cpu_pool_threads(c->pool);
  // chunks of a multiple of 8 rows (repacked groups stay whole), about 8 per thread, which
  // balances the load when another process takes a core
  int chunk = (rows + threads * 8 - 1) / (threads * 8);
  // (16 where the rows allow: the VNNI build takes two groups of 8 at once)
  const int unit = rows % 16 == 0 ? 16 : 8;
  chunk = (chunk + unit - 1) / unit * unit;
  rf_cpu_pool_run(c->pool, run_rows, &j, rows, chunk);
  return RF_CPU_OK;
}
