// rf_internal.h: shared state and error plumbing of the native library (not part of the ABI).
#pragma once
#include <stddef.h>
#include <stdint.h>

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "gpu_compat.h"
#include "rf_api.h"

namespace rf {

// Records an error for rf_last_error and returns its status.
rf_status fail(rf_status status, const std::string& call, const std::string& message,
               int gpuCode = 0, int64_t bytes = 0);
// Records a failed GPU runtime call (maps out-of-memory to RF_ERR_OOM).
rf_status fail_gpu(hipError_t err, const std::string& call, int64_t bytes = 0);
// Clears the error of this thread.
void clear_error();

// Checks a GPU runtime call; on failure records it and returns from the enclosing function.
#define RF_CHECK(expr, bytes)                                    \
  do {                                                           \
    hipError_t rf_err_ = (expr);                                 \
    if (rf_err_ != hipSuccess) {                                 \
      (void)hipGetLastError();                                   \
      return ::rf::fail_gpu(rf_err_, #expr, (int64_t)(bytes));   \
    }                                                            \
  } while (0)

// A growable device buffer.
struct DeviceBuffer {
  void* ptr = nullptr;
  int64_t bytes = 0;
};

// One instantiated graph and the attention spans (attention_span) it was captured for.
struct ReplayGraph {
  hipGraphExec_t exec = nullptr;
  std::vector<int32_t> spans;
};

struct Context {
  int device = 0;
  hipStream_t stream = nullptr;
  int warpSize = 32;
  int smCount = 1;
  DeviceBuffer scratch;    // values of a program (planned by the caller)
  DeviceBuffer workspace;  // kernel temporaries (q8 activations, attention partials)
  DeviceBuffer staging;    // downloads of a graph-replayed program, copied to the host at once
  DeviceBuffer params;     // pos0 of a graph-replayed program (device memory its kernels read)
  // Pinned host memory the downloads of a graph-replayed program arrive in (a pageable
  // destination costs the copy engine tens of microseconds per step), copied on to the caller.
  void* hostStaging = nullptr;
  int64_t hostStagingBytes = 0;
  // Instantiated graphs of small-batch (decode) programs, by program words and the addresses
  // they launch on (rf_replay.cpp graph_key); replayed as they are while their attention spans
  // hold, else captured again and updated in place.
  std::map<std::vector<int64_t>, ReplayGraph> graphs;
  bool graphsOff = false;  // capture failed once on this context: plain launches
  // The sequence table of the running multi-sequence program (rf_seqs.cpp): built on the host,
  // copied to `seqs` before its launches.
  std::vector<uint8_t> seqHost;
  DeviceBuffer seqs;
};

struct Arena {
  int ctx = 0;
  void* base = nullptr;
  int64_t capacity = 0;
  std::map<int64_t, int64_t> freeBlocks;  // offset -> size
  std::map<int64_t, int64_t> used;        // offset -> size
};

// K and V rows in half precision (as llama.cpp's default F16 cache), per layer slot.
struct KVCache {
  int ctx = 0;
  uint16_t* base = nullptr;
  int nLayers = 0, capacity = 0, nHeadKV = 0, headDim = 0, valueDim = 0;
  int64_t layerElems() const { return (int64_t)capacity * nHeadKV * (headDim + valueDim); }
  uint16_t* keys(int layer) const { return base + layer * layerElems(); }
  uint16_t* values(int layer) const {
    return keys(layer) + (int64_t)capacity * nHeadKV * headDim;
  }
};

// Handle tables. All access goes through these with the registry lock held.
struct Registry {
  std::mutex lock;
  int next = 1;
  std::map<int, Context> contexts;
  std::map<int, Arena> arenas;
  std::map<int, KVCache> kvs;
};
Registry& registry();

// RF_OK when [offset, offset + bytes) lies inside one allocated block of `a`; else RF_ERR_INVALID
// naming `call`.
rf_status check_arena_range(const Arena& a, int64_t offset, int64_t bytes, const char* call);

// Grows `buf` to at least `bytes` (synchronizing `stream` before freeing the old memory).
rf_status ensure_buffer(DeviceBuffer& buf, int64_t bytes, hipStream_t stream, const char* what);

}  // namespace rf
