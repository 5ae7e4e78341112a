// rf_staging.cpp: weight upload staging. The caller owns a host buffer (read from the model
// file in parts), pinned here while registered and cut into `slots` equal parts; each part's
// copy into an arena is queued on the context's stream and ends in that slot's event, so the
// caller reads the next part into another slot while the copy engine moves this one
// (double/triple buffering). The caller waits for a slot's event before refilling it.
#include <string>
#include <vector>

#include "rf_internal.h"

using namespace rf;

namespace {
struct Staging {
  int ctx = 0;
  char* host = nullptr;
  int64_t slotBytes = 0;
  bool pinned = false;
  std::vector<hipEvent_t> events;
  std::vector<bool> busy;  // an event was recorded since the slot's last wait
};

std::map<int, Staging>& stagings() {
  static std::map<int, Staging> m;  // guarded by registry().lock
  return m;
}

// Waits for every queued copy and releases the events and the pinning (the lock is held).
rf_status release(Staging& s, Context* c) {
  if (c) {
    RF_CHECK(hipSetDevice(c->device), 0);
    RF_CHECK(hipStreamSynchronize(c->stream), 0);
  }
  for (hipEvent_t e : s.events) RF_CHECK(hipEventDestroy(e), 0);
  s.events.clear();
  if (s.pinned) RF_CHECK(hipHostUnregister(s.host), 0);
  s.pinned = false;
  return RF_OK;
}
}  // namespace

extern "C" rf_status rf_staging_create(int32_t ctx, void* host, int64_t bytes, int32_t slots,
                                       int32_t* out) {
  clear_error();
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.lock);
  auto c = r.contexts.find(ctx);
  if (c == r.contexts.end()) return fail(RF_ERR_HANDLE, "rf_staging_create", "unknown context");
  if (!host || slots <= 0 || bytes <= 0 || bytes % slots != 0) {
    return fail(RF_ERR_INVALID, "rf_staging_create",
                "need a buffer whose positive size is a multiple of a positive slot count", 0,
                bytes);
  }
  RF_CHECK(hipSetDevice(c->second.device), 0);
  Staging s;
  s.ctx = ctx;
  s.host = static_cast<char*>(host);
  s.slotBytes = bytes / slots;
  // Pinned memory lets the copy engine read the slot directly (DMA) while the host reads on.
  // Where pinning is refused the copies still run, staged by the runtime, only slower.
  s.pinned = hipHostRegister(host, (size_t)bytes, 0) == hipSuccess;
  if (!s.pinned) (void)hipGetLastError();
  for (int32_t i = 0; i < slots; i++) {
    hipEvent_t e = nullptr;
    const hipError_t err = hipEventCreate(&e);
    if (err != hipSuccess) {
      (void)hipGetLastError();
      (void)release(s, nullptr);
      return fail_gpu(err, "hipEventCreate", 0);
    }
    s.events.push_back(e);
  }
  s.busy.assign((size_t)slots, false);
  const int id = r.next++;
  stagings()[id] = s;
  out[0] = id;
  out[1] = s.pinned ? 1 : 0;
  return RF_OK;
}

extern "C" rf_status rf_staging_upload(int32_t staging, int32_t slot, int32_t arena,
                                       int64_t offset, int64_t bytes) {
  clear_error();
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.lock);
  auto it = stagings().find(staging);
  if (it == stagings().end()) return fail(RF_ERR_HANDLE, "rf_staging_upload", "unknown staging");
  Staging& s = it->second;
  auto a = r.arenas.find(arena);
  if (a == r.arenas.end()) return fail(RF_ERR_HANDLE, "rf_staging_upload", "unknown arena");
  if (slot < 0 || slot >= (int32_t)s.events.size() || bytes <= 0 || bytes > s.slotBytes) {
    return fail(RF_ERR_INVALID, "rf_staging_upload",
                "slot " + std::to_string(slot) + " of " + std::to_string(s.events.size()) +
                    " with " + std::to_string(bytes) + " bytes of " +
                    std::to_string(s.slotBytes),
                0, bytes);
  }
  if (s.busy[(size_t)slot]) {
    return fail(RF_ERR_INVALID, "rf_staging_upload",
                "slot " + std::to_string(slot) + " is refilled before its copy was waited for");
  }
  const rf_status st = check_arena_range(a->second, offset, bytes, "rf_staging_upload");
  if (st != RF_OK) return st;
  if (a->second.ctx != s.ctx) {
    return fail(RF_ERR_INVALID, "rf_staging_upload", "arena and staging are on other contexts");
  }
  const Context& c = r.contexts.at(s.ctx);
  RF_CHECK(hipSetDevice(c.device), 0);
  RF_CHECK(hipMemcpyAsync(static_cast<char*>(a->second.base) + offset,
                          s.host + (int64_t)slot * s.slotBytes, (size_t)bytes,
                          hipMemcpyHostToDevice, c.stream),
           bytes);
  RF_CHECK(hipEventRecord(s.events[(size_t)slot], c.stream), 0);
  s.busy[(size_t)slot] = true;
  return RF_OK;
}

extern "C" rf_status rf_staging_wait(int32_t staging, int32_t slot) {
  clear_error();
  Registry& r = registry();
  hipEvent_t e = nullptr;
  {
    std::lock_guard<std::mutex> g(r.lock);
    auto it = stagings().find(staging);
    if (it == stagings().end()) return fail(RF_ERR_HANDLE, "rf_staging_wait", "unknown staging");
    Staging& s = it->second;
    if (slot < 0 || slot >= (int32_t)s.events.size()) {
      return fail(RF_ERR_INVALID, "rf_staging_wait", "slot " + std::to_string(slot));
    }
    if (!s.busy[(size_t)slot]) return RF_OK;
    s.busy[(size_t)slot] = false;
    e = s.events[(size_t)slot];
  }
  // Outside the lock: other calls go on while this slot's copy finishes. The event stays
  // valid: only rf_staging_destroy frees it, and the caller does not destroy while waiting.
  RF_CHECK(hipEventSynchronize(e), 0);
  return RF_OK;
}

extern "C" rf_status rf_staging_destroy(int32_t staging) {
  clear_error();
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.lock);
  auto it = stagings().find(staging);
  if (it == stagings().end()) return fail(RF_ERR_HANDLE, "rf_staging_destroy", "unknown staging");
  Staging s = it->second;
  stagings().erase(it);
  auto c = r.contexts.find(s.ctx);
  return release(s, c == r.contexts.end() ? nullptr : &c->second);
}
