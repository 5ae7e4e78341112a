// rf_graph.cpp: rf_exec, which validates a whole program (every address against the scratch,
// arena and KV bounds, every token id against the vocabulary) before launching anything, then
// enqueues all ops on the context's stream with no synchronization between them (or hands
// them to rf_replay.cpp for graph replay or profiling). Consecutive quantized products that
// read the same input (q/k/v, gate/up) round it to int8 once.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <string>
#include <vector>

#include "../kernels/rf_kernels.h"
#include "rf_exec_internal.h"
#include "rf_program_check.h"

using namespace rf;

namespace {

float fword(int32_t w) {
  float f;
  memcpy(&f, &w, 4);
  return f;
}

// Checks each op against the schema's op table (check_words), then its own rules.
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

  bool check(const Op& op) {
    const int32_t* a = op.a;
    const ProgramBounds bounds{e.scratchBytes, e.inBytes, e.outBytes,
                               e.arena ? e.arena->capacity : -1};
    if (!check_words(*op.info, a, bounds, err)) return false;
    if (e.seqs) {
      bool handled = false;
      if (!check_seq_op(e, op, err, workspace, handled)) return false;
      if (handled) return true;
    }
    switch (op.code) {
      case RF_OP_EMBED: {
        const int T = a[RF_EMBED_T], vocab = a[RF_EMBED_VOCAB], index = a[RF_EMBED_INDEX];
        rows(T);
        if (index == RF_EMBED_INDEX_ZERO) return true;
        if (index == RF_EMBED_INDEX_POSITION) {
          if (e.pos0 < 0 || (int64_t)e.pos0 + T > vocab) {
            return fails("embed: positions " + std::to_string(e.pos0) + ".." +
                         std::to_string((int64_t)e.pos0 + T - 1) + " are outside the " +
                         std::to_string(vocab) + " rows of the position embedding");
          }
          return true;
        }
        if (index != RF_EMBED_INDEX_TOKEN) return fails("embed: unknown index word");
        const int32_t* tok =
            reinterpret_cast<const int32_t*>(e.hostIn + (int64_t)a[RF_EMBED_TOKENS] * SLOT_BYTES);
        for (int t = 0; t < T; ++t) {
          if (tok[t] < 0 || tok[t] >= vocab) {
            return fails("embed: token id " + std::to_string(tok[t]) + " at row " +
                         std::to_string(t) + " is outside the vocabulary of " +
                         std::to_string(vocab));
          }
        }
        return true;
      }
      case RF_OP_MATMUL: {
        rows(a[RF_MATMUL_T]);
        const int64_t ws =
            matmul_workspace_bytes(a[RF_MATMUL_W_TYPE], a[RF_MATMUL_T], a[RF_MATMUL_K]);
        if (ws > workspace) workspace = ws;
        return true;
      }
      case RF_OP_ROPE: {
        const int headDim = a[RF_ROPE_HEAD_DIM], nRot = a[RF_ROPE_N_ROT];
        if (headDim % 2 || nRot % 2 || nRot > headDim) {
          return fails("rope: headDim and nRot must be even with nRot <= headDim");
        }
        if (a[RF_ROPE_N_FREQ] * 2 != nRot) return fails("rope: nFreq must be nRot / 2");
        if (a[RF_ROPE_MODE] != RF_ROPE_MODE_NORMAL && a[RF_ROPE_MODE] != RF_ROPE_MODE_NEOX) {
          return fails("rope: mode must be " + std::to_string(RF_ROPE_MODE_NORMAL) +
                       " (normal) or " + std::to_string(RF_ROPE_MODE_NEOX) + " (neox)");
        }
        return true;
      }
      case RF_OP_ATTENTION:
        rows(a[RF_ATTENTION_T]);
        return check_attention(e, op, err, workspace);
      case RF_OP_MOE:
        rows(a[RF_MOE_T]);
        return check_moe_op(e, op, err, workspace);
      default:
        return check_simple_op(op, err);  // the table's checks, and the simple ops' own
    }
  }
};

template <class T>
T* at(const Context& c, int32_t slot) {
  return reinterpret_cast<T*>(static_cast<char*>(c.scratch.ptr) + (int64_t)slot * SLOT_BYTES);
}
const void* wat(const Arena& a, int32_t slot) {
  return static_cast<const char*>(a.base) + (int64_t)slot * SLOT_BYTES;
}

}  // namespace

namespace rf {

const char* op_name(int op) {
  const OpInfo* info = op_info(op);
  return info ? info->name : "unknown";
}

// Runs one op; downloads go to `hostOut`, or to the device buffer `staging` when not null.
hipError_t run_op(const Exec& e, const Op& op, uint8_t* hostOut, char* staging, QuantState& qs) {
  if (op.code != RF_OP_MATMUL) qs = QuantState();
  if (op.fusedAway) return hipSuccess;  // a neighbour's launch does its work
  if (e.seqs) {
    bool handled = false;
    const hipError_t err = run_seq_op(e, op, handled);
    if (handled) return err;
  }
  const Context& c = *e.ctx;
  const int32_t* a = op.a;
  switch (op.code) {
    case RF_OP_EMBED:
      return launch_embed(c.stream, a[RF_EMBED_W_TYPE], wat(*e.arena, a[RF_EMBED_W_SLOT]),
                          at<int32_t>(c, a[RF_EMBED_TOKENS]), at<float>(c, a[RF_EMBED_OUT]),
                          a[RF_EMBED_T], a[RF_EMBED_COLS], a[RF_EMBED_INDEX], e.pos0, e.pos0d,
                          seq_row_pos(e));
    case RF_OP_RMS_NORM: {
      const int T = a[RF_RMS_NORM_T], cols = a[RF_RMS_NORM_COLS];
      Fuse f;
      const float* x = at<float>(c, a[RF_RMS_NORM_X]);
      if (op.addWords) {
        x = at<float>(c, op.addWords[RF_ADD_A]);
        f.addB = at<float>(c, op.addWords[RF_ADD_B]);
        f.addOut = at<float>(c, op.addWords[RF_ADD_OUT]);
      }
      const bool q8 = op.quantType >= 0 &&
                      fuse_act_quant32(op.quantType, c.workspace.ptr, op.quantT, op.quantK, f);
      const hipError_t err =
          launch_rms_norm(c.stream, c.warpSize, x, wat(*e.arena, a[RF_RMS_NORM_W_SLOT]),
                          a[RF_RMS_NORM_W_TYPE], at<float>(c, a[RF_RMS_NORM_OUT]), T, cols,
                          fword(a[RF_RMS_NORM_EPS]), f);
      if (q8) qs = QuantState{a[RF_RMS_NORM_OUT], T, cols, act_quant_format(op.quantType)};
      return err;
    }
    case RF_OP_MATMUL: {
      const int32_t type = a[RF_MATMUL_W_TYPE];
      const QuantState now{a[RF_MATMUL_X], a[RF_MATMUL_T], a[RF_MATMUL_K], act_quant_format(type)};
      const bool ready = now.format != 0 && now.slot == qs.slot && now.T == qs.T &&
                         now.K == qs.K && now.format == qs.format;
      qs = now.format != 0 ? now : QuantState();
      MatmulPart parts[MATMUL_MAX_PARTS];
      for (int i = 0; i < op.nParts; ++i) {
        const int32_t* p = part_words(op, i);
        const int32_t bias = p[RF_MATMUL_BIAS_SLOT];
        parts[i] = {wat(*e.arena, p[RF_MATMUL_W_SLOT]),
                    bias >= 0 ? static_cast<const float*>(wat(*e.arena, bias)) : nullptr,
                    at<float>(c, p[RF_MATMUL_OUT]), p[RF_MATMUL_N]};
      }
      return launch_matmul_parts(c.stream, c.warpSize, c.smCount, type, parts, op.nParts,
                                 at<float>(c, a[RF_MATMUL_X]), a[RF_MATMUL_T], a[RF_MATMUL_K],
                                 c.workspace.ptr, ready);
    }
    case RF_OP_ROPE: {
      RopeArgs r;
      r.T = a[RF_ROPE_T];
      r.nHeads = a[RF_ROPE_N_HEADS];
      r.headDim = a[RF_ROPE_HEAD_DIM];
      r.mode = a[RF_ROPE_MODE];
      r.nRot = a[RF_ROPE_N_ROT];
      r.nCtxOrig = a[RF_ROPE_N_CTX_ORIG];
      r.pos0 = e.pos0;
      r.freqBase = fword(a[RF_ROPE_FREQ_BASE]);
      r.freqScale = fword(a[RF_ROPE_FREQ_SCALE]);
      r.extFactor = fword(a[RF_ROPE_EXT_FACTOR]);
      r.attnFactor = fword(a[RF_ROPE_ATTN_FACTOR]);
      r.betaFast = fword(a[RF_ROPE_BETA_FAST]);
      r.betaSlow = fword(a[RF_ROPE_BETA_SLOW]);
      r.pos0d = e.pos0d;
      r.rowPos = seq_row_pos(e);
      if (a[RF_ROPE_FF_SLOT] >= 0) {
        r.ff = wat(*e.arena, a[RF_ROPE_FF_SLOT]);
        r.ffType = a[RF_ROPE_FF_TYPE];
      }
      if (op.pairWords) {
        r.x2 = at<float>(c, op.pairWords[RF_ROPE_X]);
        r.out2 = at<float>(c, op.pairWords[RF_ROPE_OUT]);
        r.nHeads2 = op.pairWords[RF_ROPE_N_HEADS];
      }
      if (op.kvWords) {
        const int layer = op.kvWords[RF_ATTENTION_KV_LAYER];
        r.kCache = e.kv->keys(layer);
        r.vCache = e.kv->values(layer);
        r.v = at<float>(c, op.kvWords[RF_ATTENTION_V]);
        r.vRow = e.kv->nHeadKV * e.kv->valueDim;
      }
      return launch_rope(c.stream, at<float>(c, a[RF_ROPE_X]), at<float>(c, a[RF_ROPE_OUT]), r);
    }
    case RF_OP_ATTENTION:
      return run_attention(e, op);
    case RF_OP_SWIGLU: {
      Fuse f;
      const bool q8 = op.quantType >= 0 &&
                      fuse_act_quant32(op.quantType, c.workspace.ptr, op.quantT, op.quantK, f);
      const hipError_t err =
          launch_swiglu(c.stream, at<float>(c, a[RF_SWIGLU_GATE]), at<float>(c, a[RF_SWIGLU_UP]),
                        at<float>(c, a[RF_SWIGLU_OUT]), a[RF_SWIGLU_N], f);
      if (q8) qs = QuantState{a[RF_SWIGLU_OUT], op.quantT, op.quantK, act_quant_format(op.quantType)};
      return err;
    }
    case RF_OP_ADD:
      return launch_add(c.stream, at<float>(c, a[RF_ADD_A]), at<float>(c, a[RF_ADD_B]),
                        at<float>(c, a[RF_ADD_OUT]), a[RF_ADD_N]);
    case RF_OP_LAST_ROW: {
      const int T = a[RF_LAST_ROW_T], cols = a[RF_LAST_ROW_COLS];
      return hipMemcpyAsync(at<float>(c, a[RF_LAST_ROW_OUT]),
                            at<float>(c, a[RF_LAST_ROW_X]) + (int64_t)(T - 1) * cols,
                            (size_t)cols * 4, hipMemcpyDeviceToDevice, c.stream);
    }
    case RF_OP_DOWNLOAD: {
      const int32_t off = a[RF_DOWNLOAD_HOST_OFFSET];
      const size_t bytes = (size_t)a[RF_DOWNLOAD_BYTES];
      if (staging) {
        return hipMemcpyAsync(staging + off, at<char>(c, a[RF_DOWNLOAD_SRC]), bytes,
                              hipMemcpyDeviceToDevice, c.stream);
      }
      return hipMemcpyAsync(hostOut + off, at<char>(c, a[RF_DOWNLOAD_SRC]), bytes,
                            hipMemcpyDeviceToHost, c.stream);
    }
    case RF_OP_MOE:
      return run_moe_op(e, op);
    default:
      return run_simple_op(e, op);
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
  return exec_program(r, ctx, arena, kv, nullptr, program, words, hostIn, inBytes, hostOut,
                      outBytes, scratchBytes, pos0);
}

rf_status rf::exec_program(Registry& r, int32_t ctx, int32_t arena, int32_t kv, SeqTable* seqs,
                           const int32_t* program, int32_t words, const void* hostIn,
                           int64_t inBytes, void* hostOut, int64_t outBytes,
                           int64_t scratchBytes, int32_t pos0) {
  auto ci = r.contexts.find(ctx);
  if (ci == r.contexts.end()) return fail(RF_ERR_HANDLE, "rf_exec", "unknown context");
  Exec e{&ci->second, nullptr, nullptr, scratchBytes, inBytes, outBytes,
         static_cast<const uint8_t*>(hostIn), pos0, nullptr, seqs};
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
    const OpInfo* info = op_info(code);
    if (!info || i + 1 + info->words > words) {
      return fail(RF_ERR_INVALID, "rf_exec",
                  "malformed program at word " + std::to_string(i) + " (opcode " +
                      std::to_string(code) + ")");
    }
    const Op op{code, program + i + 1, (int)ops.size(), info};
    if (!v.check(op)) {
      return fail(RF_ERR_INVALID, "rf_exec",
                  "op #" + std::to_string(op.index) + " (" + info->name + "): " + v.err);
    }
    ops.push_back(op);
    i += 1 + info->words;
  }
  plan_fusion(ops);
  if (seqs) unfuse_seq_ops(ops);
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
  if (seqs) {
    st = upload_seq_table(c, *seqs);
    if (st != RF_OK) return st;
  }
  if (profile_enabled()) return run_profiled(e, c, ops, hostOut, v.maxRows);
  // A multi-sequence batch launches directly: its tables change every pass.
  if (!seqs && graphs_enabled() && !c.graphsOff && v.maxRows <= GRAPH_MAX_ROWS) {
    st = ensure_buffer(c.staging, std::max<int64_t>(outBytes, 1), c.stream, "staging");
    if (st == RF_OK) st = ensure_buffer(c.params, sizeof(int32_t), c.stream, "params");
    if (st == RF_OK) st = ensure_host_staging(c, std::max<int64_t>(outBytes, 1));
    if (st != RF_OK) return st;
    e.pos0d = static_cast<const int*>(c.params.ptr);
    hipError_t unsupported = hipSuccess;
    st = run_graph(e, c, ops, program, words, hostOut, unsupported);
    if (unsupported == hipSuccess) return st;
    // Capture or replay is not available here: plain launches from now on, said once.
    c.graphsOff = true;
    e.pos0d = nullptr;
    clear_error();
    fprintf(stderr, "rocmforge: GPU graph replay unavailable (%s); using plain launches\n",
            hipGetErrorString(unsupported));
  }
  QuantState qs;
  for (const Op& op : ops) {
    const hipError_t err = run_op(e, op, static_cast<uint8_t*>(hostOut), nullptr, qs);
    if (err != hipSuccess) return launch_failed(c, err, op);
  }
  RF_CHECK(hipStreamSynchronize(c.stream), 0);
  return RF_OK;
}
