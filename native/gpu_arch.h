// gpu_arch.h: compile-time facts about the GPU architecture being compiled, so a kernel picks
// its matrix-core or dot-product path per target while staying warp-size generic (RF_WARP in
// gpu_compat.h). Each macro is 0 or 1 (RF_HAS_WMMA: 0, 11 or 12), and 0 in host passes.
//
//   RF_HAS_MFMA     CDNA2/CDNA3 matrix cores (gfx90a, gfx942; wave64):
//                   __builtin_amdgcn_mfma_* (e.g. mfma_f32_16x16x16f16, mfma_i32_16x16x16i8)
//   RF_HAS_WMMA     RDNA3 (11: gfx1100-1103, __builtin_amdgcn_wmma_*_w32) and RDNA4 (12: gfx1200,
//                   gfx1201, __builtin_amdgcn_wmma_*_w32_gfx12, 8-element f16 operands); wave32
//   RF_HAS_SDOT4    signed int8 4-way dot: __builtin_amdgcn_sdot4 (gfx90a, gfx942, gfx1030)
//   RF_HAS_SUDOT4   mixed-sign int8 4-way dot: __builtin_amdgcn_sudot4 (gfx11, gfx12)
//   RF_HAS_MMA_S8   NVIDIA integer tensor cores: mma.sync m16n8k16 s8 (sm_80 and newer)
//
// Checked with clang-19 for every default AMD target (each builtin compiles exactly where its
// macro is 1); the build (scripts/build_native.ts) compiles every kernel for every target.
#pragma once

#define RF_HAS_MFMA 0
#define RF_HAS_WMMA 0
#define RF_HAS_SDOT4 0
#define RF_HAS_SUDOT4 0
#define RF_HAS_MMA_S8 0

#if defined(__HIP_DEVICE_COMPILE__) && !defined(RF_GPU_CUDA)
#if defined(__gfx90a__) || defined(__gfx942__)
#undef RF_HAS_MFMA
#define RF_HAS_MFMA 1
#endif
#if defined(__GFX11__)
#undef RF_HAS_WMMA
#define RF_HAS_WMMA 11
#undef RF_HAS_SUDOT4
#define RF_HAS_SUDOT4 1
#elif defined(__GFX12__)
#undef RF_HAS_WMMA
#define RF_HAS_WMMA 12
#undef RF_HAS_SUDOT4
#define RF_HAS_SUDOT4 1
#endif
#if defined(__gfx906__) || defined(__gfx908__) || defined(__gfx90a__) || defined(__gfx942__) || \
    defined(__gfx1030__)
#undef RF_HAS_SDOT4
#define RF_HAS_SDOT4 1
#endif
#endif

#if defined(RF_GPU_CUDA) && defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
#undef RF_HAS_MMA_S8
#define RF_HAS_MMA_S8 1
#endif
