// rf_exec_internal.h: the pieces of rf_exec shared by its three ways of running a validated
// program: direct launches (rf_graph.cpp), graph capture and replay, and the per-op profiler
// (rf_replay.cpp). Not part of the ABI.
#pragma once
#include <stdint.h>

#include <string>
#include <vector>

#include "../kernels/rf_kernels.h"
#include "rf_internal.h"

namespace rf {

struct OpInfo;
struct SeqTable;  // a multi-sequence batch (rf_seqs.cpp)

struct Op {
  int code;
  const int32_t* a;  // operand words
  int index;
  const OpInfo* info;  // the op table entry (rf_schema.gen.h)
  // Fusion with neighbours (plan_fusion, rf_fusion.cpp; none with ROCMFORGE_GPU_FUSE=0):
  const int32_t* addWords = nullptr;  // rms_norm: the preceding add's words, done by this launch
  const int32_t* pairWords = nullptr;  // rope: the next rope's words, rotated by this launch
  const int32_t* kvWords = nullptr;    // rope pair: the attention whose K/V store it does
  bool kvStored = false;               // attention: the rope pair before it stored K and V
  bool fusedAway = false;  // add / rope / matmul: done by the next rms_norm / the previous
                           // rope / the first product of its input
  // matmul: the following products of the same input and weight type (a layer's k and v after
  // q; up after gate) that this launch computes too; nParts counts this one.
  const int32_t* partWords[MATMUL_MAX_PARTS - 1] = {};
  int nParts = 1;
  int quantType = -1;  // rms_norm / swiglu: the next product's weight type, whose int8 input
                       // (quantT rows of quantK) this launch writes too
  int quantT = 0, quantK = 0;
};

// The operand words of a matmul's part i of op.nParts (part 0: its own).
inline const int32_t* part_words(const Op& op, int i) {
  return i == 0 ? op.a : op.partWords[i - 1];
}

// Everything rf_exec needs, looked up once under the registry lock.
struct Exec {
  Context* ctx;
  Arena* arena;
  KVCache* kv;
  int64_t scratchBytes, inBytes, outBytes;
  const uint8_t* hostIn;
  int pos0;
  // Replayed graphs: the device copy of pos0 the rope, KV store and attention kernels read
  // (null: they take pos0 as an argument).
  const int* pos0d;
  // A multi-sequence batch (rf_exec_seqs): rope, position embeddings, attention and last_row
  // read each sequence's rows, positions and KV cache here (kv is then null).
  const SeqTable* seqs = nullptr;
};

// What the workspace holds after a quantized product: its input rounded to int8 (slot, rows,
// length, act_quant_format). Cleared by every other op, so only consecutive products that read
// the same input (q/k/v, gate/up) share one rounding.
struct QuantState {
  int32_t slot = -1, T = 0, K = 0, format = 0;
};

// Marks the ops whose work a neighbour's launch does (the Op fusion fields); nothing with
// ROCMFORGE_GPU_FUSE=0 (rf_fusion.cpp).
void plan_fusion(std::vector<Op>& ops);
// The name of an opcode, for messages.
const char* op_name(int op);
// Runs one op; downloads go to `hostOut`, or to the device buffer `staging` when not null.
hipError_t run_op(const Exec& e, const Op& op, uint8_t* hostOut, char* staging, QuantState& qs);
// The elementwise, slice and LayerNorm ops (rf_simple_ops.cpp): their checks beyond the op
// table's (false with `err` set), and their launches (hipSuccess for any other opcode).
bool check_simple_op(const Op& op, std::string& err);
hipError_t run_simple_op(const Exec& e, const Op& op);
// The moe op (rf_moe.cpp): its checks (false with `err` set; raises `workspace` to what its
// launch needs) and its launch.
bool check_moe_op(const Exec& e, const Op& op, std::string& err, int64_t& workspace);
hipError_t run_moe_op(const Exec& e, const Op& op);
// The attention op (rf_attention.cpp): its checks beyond the op table's (false with `err` set;
// raises `workspace` to the bytes it needs), the span a replayed graph plans it for at e.pos0,
// and its launch.
bool check_attention(const Exec& e, const Op& op, std::string& err, int64_t& workspace);
int attention_replay_span(const Exec& e, const Op& op);
hipError_t run_attention(const Exec& e, const Op& op);
// Records a failed launch of `op` (after draining the stream) and returns its status.
rf_status launch_failed(const Context& c, hipError_t err, const Op& op);

// Largest batch run as a replayed graph (decode steps and small batches).
constexpr int GRAPH_MAX_ROWS = 8;
// False when ROCMFORGE_GPU_GRAPH=0 (graph replay of small batches is on by default).
bool graphs_enabled();
// Runs the ops as a graph: replays the cached executable graph of this program and these
// buffers when its attention spans still hold (only pos0 is written, to e.pos0d), else captures
// the ops and updates (or instantiates) it. Downloads land in c.staging and c.hostStaging (at
// least e.outBytes each) and are copied to hostOut afterwards; synchronizes the stream. When
// capture or replay itself is unavailable, sets `unsupported` to its error, having run nothing,
// so the caller can launch the ops directly.
rf_status run_graph(const Exec& e, Context& c, const std::vector<Op>& ops, const int32_t* program,
                    int32_t words, void* hostOut, hipError_t& unsupported);
// Grows c.hostStaging (pinned) to at least `bytes`.
rf_status ensure_host_staging(Context& c, int64_t bytes);
// True when ROCMFORGE_PROFILE=1.
bool profile_enabled();
// Runs the ops directly with an event around each; every 128 small-batch runs prints the GPU
// time per op kind, the GPU span and the host time per run to stderr. Synchronizes the stream.
rf_status run_profiled(const Exec& e, Context& c, const std::vector<Op>& ops, void* hostOut,
                       int maxRows);

// rf_exec and rf_exec_seqs (registry lock held): validates and runs a program; `seqs`, when not
// null, is the multi-sequence batch it runs (kv is then 0).
rf_status exec_program(Registry& r, int32_t ctx, int32_t arena, int32_t kv, SeqTable* seqs,
                       const int32_t* program, int32_t words, const void* hostIn, int64_t inBytes,
                       void* hostOut, int64_t outBytes, int64_t scratchBytes, int32_t pos0);
// Multi-sequence batches (rf_seqs.cpp). check_seq_op: an op's checks against the batch's
// sequences (false with `err` set); `handled`: no other check applies. seq_row_pos: the device
// table of row positions (null without a batch). run_seq_op: the launches of attention and
// last_row of a batch (`handled` false for any other op). upload_seq_table: copies the batch's
// tables to the device before the launches. unfuse_seq_ops: undoes the fusions a batch cannot
// take (a rope pair storing one cache's K and V).
bool check_seq_op(const Exec& e, const Op& op, std::string& err, int64_t& workspace,
                  bool& handled);
const int* seq_row_pos(const Exec& e);
hipError_t run_seq_op(const Exec& e, const Op& op, bool& handled);
rf_status upload_seq_table(Context& c, SeqTable& t);
void unfuse_seq_ops(std::vector<Op>& ops);

}  // namespace rf
