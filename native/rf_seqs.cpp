// rf_seqs.cpp: multi-sequence batches (rf_exec_seqs) and KV copies between caches (rf_kv_copy).
//
// A batch is one program over the rows of several sequences (src/core/batch_graph.ts): the
// row-wise ops run over all rows as usual; rope and position embeddings read a per-row position
// table; each attention stores every row's K and V into its sequence's cache (one launch) and
// then runs every sequence against its own cache in ONE flash-attention launch (a sequence
// table indexes the grid's third dimension, kernels/attention_flash.h), so decoding n
// sequences costs the launches of one; last_row gathers each sequence's last row. The tables
// are copied to the device once per call. Batches never use graph replay (their tables and
// shapes change every pass).
#include <string.h>

#include <algorithm>
#include <string>
#include <vector>

#include "../kernels/rf_kernels.h"
#include "rf_exec_internal.h"
#include "rf_program_check.h"

namespace rf {

struct SeqTable {
  int n = 0, rows = 0, maxRows = 0, maxEnd = 0;
  std::vector<int32_t> row0, nRows, pos0;
  std::vector<KVCache*> kv;  // empty when the batch has no caches
  // Device tables, in Context::seqs (upload_seq_table).
  const int* rowPos = nullptr;
  const int* rowSeq = nullptr;
  const int* lastRow = nullptr;
  const AttnSeq* attn = nullptr;
};

namespace {

template <class T>
T* at(const Context& c, int32_t slot) {
  return reinterpret_cast<T*>(static_cast<char*>(c.scratch.ptr) + (int64_t)slot * SLOT_BYTES);
}
float fword(int32_t w) {
  float f;
  memcpy(&f, &w, 4);
  return f;
}
bool fails(std::string& err, const std::string& why) {
  err = why;
  return false;
}
std::string range(int64_t a, int64_t b) { return std::to_string(a) + ".." + std::to_string(b); }

}  // namespace

bool check_seq_op(const Exec& e, const Op& op, std::string& err, int64_t& workspace,
                  bool& handled) {
  const SeqTable& t = *e.seqs;
  const int32_t* a = op.a;
  handled = false;
  switch (op.code) {
    case RF_OP_ROPE:
      if (a[RF_ROPE_T] != t.rows) {
        return fails(err, "rope: " + std::to_string(a[RF_ROPE_T]) + " rows, the batch has " +
                              std::to_string(t.rows));
      }
      return true;
    case RF_OP_EMBED: {
      if (a[RF_EMBED_INDEX] != RF_EMBED_INDEX_POSITION) return true;
      handled = true;
      if (a[RF_EMBED_T] != t.rows) return fails(err, "embed: rows differ from the batch's");
      for (int s = 0; s < t.n; ++s) {
        if ((int64_t)t.pos0[s] + t.nRows[s] > a[RF_EMBED_VOCAB]) {
          const int64_t last = (int64_t)t.pos0[s] + t.nRows[s] - 1;
          return fails(err, "embed: positions " + range(t.pos0[s], last) +
                                " of sequence " + std::to_string(s) + " are outside the " +
                                std::to_string(a[RF_EMBED_VOCAB]) +
                                " rows of the position embedding");
        }
      }
      return true;
    }
    case RF_OP_LAST_ROW: {
      handled = true;
      const int64_t cols = a[RF_LAST_ROW_COLS];
      if (a[RF_LAST_ROW_T] != t.rows) return fails(err, "last_row: rows differ from the batch's");
      if ((int64_t)a[RF_LAST_ROW_OUT] * SLOT_BYTES + t.n * cols * 4 > e.scratchBytes) {
        return fails(err, "last_row: the rows of " + std::to_string(t.n) +
                              " sequences exceed the scratch buffer");
      }
      return true;
    }
    case RF_OP_ATTENTION: {
      handled = true;
      const int T = a[RF_ATTENTION_T], layer = a[RF_ATTENTION_KV_LAYER];
      const int nHead = a[RF_ATTENTION_N_HEAD], nKV = a[RF_ATTENTION_N_HEAD_KV];
      const int hd = a[RF_ATTENTION_HEAD_DIM], vd = a[RF_ATTENTION_VALUE_DIM];
      if (t.kv.empty()) return fails(err, "attention needs a KV cache for every sequence");
      const KVCache& kv = *t.kv[0];
      if (T != t.rows) return fails(err, "attention: rows differ from the batch's");
      if (layer < 0 || layer >= kv.nLayers) return fails(err, "attention: KV layer out of range");
      if (nKV != kv.nHeadKV || hd != kv.headDim || vd != kv.valueDim) {
        return fails(err, "attention: head shape differs from the KV cache");
      }
      if (nHead % nKV) return fails(err, "attention: nHead must be a multiple of nHeadKV");
      if (hd > RF_MAX_HEAD_DIM || vd > RF_MAX_HEAD_DIM) {
        return fails(err, "attention: head dims above " + std::to_string(RF_MAX_HEAD_DIM) +
                              " are unsupported");
      }
      // The sequence table's launch runs plain causal attention (src/backends/hip/support.ts
      // keeps the variants of batched nodes on the CPU).
      if (a[RF_ATTENTION_WINDOW] != 0 || a[RF_ATTENTION_SOFTCAP] != 0 ||
          a[RF_ATTENTION_SINK_SLOT] != -1 || a[RF_ATTENTION_CAUSAL] != 1) {
        return fails(err, "attention: window, softcap, sinks and non-causal passes are not "
                          "supported in multi-sequence batches");
      }
      AttnArgs args{t.maxRows, 0, nHead, nKV, hd, vd, 0.f, t.maxEnd, nullptr};
      args.nSeqs = t.n;
      args.rowsAll = t.rows;
      const int64_t ws = attention_workspace_bytes(args, e.ctx->smCount, e.ctx->warpSize);
      if (ws > workspace) workspace = ws;
      return true;
    }
    default:
      return true;
  }
}

const int* seq_row_pos(const Exec& e) { return e.seqs ? e.seqs->rowPos : nullptr; }

hipError_t run_seq_op(const Exec& e, const Op& op, bool& handled) {
  const SeqTable& t = *e.seqs;
  const Context& c = *e.ctx;
  const int32_t* a = op.a;
  handled = op.code == RF_OP_ATTENTION || op.code == RF_OP_LAST_ROW;
  if (op.code == RF_OP_LAST_ROW) {
    return launch_gather_rows(c.stream, at<float>(c, a[RF_LAST_ROW_X]),
                              at<float>(c, a[RF_LAST_ROW_OUT]), t.lastRow, t.n,
                              a[RF_LAST_ROW_COLS]);
  }
  if (op.code != RF_OP_ATTENTION) return hipSuccess;
  const KVCache& kv = *t.kv[0];
  const int64_t kRow = (int64_t)kv.nHeadKV * kv.headDim, vRow = (int64_t)kv.nHeadKV * kv.valueDim;
  const int64_t kOff = a[RF_ATTENTION_KV_LAYER] * kv.layerElems();
  const int64_t vOff = kOff + (int64_t)kv.capacity * kRow;
  const hipError_t err =
      launch_kv_store_rows(c.stream, at<float>(c, a[RF_ATTENTION_K]), kRow,
                           at<float>(c, a[RF_ATTENTION_V]), vRow, t.rows, t.rowPos, t.rowSeq,
                           t.attn, kOff, vOff);
  if (err != hipSuccess) return err;
  AttnArgs args{t.maxRows,
                0,
                a[RF_ATTENTION_N_HEAD],
                a[RF_ATTENTION_N_HEAD_KV],
                a[RF_ATTENTION_HEAD_DIM],
                a[RF_ATTENTION_VALUE_DIM],
                fword(a[RF_ATTENTION_SCALE]),
                t.maxEnd,
                nullptr};
  args.seqs = t.attn;
  args.nSeqs = t.n;
  args.rowsAll = t.rows;
  args.kOff = kOff;
  args.vOff = vOff;
  return launch_attention(c.stream, c.warpSize, c.smCount, at<float>(c, a[RF_ATTENTION_Q]),
                          nullptr, nullptr, at<float>(c, a[RF_ATTENTION_OUT]), args,
                          c.workspace.ptr);
}

rf_status upload_seq_table(Context& c, SeqTable& t) {
  // rowPos[rows], rowSeq[rows], lastRow[n], then (8-aligned) AttnSeq[n].
  const int64_t ints = 2 * (int64_t)t.rows + t.n;
  const int64_t attnOff = (ints * 4 + 15) & ~(int64_t)15;
  const int64_t bytes = attnOff + (int64_t)t.n * (int64_t)sizeof(AttnSeq);
  rf_status st = ensure_buffer(c.seqs, bytes, c.stream, "sequence table");
  if (st != RF_OK) return st;
  c.seqHost.assign((size_t)bytes, 0);
  int32_t* rowPos = reinterpret_cast<int32_t*>(c.seqHost.data());
  int32_t* rowSeq = rowPos + t.rows;
  int32_t* lastRow = rowSeq + t.rows;
  AttnSeq* attn = reinterpret_cast<AttnSeq*>(c.seqHost.data() + attnOff);
  for (int s = 0; s < t.n; ++s) {
    for (int i = 0; i < t.nRows[s]; ++i) {
      rowPos[t.row0[s] + i] = t.pos0[s] + i;
      rowSeq[t.row0[s] + i] = s;
    }
    lastRow[s] = t.row0[s] + t.nRows[s] - 1;
    attn[s] = AttnSeq{t.row0[s], t.nRows[s], t.pos0[s], 0, t.kv.empty() ? nullptr : t.kv[s]->base};
  }
  char* d = static_cast<char*>(c.seqs.ptr);
  RF_CHECK(hipMemcpyAsync(d, c.seqHost.data(), (size_t)bytes, hipMemcpyHostToDevice, c.stream),
           bytes);
  t.rowPos = reinterpret_cast<const int*>(d);
  t.rowSeq = t.rowPos + t.rows;
  t.lastRow = t.rowSeq + t.rows;
  t.attn = reinterpret_cast<const AttnSeq*>(d + attnOff);
  return RF_OK;
}

void unfuse_seq_ops(std::vector<Op>& ops) {
  for (Op& op : ops) {
    op.kvWords = nullptr;
    op.kvStored = false;
  }
}

}  // namespace rf

using namespace rf;

extern "C" rf_status rf_exec_seqs(int32_t ctx, int32_t arena, const int32_t* seqs, int32_t nSeqs,
                                  const int32_t* program, int32_t words, const void* hostIn,
                                  int64_t inBytes, void* hostOut, int64_t outBytes,
                                  int64_t scratchBytes) {
  clear_error();
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.lock);
  if (nSeqs < 1 || !seqs) return fail(RF_ERR_INVALID, "rf_exec_seqs", "a batch needs sequences");
  SeqTable t;
  t.n = nSeqs;
  for (int s = 0; s < nSeqs; ++s) {
    const int32_t rows = seqs[3 * s], pos0 = seqs[3 * s + 1], kv = seqs[3 * s + 2];
    const std::string which = "sequence " + std::to_string(s);
    if (rows < 1 || pos0 < 0) {
      return fail(RF_ERR_INVALID, "rf_exec_seqs", which + ": rows must be positive, pos0 >= 0");
    }
    if ((kv != 0) != (seqs[2] != 0)) {
      return fail(RF_ERR_INVALID, "rf_exec_seqs", which + ": every sequence or none has a cache");
    }
    if (kv) {
      auto ki = r.kvs.find(kv);
      if (ki == r.kvs.end() || ki->second.ctx != ctx) {
        return fail(RF_ERR_HANDLE, "rf_exec_seqs", which + ": unknown KV cache for this context");
      }
      KVCache* k = &ki->second;
      const KVCache* k0 = t.kv.empty() ? k : t.kv[0];
      if (k->nLayers != k0->nLayers || k->capacity != k0->capacity ||
          k->nHeadKV != k0->nHeadKV || k->headDim != k0->headDim ||
          k->valueDim != k0->valueDim) {
        return fail(RF_ERR_INVALID, "rf_exec_seqs", which + ": its KV cache differs in shape");
      }
      if ((int64_t)pos0 + rows > k->capacity) {
        return fail(RF_ERR_INVALID, "rf_exec_seqs",
                    which + ": positions " + std::to_string(pos0) + ".." +
                        std::to_string((int64_t)pos0 + rows - 1) + " exceed KV capacity " +
                        std::to_string(k->capacity));
      }
      t.kv.push_back(k);
    }
    if ((int64_t)t.rows + rows > (1 << 30)) {
      return fail(RF_ERR_INVALID, "rf_exec_seqs", "too many rows");
    }
    t.row0.push_back(t.rows);
    t.nRows.push_back(rows);
    t.pos0.push_back(pos0);
    t.rows += rows;
    t.maxRows = std::max(t.maxRows, rows);
    t.maxEnd = std::max(t.maxEnd, pos0 + rows);
  }
  return exec_program(r, ctx, arena, 0, &t, program, words, hostIn, inBytes, hostOut, outBytes,
                      scratchBytes, 0);
}

extern "C" rf_status rf_kv_copy(int32_t from, int32_t to, int32_t positions) {
  clear_error();
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.lock);
  auto fi = r.kvs.find(from), ti = r.kvs.find(to);
  if (fi == r.kvs.end() || ti == r.kvs.end()) {
    return fail(RF_ERR_HANDLE, "rf_kv_copy", "unknown KV cache");
  }
  const KVCache& a = fi->second;
  const KVCache& b = ti->second;
  if (a.ctx != b.ctx || a.nLayers != b.nLayers || a.nHeadKV != b.nHeadKV ||
      a.headDim != b.headDim || a.valueDim != b.valueDim) {
    return fail(RF_ERR_INVALID, "rf_kv_copy", "the caches differ in context or shape");
  }
  const int most = std::min(a.capacity, b.capacity);
  if (positions < 0 || positions > most) {
    return fail(RF_ERR_INVALID, "rf_kv_copy",
                "positions " + std::to_string(positions) + " outside 0.." + std::to_string(most));
  }
  if (positions == 0 || from == to) return RF_OK;
  auto ci = r.contexts.find(a.ctx);
  if (ci == r.contexts.end()) return fail(RF_ERR_HANDLE, "rf_kv_copy", "unknown context");
  const Context& c = ci->second;
  RF_CHECK(hipSetDevice(c.device), 0);
  // Per layer: K rows [0, positions), then V rows; one strided copy of every layer for each.
  const size_t pa = (size_t)a.layerElems() * 2, pb = (size_t)b.layerElems() * 2;
  const size_t kBytes = (size_t)positions * a.nHeadKV * a.headDim * 2;
  const size_t vBytes = (size_t)positions * a.nHeadKV * a.valueDim * 2;
  RF_CHECK(hipMemcpy2DAsync(b.keys(0), pb, a.keys(0), pa, kBytes, (size_t)a.nLayers,
                            hipMemcpyDeviceToDevice, c.stream),
           kBytes * a.nLayers);
  RF_CHECK(hipMemcpy2DAsync(b.values(0), pb, a.values(0), pa, vBytes, (size_t)a.nLayers,
                            hipMemcpyDeviceToDevice, c.stream),
           vBytes * a.nLayers);
  RF_CHECK(hipStreamSynchronize(c.stream), 0);
  return RF_OK;
}
