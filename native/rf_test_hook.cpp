// rf_test_hook.cpp: rf_test_fail_launch, a test hook that makes chosen kernel launches fail
// the way a real launch failure does (an empty grid), so tests can check that every failed
// launch reaches the caller as an error instead of silently skipping work.
#include <atomic>

#include "../kernels/rf_kernels.h"
#include "rf_internal.h"

namespace {
std::atomic<int32_t> g_fault_point{0};
std::atomic<int32_t> g_fault_count{0};
}  // namespace

namespace rf {

bool take_launch_fault(int32_t point) {
  if (g_fault_point.load() != point) return false;
  int32_t n = g_fault_count.load();
  while (n > 0 && !g_fault_count.compare_exchange_weak(n, n - 1)) {
  }
  return n > 0;
}

bool launch_fault_armed() { return g_fault_count.load() > 0; }

}  // namespace rf

extern "C" rf_status rf_test_fail_launch(int32_t point, int32_t count) {
  rf::clear_error();
  if (point < 0 || point > RF_FAULT_ACT_QUANT || count < 0) {
    return rf::fail(RF_ERR_INVALID, "rf_test_fail_launch", "unknown fault point or bad count");
  }
  g_fault_count.store(0);
  g_fault_point.store(point);
  g_fault_count.store(count);
  return RF_OK;
}
