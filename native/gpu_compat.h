// gpu_compat.h: one spelling of the GPU runtime API and device intrinsics for both targets.
//
// The sources are written against HIP. Built with hipcc (AMD) this header includes the HIP
// runtime; built with `nvcc -x cu -DRF_GPU_CUDA` it maps the few HIP names the project uses
// onto the CUDA runtime (HIP 5.2's own NVIDIA headers do not compile with recent CUDA).
//
// Device code uses RF_WARP, the compile-time warp (wavefront) width of the architecture being
// compiled: 64 on CDNA (gfx9), 32 on RDNA (gfx10/11 in wave32 mode) and NVIDIA. Host code must
// use the runtime value from the device properties (rf_device_warp_size in rf_internal.h).
#pragma once

// Host-only translation units (native/*.cpp, compiled as plain C++) see the runtime API alone;
// GPU translation units (kernels/*.hip) also get the device intrinsics below.
#if defined(__HIP__) || defined(__CUDACC__)
#define RF_GPU_SOURCE 1
#endif

// RF_HAS_MFMA / RF_HAS_WMMA / RF_HAS_SDOT4 / ...: per-target matrix-core and dot paths.
#include "gpu_arch.h"

#if defined(RF_GPU_CUDA)
#if defined(RF_GPU_SOURCE)
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#else
#include <cuda_runtime_api.h>
#endif

typedef cudaError_t hipError_t;
typedef cudaStream_t hipStream_t;
typedef cudaEvent_t hipEvent_t;
typedef cudaDeviceProp hipDeviceProp_t;

#define hipSuccess cudaSuccess
#define hipErrorOutOfMemory cudaErrorMemoryAllocation
#define hipErrorNoDevice cudaErrorNoDevice
#define hipErrorInvalidValue cudaErrorInvalidValue
#define hipMemcpyHostToDevice cudaMemcpyHostToDevice
#define hipMemcpyDeviceToHost cudaMemcpyDeviceToHost
#define hipMemcpyDeviceToDevice cudaMemcpyDeviceToDevice
#define hipStreamNonBlocking cudaStreamNonBlocking

#define hipGetErrorName cudaGetErrorName
#define hipGetErrorString cudaGetErrorString
#define hipGetLastError cudaGetLastError
#define hipGetDeviceCount cudaGetDeviceCount
#define hipGetDeviceProperties cudaGetDeviceProperties
#define hipSetDevice cudaSetDevice
#define hipMemGetInfo cudaMemGetInfo
#define hipMalloc cudaMalloc
#define hipFree cudaFree
#define hipMemcpyAsync cudaMemcpyAsync
#define hipMemcpy2DAsync cudaMemcpy2DAsync
#define hipMemsetAsync cudaMemsetAsync
#define hipStreamCreateWithFlags cudaStreamCreateWithFlags
#define hipStreamDestroy cudaStreamDestroy
#define hipStreamSynchronize cudaStreamSynchronize
#define hipEventCreate cudaEventCreate
#define hipEventDestroy cudaEventDestroy
#define hipEventRecord cudaEventRecord
#define hipEventSynchronize cudaEventSynchronize
#define hipEventElapsedTime cudaEventElapsedTime
#define hipHostRegister cudaHostRegister
#define hipHostFree cudaFreeHost
#define hipHostMallocDefault cudaHostAllocDefault
inline cudaError_t hipHostMalloc(void** ptr, size_t bytes, unsigned int flags) {
  return cudaHostAlloc(ptr, bytes, flags);
}
#define hipHostUnregister cudaHostUnregister
#define hipDriverGetVersion cudaDriverGetVersion
#define hipRuntimeGetVersion cudaRuntimeGetVersion
#define hipOccupancyMaxActiveBlocksPerMultiprocessor cudaOccupancyMaxActiveBlocksPerMultiprocessor

// Graphs (stream capture and replay); rf_graph_instantiate / rf_graph_update hide the signature
// differences between CUDA 12+ and HIP.
typedef cudaGraph_t hipGraph_t;
typedef cudaGraphExec_t hipGraphExec_t;
#define hipStreamBeginCapture cudaStreamBeginCapture
#define hipStreamEndCapture cudaStreamEndCapture
#define hipStreamCaptureModeRelaxed cudaStreamCaptureModeRelaxed
#define hipGraphLaunch cudaGraphLaunch
#define hipGraphDestroy cudaGraphDestroy
#define hipGraphExecDestroy cudaGraphExecDestroy
inline hipError_t rf_graph_instantiate(hipGraphExec_t* exec, hipGraph_t graph) {
#if CUDART_VERSION >= 12000
  return cudaGraphInstantiate(exec, graph, 0);
#else
  return cudaGraphInstantiate(exec, graph, nullptr, nullptr, 0);
#endif
}
// Updates `exec` in place to the parameters of `graph`; false when the topology differs.
inline bool rf_graph_update(hipGraphExec_t exec, hipGraph_t graph) {
#if CUDART_VERSION >= 12000
  cudaGraphExecUpdateResultInfo info;
  return cudaGraphExecUpdate(exec, graph, &info) == cudaSuccess;
#else
  cudaGraphNode_t node;
  cudaGraphExecUpdateResult result;
  return cudaGraphExecUpdate(exec, graph, &node, &result) == cudaSuccess;
#endif
}

#define RF_WARP 32
#define RF_TARGET_NAME "cuda"

#if defined(RF_GPU_SOURCE)
__device__ __forceinline__ float rf_shfl_xor(float v, int mask, int width) {
  return __shfl_xor_sync(0xffffffffu, v, mask, width);
}
__device__ __forceinline__ int rf_dp4a(int a, int b, int c) { return __dp4a(a, b, c); }
#endif

#else  // AMD via HIP
#if !defined(__HIP_PLATFORM_AMD__)
#define __HIP_PLATFORM_AMD__
#endif
#if defined(RF_GPU_SOURCE)
#include <hip/hip_fp16.h>
#include <hip/hip_runtime.h>
#else
#include <hip/hip_runtime_api.h>
#endif

#if defined(__HIP_DEVICE_COMPILE__)
#if defined(__AMDGCN_WAVEFRONT_SIZE)
#define RF_WARP __AMDGCN_WAVEFRONT_SIZE
#else
#define RF_WARP 64
#endif
#else
// Host pass: device-code constants are never used here; a value keeps templates well formed.
#define RF_WARP 64
#endif
#define RF_TARGET_NAME "amd"

inline hipError_t rf_graph_instantiate(hipGraphExec_t* exec, hipGraph_t graph) {
  return hipGraphInstantiate(exec, graph, nullptr, nullptr, 0);
}
// Updates `exec` in place to the parameters of `graph`; false when the topology differs.
inline bool rf_graph_update(hipGraphExec_t exec, hipGraph_t graph) {
  hipGraphNode_t node;
  hipGraphExecUpdateResult result;
  return hipGraphExecUpdate(exec, graph, &node, &result) == hipSuccess;
}

#if defined(RF_GPU_SOURCE)
__device__ __forceinline__ float rf_shfl_xor(float v, int mask, int width) {
  return __shfl_xor(v, mask, width);
}
__device__ __forceinline__ int rf_dp4a(int a, int b, int c) {
#if RF_HAS_SDOT4
  return __builtin_amdgcn_sdot4(a, b, c, false);
#elif RF_HAS_SUDOT4
  return __builtin_amdgcn_sudot4(true, a, true, b, c, false);
#else
  const signed char* x = reinterpret_cast<const signed char*>(&a);
  const signed char* y = reinterpret_cast<const signed char*>(&b);
  return c + x[0] * y[0] + x[1] * y[1] + x[2] * y[2] + x[3] * y[3];
#endif
}
#endif
#endif

#if defined(RF_GPU_SOURCE)
// Sums `v` over groups of `width` lanes (width a power of two <= RF_WARP).
template <int WIDTH>
__device__ __forceinline__ float rf_group_sum(float v) {
#pragma unroll
  for (int m = WIDTH / 2; m > 0; m >>= 1) v += rf_shfl_xor(v, m, WIDTH);
  return v;
}

template <int WIDTH>
__device__ __forceinline__ float rf_group_max(float v) {
#pragma unroll
  for (int m = WIDTH / 2; m > 0; m >>= 1) v = fmaxf(v, rf_shfl_xor(v, m, WIDTH));
  return v;
}

__device__ __forceinline__ float rf_warp_sum(float v) { return rf_group_sum<RF_WARP>(v); }

// Orders shared-memory accesses among the lanes of one warp (wavefront).
__device__ __forceinline__ void rf_warp_sync() {
#if defined(RF_GPU_CUDA)
  __syncwarp();
#else
  __builtin_amdgcn_fence(__ATOMIC_RELEASE, "wavefront");
  __builtin_amdgcn_wave_barrier();
  __builtin_amdgcn_fence(__ATOMIC_ACQUIRE, "wavefront");
#endif
}
__device__ __forceinline__ float rf_warp_max(float v) { return rf_group_max<RF_WARP>(v); }
#endif
