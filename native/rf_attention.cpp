// rf_attention.cpp: the attention op of rf_exec: its checks beyond the op table's, the
// workspace it needs, and its launch (KV store, then kernels/attention.hip). Causal attention
// reads the session's KV cache, over every earlier position or a sliding window of them; a
// non-causal op (an encoder pass, no cache) stores its rows' K and V as half precision in the
// workspace, after the split-position partials, and every row sees all of them.
#include <math.h>
#include <string.h>

#include <string>

#include "../kernels/rf_kernels.h"
#include "rf_exec_internal.h"
#include "rf_program_check.h"

namespace rf {

namespace {

float fword(int32_t w) {
  float f;
  memcpy(&f, &w, 4);
  return f;
}

int64_t align256(int64_t bytes) { return (bytes + 255) & ~(int64_t)255; }

// The launch arguments of attention words `a` at e.pos0; `replayed`: planned for the padded
// span of a replayed graph, reading pos0 from e.pos0d (causal ops only).
AttnArgs attention_args(const Exec& e, const int32_t* a, bool replayed) {
  const int T = a[RF_ATTENTION_T];
  AttnArgs r{T,
             e.pos0,
             a[RF_ATTENTION_N_HEAD],
             a[RF_ATTENTION_N_HEAD_KV],
             a[RF_ATTENTION_HEAD_DIM],
             a[RF_ATTENTION_VALUE_DIM],
             fword(a[RF_ATTENTION_SCALE]),
             T,
             nullptr};
  r.window = a[RF_ATTENTION_WINDOW];
  r.softcap = fword(a[RF_ATTENTION_SOFTCAP]);
  r.causal = a[RF_ATTENTION_CAUSAL];
  if (a[RF_ATTENTION_SINK_SLOT] >= 0 && e.arena) {
    r.sinks = static_cast<const char*>(e.arena->base) +
              (int64_t)a[RF_ATTENTION_SINK_SLOT] * SLOT_BYTES;
    r.sinkType = a[RF_ATTENTION_SINK_TYPE];
  }
  if (!r.causal) {
    r.pos0 = 0;  // the pass's own rows, stored from workspace row 0
    return r;
  }
  r.span = replayed ? attention_span((int64_t)e.pos0 + T, e.kv->capacity) : e.pos0 + T;
  r.pos0d = replayed ? e.pos0d : nullptr;
  r.base = attention_base(r.span, T, r.window, replayed);
  return r;
}

// Bytes of the half-precision K and V rows of a non-causal op in the workspace.
int64_t local_kv_bytes(const int32_t* a, int64_t& kBytes) {
  const int64_t T = a[RF_ATTENTION_T], nKV = a[RF_ATTENTION_N_HEAD_KV];
  kBytes = align256(T * nKV * a[RF_ATTENTION_HEAD_DIM] * 2);
  return kBytes + align256(T * nKV * a[RF_ATTENTION_VALUE_DIM] * 2);
}

}  // namespace

bool check_attention(const Exec& e, const Op& op, std::string& err, int64_t& workspace) {
  const int32_t* a = op.a;
  const int T = a[RF_ATTENTION_T], layer = a[RF_ATTENTION_KV_LAYER];
  const int nHead = a[RF_ATTENTION_N_HEAD], nKV = a[RF_ATTENTION_N_HEAD_KV];
  const int hd = a[RF_ATTENTION_HEAD_DIM], vd = a[RF_ATTENTION_VALUE_DIM];
  const int causal = a[RF_ATTENTION_CAUSAL];
  const float softcap = fword(a[RF_ATTENTION_SOFTCAP]);
  auto fails = [&](const std::string& why) {
    err = "attention: " + why;
    return false;
  };
  if (nHead % nKV) return fails("nHead must be a multiple of nHeadKV");
  if (hd > RF_MAX_HEAD_DIM || vd > RF_MAX_HEAD_DIM) {
    return fails("head dims above " + std::to_string(RF_MAX_HEAD_DIM) + " are unsupported");
  }
  if (causal != 0 && causal != 1) return fails("causal must be 0 or 1");
  if (!(softcap >= 0.f) || isinf(softcap)) return fails("softcap must be finite and >= 0");
  const auto need = [&](int64_t bytes) {
    if (bytes > workspace) workspace = bytes;
  };
  if (!causal) {
    if (a[RF_ATTENTION_WINDOW] > 0) return fails("a sliding window needs causal attention");
    if (e.pos0 != 0) {
      return fails("a non-causal batch must start at position 0, not " + std::to_string(e.pos0));
    }
    int64_t kBytes;
    const AttnArgs args = attention_args(e, a, false);
    need(attention_workspace_bytes(args, e.ctx->smCount, e.ctx->warpSize) +
         local_kv_bytes(a, kBytes));
    return true;
  }
  if (!e.kv) return fails("needs a KV cache");
  const KVCache& kv = *e.kv;
  if (layer < 0 || layer >= kv.nLayers) return fails("KV layer out of range");
  if (nKV != kv.nHeadKV || hd != kv.headDim || vd != kv.valueDim) {
    return fails("head shape differs from the KV cache");
  }
  if (e.pos0 < 0 || (int64_t)e.pos0 + T > kv.capacity) {
    return fails("positions " + std::to_string(e.pos0) + ".." +
                 std::to_string((int64_t)e.pos0 + T - 1) + " exceed KV capacity " +
                 std::to_string(kv.capacity));
  }
  // Enough for the exact plan of direct runs and the padded span of replayed ones.
  for (const bool replayed : {false, true}) {
    need(attention_workspace_bytes(attention_args(e, a, replayed), e.ctx->smCount,
                                   e.ctx->warpSize));
  }
  return true;
}

int attention_replay_span(const Exec& e, const Op& op) {
  return attention_args(e, op.a, true).span;
}

hipError_t run_attention(const Exec& e, const Op& op) {
  const Context& c = *e.ctx;
  const int32_t* a = op.a;
  const AttnArgs args = attention_args(e, a, e.pos0d != nullptr);
  const int T = args.T;
  const int64_t kRow = (int64_t)args.nHeadKV * args.headDim;
  const int64_t vRow = (int64_t)args.nHeadKV * args.valueDim;
  const float* k = reinterpret_cast<const float*>(static_cast<const char*>(c.scratch.ptr) +
                                                  (int64_t)a[RF_ATTENTION_K] * SLOT_BYTES);
  const float* v = reinterpret_cast<const float*>(static_cast<const char*>(c.scratch.ptr) +
                                                  (int64_t)a[RF_ATTENTION_V] * SLOT_BYTES);
  uint16_t* kc;
  uint16_t* vc;
  if (args.causal) {
    kc = e.kv->keys(a[RF_ATTENTION_KV_LAYER]);
    vc = e.kv->values(a[RF_ATTENTION_KV_LAYER]);
  } else {
    int64_t kBytes;
    local_kv_bytes(a, kBytes);
    char* ws = static_cast<char*>(c.workspace.ptr) +
               attention_workspace_bytes(args, c.smCount, c.warpSize);
    kc = reinterpret_cast<uint16_t*>(ws);
    vc = reinterpret_cast<uint16_t*>(ws + kBytes);
  }
  if (!op.kvStored) {  // else the rope pair before it stored K and V
    const hipError_t err = launch_kv_store(c.stream, k, kc, kRow, v, vc, vRow, T, args.pos0,
                                           args.causal ? e.pos0d : nullptr);
    if (err != hipSuccess) return err;
  }
  const float* q = reinterpret_cast<const float*>(static_cast<const char*>(c.scratch.ptr) +
                                                  (int64_t)a[RF_ATTENTION_Q] * SLOT_BYTES);
  float* out = reinterpret_cast<float*>(static_cast<char*>(c.scratch.ptr) +
                                        (int64_t)a[RF_ATTENTION_OUT] * SLOT_BYTES);
  return launch_attention(c.stream, c.warpSize, c.smCount, q, kc, vc, out, args,
                          c.workspace.ptr);
}

}  // namespace rf
