// rf_replay.cpp: two other ways for rf_exec to run a validated program: as a captured graph
// replayed with few launches (small batches, ROCMFORGE_GPU_GRAPH=1), and with an event around
// every op to profile it (ROCMFORGE_PROFILE=1).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "rf_exec_internal.h"

namespace rf {

constexpr size_t GRAPH_CACHE = 16;

// ROCMFORGE_GPU_GRAPH=1 turns graph replay on for small batches. Off by default for now: each
// call re-captures the program (pos0 is a kernel argument), so the host capture and update time
// is not overlapped with GPU work. Measured on an H200 (tg128): TinyLlama Q4_0 393 -> 496
// tokens/s, 7B Q4_0 216 -> 222; 7B Q4_K was 5% slower before the attention split fix and has not
// been measured since.
bool graphs_enabled() {
  static const bool on = [] {
    const char* v = getenv("ROCMFORGE_GPU_GRAPH");
    return v && strcmp(v, "1") == 0;
  }();
  return on;
}

// Captures the ops into a graph, updates (or instantiates) the cached executable graph of this
// program and launches it; downloads land in c.staging and are copied to hostOut afterwards.
rf_status run_graph(const Exec& e, Context& c, const std::vector<Op>& ops,
                    const int32_t* program, int32_t words, void* hostOut) {
  char* staging = static_cast<char*>(c.staging.ptr);
  QuantState qs;
  RF_CHECK(hipStreamBeginCapture(c.stream, hipStreamCaptureModeRelaxed), 0);
  for (const Op& op : ops) {
    const hipError_t err = run_op(e, op, nullptr, staging, qs);
    if (err != hipSuccess) {
      hipGraph_t broken = nullptr;
      (void)hipStreamEndCapture(c.stream, &broken);
      if (broken) (void)hipGraphDestroy(broken);
      return launch_failed(c, err, op);
    }
  }
  hipGraph_t graph = nullptr;
  RF_CHECK(hipStreamEndCapture(c.stream, &graph), 0);
  std::vector<int32_t> key(program, program + words);
  auto it = c.graphs.find(key);
  if (it != c.graphs.end() && !rf_graph_update(it->second, graph)) {
    (void)hipGetLastError();
    (void)hipGraphExecDestroy(it->second);
    c.graphs.erase(it);
    it = c.graphs.end();
  }
  if (it == c.graphs.end()) {
    if (c.graphs.size() >= GRAPH_CACHE) {
      for (const auto& ge : c.graphs) (void)hipGraphExecDestroy(ge.second);
      c.graphs.clear();
    }
    hipGraphExec_t exec = nullptr;
    const hipError_t err = rf_graph_instantiate(&exec, graph);
    if (err != hipSuccess) {
      (void)hipGraphDestroy(graph);
      RF_CHECK(err, 0);
    }
    it = c.graphs.emplace(std::move(key), exec).first;
  }
  const hipError_t err = hipGraphLaunch(it->second, c.stream);
  (void)hipGraphDestroy(graph);
  RF_CHECK(err, 0);
  if (e.outBytes > 0) {
    RF_CHECK(hipMemcpyAsync(hostOut, staging, (size_t)e.outBytes, hipMemcpyDeviceToHost,
                            c.stream),
             e.outBytes);
  }
  RF_CHECK(hipStreamSynchronize(c.stream), 0);
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
