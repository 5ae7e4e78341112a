// rf_replay.cpp: two other ways for rf_exec to run a validated program: as a captured graph
// replayed with one launch (small batches, unless ROCMFORGE_GPU_GRAPH=0), and with an event
// around every op to profile it (ROCMFORGE_PROFILE=1).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "../kernels/rf_kernels.h"
#include "rf_exec_internal.h"

namespace rf {

constexpr size_t GRAPH_CACHE = 16;

// Graph replay of small batches is on unless ROCMFORGE_GPU_GRAPH=0. A decode step is replayed
// without capturing: the kernels read pos0 from device memory and attention is planned for a
// span that holds ATTN_SPAN_STEP steps, so the host only copies pos0 and launches the graph.
bool graphs_enabled() {
  static const bool on = [] {
    const char* v = getenv("ROCMFORGE_GPU_GRAPH");
    return !(v && strcmp(v, "0") == 0);
  }();
  return on;
}

namespace {

// The program words and every address its launches read: two runs with equal keys capture the
// same graph up to pos0 and the attention spans.
std::vector<int64_t> graph_key(const Exec& e, const Context& c, const int32_t* program,
                               int32_t words) {
  std::vector<int64_t> key(program, program + words);
  for (const void* p : {c.scratch.ptr, c.workspace.ptr, c.staging.ptr, c.params.ptr}) {
    key.push_back((int64_t)reinterpret_cast<intptr_t>(p));
  }
  key.push_back(e.arena ? (int64_t)reinterpret_cast<intptr_t>(e.arena->base) : 0);
  if (e.kv) {
    const KVCache& kv = *e.kv;
    key.insert(key.end(), {(int64_t)reinterpret_cast<intptr_t>(kv.base), kv.nLayers, kv.capacity,
                           kv.nHeadKV, kv.headDim, kv.valueDim});
  }
  return key;
}

// The span each attention op of the program is planned for at this pos0.
std::vector<int32_t> attention_spans(const Exec& e, const std::vector<Op>& ops) {
  std::vector<int32_t> spans;
  for (const Op& op : ops) {
    if (op.code == RF_OP_ATTENTION) {
      spans.push_back(attention_replay_span(e, op));
    }
  }
  return spans;
}

// Records an unavailable capture or replay step for the caller (nothing was run).
rf_status unavailable(hipError_t err, hipError_t& unsupported) {
  (void)hipGetLastError();
  unsupported = err;
  return RF_OK;
}

}  // namespace

rf_status run_graph(const Exec& e, Context& c, const std::vector<Op>& ops,
                    const int32_t* program, int32_t words, void* hostOut,
                    hipError_t& unsupported) {
  unsupported = hipSuccess;
  char* staging = static_cast<char*>(c.staging.ptr);
  std::vector<int64_t> key = graph_key(e, c, program, words);
  std::vector<int32_t> spans = attention_spans(e, ops);
  auto it = c.graphs.find(key);
  if (it == c.graphs.end() || it->second.spans != spans || launch_fault_armed()) {
    hipError_t err = hipStreamBeginCapture(c.stream, hipStreamCaptureModeRelaxed);
    if (err != hipSuccess) return unavailable(err, unsupported);
    QuantState qs;
    for (const Op& op : ops) {
      err = run_op(e, op, nullptr, staging, qs);
      if (err != hipSuccess) {
        hipGraph_t broken = nullptr;
        (void)hipStreamEndCapture(c.stream, &broken);
        if (broken) (void)hipGraphDestroy(broken);
        return launch_failed(c, err, op);
      }
    }
    hipGraph_t graph = nullptr;
    err = hipStreamEndCapture(c.stream, &graph);
    if (err != hipSuccess) {
      if (graph) (void)hipGraphDestroy(graph);
      return unavailable(err, unsupported);
    }
    if (it != c.graphs.end() && !rf_graph_update(it->second.exec, graph)) {
      (void)hipGetLastError();  // a new topology (split-KV chunks appear): instantiate again
      (void)hipGraphExecDestroy(it->second.exec);
      c.graphs.erase(it);
      it = c.graphs.end();
    }
    if (it == c.graphs.end()) {
      if (c.graphs.size() >= GRAPH_CACHE) {
        for (const auto& ge : c.graphs) (void)hipGraphExecDestroy(ge.second.exec);
        c.graphs.clear();
      }
      hipGraphExec_t exec = nullptr;
      err = rf_graph_instantiate(&exec, graph);
      (void)hipGraphDestroy(graph);
      if (err != hipSuccess) return unavailable(err, unsupported);
      it = c.graphs.emplace(std::move(key), ReplayGraph{exec, spans}).first;
    } else {
      (void)hipGraphDestroy(graph);
      it->second.spans = std::move(spans);
    }
  }
  RF_CHECK(hipMemcpyAsync(c.params.ptr, &e.pos0, sizeof(int32_t), hipMemcpyHostToDevice,
                          c.stream),
           sizeof(int32_t));
  const hipError_t err = hipGraphLaunch(it->second.exec, c.stream);
  if (err != hipSuccess) return unavailable(err, unsupported);
  if (e.outBytes > 0) {
    RF_CHECK(hipMemcpyAsync(c.hostStaging, staging, (size_t)e.outBytes, hipMemcpyDeviceToHost,
                            c.stream),
             e.outBytes);
  }
  RF_CHECK(hipStreamSynchronize(c.stream), 0);
  if (e.outBytes > 0) memcpy(hostOut, c.hostStaging, (size_t)e.outBytes);
  return RF_OK;
}

rf_status ensure_host_staging(Context& c, int64_t bytes) {
  if (bytes <= c.hostStagingBytes) return RF_OK;
  const int64_t want = bytes + bytes / 8;
  if (c.hostStaging) {
    RF_CHECK(hipStreamSynchronize(c.stream), 0);
    RF_CHECK(hipHostFree(c.hostStaging), 0);
    c.hostStaging = nullptr;
    c.hostStagingBytes = 0;
  }
  RF_CHECK(hipHostMalloc(&c.hostStaging, (size_t)want, hipHostMallocDefault), want);
  c.hostStagingBytes = want;
  return RF_OK;
}

// ROCMFORGE_PROFILE=1: times every op of direct (non-graph) runs with events.
bool profile_enabled() {
  static const bool on = [] {
    const char* v = getenv("ROCMFORGE_PROFILE");
    return v && strcmp(v, "1") == 0;
  }();
  return on;
}

namespace {

// Per-op GPU times of the small-batch runs since the last report.
struct Profile {
  std::map<std::string, std::pair<double, int64_t>> byOp;  // ms, count
  double gpuMs = 0, hostMs = 0;
  int runs = 0;
};

std::string profile_key(const Op& op) {
  std::string k = op_name(op.code);
  if (op.addWords) k = "add+" + k;
  if (op.quantType >= 0) k += "+q8";
  if (op.pairWords) k += "+rope";
  if (op.kvWords) k += "+kv_store";
  if (op.kvStored) k += " (K/V stored by the ropes)";
  if (op.fusedAway) k += " (fused into a neighbour)";
  if (op.nParts > 1) k += " +" + std::to_string(op.nParts - 1) + " more products";
  if (op.code == RF_OP_MATMUL) {
    k += " K=" + std::to_string(op.a[RF_MATMUL_K]) + " N=" + std::to_string(op.a[RF_MATMUL_N]) +
         " type=" + std::to_string(op.a[RF_MATMUL_W_TYPE]);
  }
  return k;
}

}  // namespace

rf_status run_profiled(const Exec& e, Context& c, const std::vector<Op>& ops, void* hostOut,
                       int maxRows) {
  static Profile prof;
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<hipEvent_t> ev(ops.size() + 1);
  for (auto& x : ev) RF_CHECK(hipEventCreate(&x), 0);
  RF_CHECK(hipEventRecord(ev[0], c.stream), 0);
  QuantState qs;
  for (size_t i = 0; i < ops.size(); ++i) {
    const hipError_t err = run_op(e, ops[i], static_cast<uint8_t*>(hostOut), nullptr, qs);
    if (err != hipSuccess) {
      const rf_status st = launch_failed(c, err, ops[i]);
      for (auto& x : ev) (void)hipEventDestroy(x);
      return st;
    }
    RF_CHECK(hipEventRecord(ev[i + 1], c.stream), 0);
  }
  RF_CHECK(hipStreamSynchronize(c.stream), 0);
  const auto t1 = std::chrono::steady_clock::now();
  if (maxRows <= GRAPH_MAX_ROWS) {
    for (size_t i = 0; i < ops.size(); ++i) {
      float ms = 0;
      RF_CHECK(hipEventElapsedTime(&ms, ev[i], ev[i + 1]), 0);
      auto& slot = prof.byOp[profile_key(ops[i])];
      slot.first += ms;
      slot.second += 1;
    }
    float span = 0;
    RF_CHECK(hipEventElapsedTime(&span, ev[0], ev[ops.size()]), 0);
    prof.gpuMs += span;
    prof.hostMs += std::chrono::duration<double, std::milli>(t1 - t0).count();
    if (++prof.runs == 128) {
      fprintf(stderr, "rf_profile: %d runs, gpu span %.3f ms/run, host %.3f ms/run\n", prof.runs,
              prof.gpuMs / prof.runs, prof.hostMs / prof.runs);
      for (const auto& kv : prof.byOp) {
        fprintf(stderr, "rf_profile:   %-40s %8.4f ms/run  %6.2f us/op  x%lld/run\n",
                kv.first.c_str(), kv.second.first / prof.runs,
                1000.0 * kv.second.first / (double)kv.second.second,
                (long long)(kv.second.second / prof.runs));
      }
      prof = Profile();
    }
  }
  for (auto& x : ev) (void)hipEventDestroy(x);
  return RF_OK;
}

}  // namespace rf
