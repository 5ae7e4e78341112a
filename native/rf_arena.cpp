// rf_arena.cpp: weight arenas (one device allocation per model, carved best-fit with 256-byte
// alignment, free blocks coalesced) and float32 KV caches.
#include <string>

#include "rf_internal.h"

using namespace rf;

namespace {
constexpr int64_t ALIGN = 256;
int64_t align_up(int64_t v) { return (v + ALIGN - 1) & ~(ALIGN - 1); }

Context* find_context(Registry& r, int32_t ctx) {
  auto it = r.contexts.find(ctx);
  return it == r.contexts.end() ? nullptr : &it->second;
}
}  // namespace

rf_status rf::check_arena_range(const Arena& a, int64_t offset, int64_t bytes, const char* call) {
  auto it = a.used.upper_bound(offset);
  if (bytes < 0 || it == a.used.begin()) {
    return fail(RF_ERR_INVALID, call, "range is not inside an allocated block", 0, bytes);
  }
  --it;
  if (offset < it->first || offset + bytes > it->first + it->second) {
    return fail(RF_ERR_INVALID, call,
                "range [" + std::to_string(offset) + ", +" + std::to_string(bytes) +
                    ") exceeds its block",
                0, bytes);
  }
  return RF_OK;
}

extern "C" rf_status rf_arena_create(int32_t ctx, int64_t bytes, int32_t* arena) {
  clear_error();
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.lock);
  Context* c = find_context(r, ctx);
  if (!c) return fail(RF_ERR_HANDLE, "rf_arena_create", "unknown context");
  if (bytes <= 0) return fail(RF_ERR_INVALID, "rf_arena_create", "size must be positive", 0, bytes);
  const int64_t cap = align_up(bytes);
  RF_CHECK(hipSetDevice(c->device), 0);
  void* p = nullptr;
  RF_CHECK(hipMalloc(&p, (size_t)cap), cap);
  Arena a;
  a.ctx = ctx;
  a.base = p;
  a.capacity = cap;
  a.freeBlocks[0] = cap;
  const int id = r.next++;
  r.arenas[id] = a;
  *arena = id;
  return RF_OK;
}

extern "C" rf_status rf_arena_alloc(int32_t arena, int64_t bytes, int64_t* offset) {
  clear_error();
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.lock);
  auto it = r.arenas.find(arena);
  if (it == r.arenas.end()) return fail(RF_ERR_HANDLE, "rf_arena_alloc", "unknown arena");
  Arena& a = it->second;
  if (bytes <= 0) return fail(RF_ERR_INVALID, "rf_arena_alloc", "size must be positive", 0, bytes);
  const int64_t need = align_up(bytes);
  auto best = a.freeBlocks.end();
  for (auto f = a.freeBlocks.begin(); f != a.freeBlocks.end(); ++f) {
    if (f->second >= need && (best == a.freeBlocks.end() || f->second < best->second)) best = f;
  }
  if (best == a.freeBlocks.end()) {
    return fail(RF_ERR_OOM, "rf_arena_alloc",
                "no free block of " + std::to_string(need) + " bytes in an arena of " +
                    std::to_string(a.capacity),
                0, need);
  }
  const int64_t off = best->first, size = best->second;
  a.freeBlocks.erase(best);
  if (size > need) a.freeBlocks[off + need] = size - need;
  a.used[off] = need;
  *offset = off;
  return RF_OK;
}

extern "C" rf_status rf_arena_free(int32_t arena, int64_t offset) {
  clear_error();
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.lock);
  auto it = r.arenas.find(arena);
  if (it == r.arenas.end()) return fail(RF_ERR_HANDLE, "rf_arena_free", "unknown arena");
  Arena& a = it->second;
  auto u = a.used.find(offset);
  if (u == a.used.end()) return fail(RF_ERR_INVALID, "rf_arena_free", "offset is not allocated");
  int64_t off = u->first, size = u->second;
  a.used.erase(u);
  auto next = a.freeBlocks.lower_bound(off);
  if (next != a.freeBlocks.end() && next->first == off + size) {
    size += next->second;
    a.freeBlocks.erase(next);
  }
  auto prev = a.freeBlocks.lower_bound(off);
  if (prev != a.freeBlocks.begin()) {
    --prev;
    if (prev->first + prev->second == off) {
      off = prev->first;
      size += prev->second;
      a.freeBlocks.erase(prev);
    }
  }
  a.freeBlocks[off] = size;
  return RF_OK;
}

extern "C" rf_status rf_arena_upload(int32_t arena, int64_t offset, const void* data,
                                     int64_t bytes) {
  clear_error();
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.lock);
  auto it = r.arenas.find(arena);
  if (it == r.arenas.end()) return fail(RF_ERR_HANDLE, "rf_arena_upload", "unknown arena");
  const Arena& a = it->second;
  const rf_status st = check_arena_range(a, offset, bytes, "rf_arena_upload");
  if (st != RF_OK) return st;
  Context* c = find_context(r, a.ctx);
  RF_CHECK(hipSetDevice(c->device), 0);
  RF_CHECK(hipMemcpyAsync(static_cast<char*>(a.base) + offset, data, (size_t)bytes,
                          hipMemcpyHostToDevice, c->stream),
           bytes);
  // The host buffer belongs to the caller and may be released on return.
  RF_CHECK(hipStreamSynchronize(c->stream), 0);
  return RF_OK;
}

extern "C" rf_status rf_arena_download(int32_t arena, int64_t offset, void* data, int64_t bytes) {
  clear_error();
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.lock);
  auto it = r.arenas.find(arena);
  if (it == r.arenas.end()) return fail(RF_ERR_HANDLE, "rf_arena_download", "unknown arena");
  const Arena& a = it->second;
  const rf_status st = check_arena_range(a, offset, bytes, "rf_arena_download");
  if (st != RF_OK) return st;
  Context* c = find_context(r, a.ctx);
  RF_CHECK(hipSetDevice(c->device), 0);
  RF_CHECK(hipMemcpyAsync(data, static_cast<const char*>(a.base) + offset, (size_t)bytes,
                          hipMemcpyDeviceToHost, c->stream),
           bytes);
  RF_CHECK(hipStreamSynchronize(c->stream), 0);
  return RF_OK;
}

extern "C" rf_status rf_arena_stats(int32_t arena, int64_t* out) {
  clear_error();
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.lock);
  auto it = r.arenas.find(arena);
  if (it == r.arenas.end()) return fail(RF_ERR_HANDLE, "rf_arena_stats", "unknown arena");
  const Arena& a = it->second;
  int64_t used = 0, largest = 0;
  for (const auto& u : a.used) used += u.second;
  for (const auto& f : a.freeBlocks) largest = f.second > largest ? f.second : largest;
  out[0] = a.capacity;
  out[1] = used;
  out[2] = largest;
  return RF_OK;
}

extern "C" rf_status rf_arena_destroy(int32_t arena) {
  clear_error();
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.lock);
  auto it = r.arenas.find(arena);
  if (it == r.arenas.end()) return fail(RF_ERR_HANDLE, "rf_arena_destroy", "unknown arena");
  Arena a = it->second;
  r.arenas.erase(it);
  Context* c = find_context(r, a.ctx);
  if (c) {
    RF_CHECK(hipSetDevice(c->device), 0);
    RF_CHECK(hipStreamSynchronize(c->stream), 0);
  }
  RF_CHECK(hipFree(a.base), 0);
  return RF_OK;
}

extern "C" rf_status rf_kv_create(int32_t ctx, int32_t nLayers, int32_t capacity,
                                  int32_t nHeadKV, int32_t headDim, int32_t valueDim,
                                  int32_t* kv) {
  clear_error();
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.lock);
  Context* c = find_context(r, ctx);
  if (!c) return fail(RF_ERR_HANDLE, "rf_kv_create", "unknown context");
  if (nLayers <= 0 || capacity <= 0 || nHeadKV <= 0 || headDim <= 0 || valueDim <= 0) {
    return fail(RF_ERR_INVALID, "rf_kv_create", "every dimension must be positive");
  }
  KVCache k;
  k.ctx = ctx;
  k.nLayers = nLayers;
  k.capacity = capacity;
  k.nHeadKV = nHeadKV;
  k.headDim = headDim;
  k.valueDim = valueDim;
  const int64_t bytes = k.layerElems() * nLayers * 2;
  RF_CHECK(hipSetDevice(c->device), 0);
  void* p = nullptr;
  RF_CHECK(hipMalloc(&p, (size_t)bytes), bytes);
  k.base = static_cast<uint16_t*>(p);
  const int id = r.next++;
  r.kvs[id] = k;
  *kv = id;
  return RF_OK;
}

extern "C" rf_status rf_kv_destroy(int32_t kv) {
  clear_error();
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.lock);
  auto it = r.kvs.find(kv);
  if (it == r.kvs.end()) return fail(RF_ERR_HANDLE, "rf_kv_destroy", "unknown KV cache");
  KVCache k = it->second;
  r.kvs.erase(it);
  Context* c = find_context(r, k.ctx);
  if (c) {
    RF_CHECK(hipSetDevice(c->device), 0);
    RF_CHECK(hipStreamSynchronize(c->stream), 0);
  }
  RF_CHECK(hipFree(k.base), 0);
  return RF_OK;
}
