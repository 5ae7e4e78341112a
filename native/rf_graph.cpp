// rf_graph.cpp: rf_exec, which validates a whole program (every address against the scratch,
// arena and KV bounds, every token id against the vocabulary) before launching anything, then
// enqueues all ops on the context's stream with no synchronization between them (or hands
// them to rf_replay.cpp for graph replay or profiling). Consecutive quantized products that
// read the same input (q/k/v, gate/up) round it to int8 once.
#include <string.h>

#include <algorithm>
#include <string>
#include <vector>

#include "../kernels/rf_kernels.h"
#include "rf_exec_internal.h"

using namespace rf;

namespace {

constexpr int64_t SLOT = 256;

int op_words(int op) {
  switch (op) {
    case RF_OP_EMBED: return 7;
    case RF_OP_RMS_NORM: return 7;
    case RF_OP_MATMUL: return 9;
    case RF_OP_ROPE: return 14;
    case RF_OP_ATTENTION: return 11;
    case RF_OP_SWIGLU: return 4;
    case RF_OP_ADD: return 4;
    case RF_OP_LAST_ROW: return 4;
    case RF_OP_DOWNLOAD: return 3;
    default: return -1;
  }
}

float fword(int32_t w) {
  float f;
  memcpy(&f, &w, 4);
  return f;
}

struct Validator {
  const Exec& e;
  std::string err;
  int64_t workspace = 0;
  int maxRows = 0;  // the largest batch of any op (graphs are used for small batches only)
  void rows(int T) {
    if (T > maxRows) maxRows = T;
  }

  bool fails(const std::string& why) {
    err = why;
    return false;
  }
  bool scratch(int32_t slot, int64_t bytes, const char* what) {
    if (slot < 0 || bytes < 0 || (int64_t)slot * SLOT + bytes > e.scratchBytes) {
      return fails(std::string(what) + " range (slot " + std::to_string(slot) + ", " +
                   std::to_string(bytes) + " bytes) exceeds scratch of " +
                   std::to_string(e.scratchBytes) + " bytes");
    }
    return true;
  }
  bool weight(int32_t slot, int64_t bytes, const char* what) {
    if (!e.arena) return fails(std::string(what) + " needs a weight arena");
    if (bytes < 0) return fails(std::string(what) + ": unsupported type or shape");
    if (slot < 0 || (int64_t)slot * SLOT + bytes > e.arena->capacity) {
      return fails(std::string(what) + " range exceeds the weight arena");
    }
    return true;
  }
  bool positive(std::initializer_list<int32_t> vs, const char* what) {
    for (int32_t v : vs) {
      if (v <= 0) return fails(std::string(what) + ": dimensions must be positive");
    }
    return true;
  }

  bool check(const Op& op) {
    const int32_t* a = op.a;
    switch (op.code) {
      case RF_OP_EMBED: {  // out, tokens, T, wSlot, wType, cols, vocab
        const int T = a[2], cols = a[5], vocab = a[6];
        if (!positive({T, cols, vocab}, "embed")) return false;
        rows(T);
        if (!kernel_type_supported(a[4])) return fails("embed: unsupported weight type");
        if ((int64_t)a[1] * SLOT + (int64_t)T * 4 > e.inBytes || a[1] < 0) {
          return fails("embed: token ids must lie in the host input");
        }
        const int32_t* tok = reinterpret_cast<const int32_t*>(e.hostIn + (int64_t)a[1] * SLOT);
        for (int t = 0; t < T; ++t) {
          if (tok[t] < 0 || tok[t] >= vocab) {
            return fails("embed: token id " + std::to_string(tok[t]) + " at row " +
                         std::to_string(t) + " is outside the vocabulary of " +
                         std::to_string(vocab));
          }
        }
        return scratch(a[0], (int64_t)T * cols * 4, "embed out") &&
               weight(a[3], weight_bytes(a[4], cols, vocab), "embed weight");
      }
      case RF_OP_RMS_NORM: {  // out, x, T, cols, wSlot, wType, eps
        const int T = a[2], cols = a[3];
        if (!positive({T, cols}, "rms_norm")) return false;
        if (a[5] != T_F32 && a[5] != T_F16) return fails("rms_norm: weight must be F32 or F16");
        const int64_t bytes = (int64_t)T * cols * 4;
        return scratch(a[0], bytes, "rms_norm out") && scratch(a[1], bytes, "rms_norm x") &&
               weight(a[4], weight_bytes(a[5], cols, 1), "rms_norm weight");
      }
      case RF_OP_MATMUL: {  // out, x, T, K, N, wSlot, wType, biasSlot, biasType
        const int T = a[2], K = a[3], N = a[4];
        if (!positive({T, K, N}, "matmul")) return false;
        rows(T);
        if (!kernel_type_supported(a[6])) return fails("matmul: unsupported weight type");
        if (a[7] >= 0 && a[8] != T_F32) return fails("matmul: bias must be F32");
        const int64_t ws = matmul_workspace_bytes(a[6], T, K);
        if (ws > workspace) workspace = ws;
        return scratch(a[0], (int64_t)T * N * 4, "matmul out") &&
               scratch(a[1], (int64_t)T * K * 4, "matmul x") &&
               weight(a[5], weight_bytes(a[6], K, N), "matmul weight") &&
               (a[7] < 0 || weight(a[7], (int64_t)N * 4, "matmul bias"));
      }
      case RF_OP_ROPE: {  // out, x, T, nHeads, headDim, mode, nRot, nCtxOrig, floats...
        const int T = a[2], nHeads = a[3], headDim = a[4], nRot = a[6];
        if (!positive({T, nHeads, headDim, nRot}, "rope")) return false;
        if (headDim % 2 || nRot % 2 || nRot > headDim) {
          return fails("rope: headDim and nRot must be even with nRot <= headDim");
        }
        if (a[5] != 0 && a[5] != 2) return fails("rope: mode must be 0 (normal) or 2 (neox)");
        const int64_t bytes = (int64_t)T * nHeads * headDim * 4;
        return scratch(a[0], bytes, "rope out") && scratch(a[1], bytes, "rope x");
      }
      case RF_OP_ATTENTION: {  // out, q, k, v, T, layer, nHead, nHeadKV, headDim, valueDim, scale
        const int T = a[4], layer = a[5], nHead = a[6], nKV = a[7], hd = a[8], vd = a[9];
        if (!positive({T, nHead, nKV, hd, vd}, "attention")) return false;
        rows(T);
        if (!e.kv) return fails("attention needs a KV cache");
        const KVCache& kv = *e.kv;
        if (layer < 0 || layer >= kv.nLayers) return fails("attention: KV layer out of range");
        if (nKV != kv.nHeadKV || hd != kv.headDim || vd != kv.valueDim) {
          return fails("attention: head shape differs from the KV cache");
        }
        if (nHead % nKV) return fails("attention: nHead must be a multiple of nHeadKV");
        if (hd > 256 || vd > 256) return fails("attention: head dims above 256 are unsupported");
        if (e.pos0 < 0 || (int64_t)e.pos0 + T > kv.capacity) {
          return fails("attention: positions " + std::to_string(e.pos0) + ".." +
                       std::to_string((int64_t)e.pos0 + T - 1) + " exceed KV capacity " +
                       std::to_string(kv.capacity));
        }
        const AttnArgs args{T, e.pos0, nHead, nKV, hd, vd, 0.f};
        const int64_t ws = attention_workspace_bytes(args, e.ctx->smCount, e.ctx->warpSize);
        if (ws > workspace) workspace = ws;
        return scratch(a[0], (int64_t)T * nHead * vd * 4, "attention out") &&
               scratch(a[1], (int64_t)T * nHead * hd * 4, "attention q") &&
               scratch(a[2], (int64_t)T * nKV * hd * 4, "attention k") &&
               scratch(a[3], (int64_t)T * nKV * vd * 4, "attention v");
      }
      case RF_OP_SWIGLU:
      case RF_OP_ADD: {
        if (!positive({a[3]}, op_name(op.code))) return false;
        const int64_t bytes = (int64_t)a[3] * 4;
        return scratch(a[0], bytes, "out") && scratch(a[1], bytes, "input a") &&
               scratch(a[2], bytes, "input b");
      }
      case RF_OP_LAST_ROW: {
        if (!positive({a[2], a[3]}, "last_row")) return false;
        return scratch(a[0], (int64_t)a[3] * 4, "last_row out") &&
               scratch(a[1], (int64_t)a[2] * a[3] * 4, "last_row x");
      }
      case RF_OP_DOWNLOAD: {
        if (a[0] < 0 || a[2] < 0 || (int64_t)a[0] + a[2] > e.outBytes) {
          return fails("download: range exceeds the host output buffer");
        }
        return scratch(a[1], a[2], "download src");
      }
      default:
        return fails("unknown opcode " + std::to_string(op.code));
    }
  }
};

template <class T>
T* at(const Context& c, int32_t slot) {
  return reinterpret_cast<T*>(static_cast<char*>(c.scratch.ptr) + (int64_t)slot * SLOT);
}
const void* wat(const Arena& a, int32_t slot) {
  return static_cast<const char*>(a.base) + (int64_t)slot * SLOT;
}

}  // namespace

namespace rf {

const char* op_name(int op) {
  switch (op) {
    case RF_OP_EMBED: return "embed";
    case RF_OP_RMS_NORM: return "rms_norm";
    case RF_OP_MATMUL: return "matmul";
    case RF_OP_ROPE: return "rope";
    case RF_OP_ATTENTION: return "attention";
    case RF_OP_SWIGLU: return "swiglu";
    case RF_OP_ADD: return "add";
    case RF_OP_LAST_ROW: return "last_row";
    case RF_OP_DOWNLOAD: return "download";
    default: return "unknown";
  }
}

// Runs one op; downloads go to `hostOut`, or to the device buffer `staging` when not null.
hipError_t run_op(const Exec& e, const Op& op, uint8_t* hostOut, char* staging, QuantState& qs) {
  if (op.code != RF_OP_MATMUL) qs = QuantState();
  const Context& c = *e.ctx;
  const int32_t* a = op.a;
  switch (op.code) {
    case RF_OP_EMBED:
      return launch_embed(c.stream, a[4], wat(*e.arena, a[3]), at<int32_t>(c, a[1]),
                          at<float>(c, a[0]), a[2], a[5]);
    case RF_OP_RMS_NORM:
      return launch_rms_norm(c.stream, c.warpSize, at<float>(c, a[1]), wat(*e.arena, a[4]), a[5],
                             at<float>(c, a[0]), a[2], a[3], fword(a[6]));
    case RF_OP_MATMUL: {
      const float* bias = a[7] >= 0 ? static_cast<const float*>(wat(*e.arena, a[7])) : nullptr;
      const QuantState now{a[1], a[2], a[3], act_quant_format(a[6])};
      const bool ready = now.format != 0 && now.slot == qs.slot && now.T == qs.T &&
                         now.K == qs.K && now.format == qs.format;
      qs = now.format != 0 ? now : QuantState();
      return launch_matmul(c.stream, c.warpSize, c.smCount, a[6], wat(*e.arena, a[5]),
                           at<float>(c, a[1]), bias, at<float>(c, a[0]), a[2], a[3], a[4],
                           c.workspace.ptr, ready);
    }
    case RF_OP_ROPE: {
      RopeArgs r;
      r.T = a[2];
      r.nHeads = a[3];
      r.headDim = a[4];
      r.mode = a[5];
      r.nRot = a[6];
      r.nCtxOrig = a[7];
      r.pos0 = e.pos0;
      r.freqBase = fword(a[8]);
      r.freqScale = fword(a[9]);
      r.extFactor = fword(a[10]);
      r.attnFactor = fword(a[11]);
      r.betaFast = fword(a[12]);
      r.betaSlow = fword(a[13]);
      return launch_rope(c.stream, at<float>(c, a[1]), at<float>(c, a[0]), r);
    }
    case RF_OP_ATTENTION: {
      const KVCache& kv = *e.kv;
      const int T = a[4], layer = a[5];
      const int64_t kRow = (int64_t)kv.nHeadKV * kv.headDim, vRow = (int64_t)kv.nHeadKV * kv.valueDim;
      uint16_t* kc = kv.keys(layer);
      uint16_t* vc = kv.values(layer);
      const hipError_t err = launch_kv_store(c.stream, at<float>(c, a[2]), kc + e.pos0 * kRow,
                                             T * kRow, at<float>(c, a[3]), vc + e.pos0 * vRow,
                                             T * vRow);
      if (err != hipSuccess) return err;
      const AttnArgs args{T, e.pos0, a[6], a[7], a[8], a[9], fword(a[10])};
      return launch_attention(c.stream, c.warpSize, c.smCount, at<float>(c, a[1]), kc, vc,
                              at<float>(c, a[0]), args, c.workspace.ptr);
    }
    case RF_OP_SWIGLU:
      return launch_swiglu(c.stream, at<float>(c, a[1]), at<float>(c, a[2]), at<float>(c, a[0]),
                           a[3]);
    case RF_OP_ADD:
      return launch_add(c.stream, at<float>(c, a[1]), at<float>(c, a[2]), at<float>(c, a[0]),
                        a[3]);
    case RF_OP_LAST_ROW:
      return hipMemcpyAsync(at<float>(c, a[0]), at<float>(c, a[1]) + (int64_t)(a[2] - 1) * a[3],
                            (size_t)a[3] * 4, hipMemcpyDeviceToDevice, c.stream);
    case RF_OP_DOWNLOAD:
      if (staging) {
        return hipMemcpyAsync(staging + a[0], at<char>(c, a[1]), (size_t)a[2],
                              hipMemcpyDeviceToDevice, c.stream);
      }
      return hipMemcpyAsync(hostOut + a[0], at<char>(c, a[1]), (size_t)a[2],
                            hipMemcpyDeviceToHost, c.stream);
    default:
      return hipSuccess;
  }
}

rf_status launch_failed(const Context& c, hipError_t err, const Op& op) {
  (void)hipGetLastError();
  (void)hipStreamSynchronize(c.stream);
  return fail_gpu(err, std::string("launch of op #") + std::to_string(op.index) + " (" +
                           op_name(op.code) + ")");
}

}  // namespace rf

extern "C" rf_status rf_exec(int32_t ctx, int32_t arena, int32_t kv, const int32_t* program,
                             int32_t words, const void* hostIn, int64_t inBytes, void* hostOut,
                             int64_t outBytes, int64_t scratchBytes, int32_t pos0) {
  clear_error();
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.lock);
  auto ci = r.contexts.find(ctx);
  if (ci == r.contexts.end()) return fail(RF_ERR_HANDLE, "rf_exec", "unknown context");
  Exec e{&ci->second, nullptr, nullptr, scratchBytes, inBytes, outBytes,
         static_cast<const uint8_t*>(hostIn), pos0};
  if (arena) {
    auto ai = r.arenas.find(arena);
    if (ai == r.arenas.end() || ai->second.ctx != ctx) {
      return fail(RF_ERR_HANDLE, "rf_exec", "unknown weight arena for this context");
    }
    e.arena = &ai->second;
  }
  if (kv) {
    auto ki = r.kvs.find(kv);
    if (ki == r.kvs.end() || ki->second.ctx != ctx) {
      return fail(RF_ERR_HANDLE, "rf_exec", "unknown KV cache for this context");
    }
    e.kv = &ki->second;
  }
  if (words < 0 || inBytes < 0 || outBytes < 0 || scratchBytes < inBytes || scratchBytes <= 0) {
    return fail(RF_ERR_INVALID, "rf_exec", "inconsistent program, input or scratch sizes");
  }
  std::vector<Op> ops;
  Validator v{e, "", 0};
  for (int32_t i = 0; i < words;) {
    const int code = program[i];
    const int n = op_words(code);
    if (n < 0 || i + 1 + n > words) {
      return fail(RF_ERR_INVALID, "rf_exec",
                  "malformed program at word " + std::to_string(i) + " (opcode " +
                      std::to_string(code) + ")");
    }
    const Op op{code, program + i + 1, (int)ops.size()};
    if (!v.check(op)) {
      return fail(RF_ERR_INVALID, "rf_exec",
                  "op #" + std::to_string(op.index) + " (" + op_name(code) + "): " + v.err);
    }
    ops.push_back(op);
    i += 1 + n;
  }
  Context& c = *e.ctx;
  RF_CHECK(hipSetDevice(c.device), 0);
  rf_status st = ensure_buffer(c.scratch, scratchBytes, c.stream, "scratch");
  if (st != RF_OK) return st;
  if (v.workspace > 0) {
    st = ensure_buffer(c.workspace, v.workspace, c.stream, "workspace");
    if (st != RF_OK) return st;
  }
  if (inBytes > 0) {
    RF_CHECK(hipMemcpyAsync(c.scratch.ptr, hostIn, (size_t)inBytes, hipMemcpyHostToDevice,
                            c.stream),
             inBytes);
  }
  if (profile_enabled()) return run_profiled(e, c, ops, hostOut, v.maxRows);
  if (graphs_enabled() && v.maxRows <= GRAPH_MAX_ROWS) {
    st = ensure_buffer(c.staging, std::max<int64_t>(outBytes, 1), c.stream, "staging");
    if (st != RF_OK) return st;
    return run_graph(e, c, ops, program, words, hostOut);
  }
  QuantState qs;
  for (const Op& op : ops) {
    const hipError_t err = run_op(e, op, static_cast<uint8_t*>(hostOut), nullptr, qs);
    if (err != hipSuccess) return launch_failed(c, err, op);
  }
  RF_CHECK(hipStreamSynchronize(c.stream), 0);
  return RF_OK;
}
