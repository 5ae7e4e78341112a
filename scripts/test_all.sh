#!/usr/bin/env bash
# The project's whole check, run by `npm test` (and by .ci/run): format, lint, type check,
# native builds (AMD with hipcc, NVIDIA with nvcc, each when its compiler is present; the CPU
# kernels with cc on x86-64), the
# WebAssembly reproducibility check, the Deno test suite, and the npm package's tests under
# Node. Prints `N passed, N failed` as its last line and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
DENO="${DENO:-node_modules/.bin/deno}"
passed=0
failed=0
skipped=0
step() { # step NAME CMD...: a build/check step counts as one test
  local name=$1; shift
  echo "== $name"
  if "$@"; then passed=$((passed + 1)); echo "-- ok: $name"; else failed=$((failed + 1)); echo "-- FAILED: $name"; fi
}
# Deno installs the import map's npm packages into node_modules first: a fresh clone's first
# `deno task` otherwise panics while it sets that folder up (Deno 2.9.6).
echo "== deno install"
"$DENO" install >/dev/null 2>&1 || "$DENO" install
# llama.cpp's source tree (tokenizer vectors, grammar tests, templates) for the tests that use it.
if [ -z "${ROCMFORGE_LLAMACPP:-}" ] && [ -f ../shared/ref/llamacpp_assets.sh ]; then
  tree=$(sh ../shared/ref/llamacpp_assets.sh 2>/dev/null | tail -1)
  if [ -f "$tree/CMakeLists.txt" ]; then export ROCMFORGE_LLAMACPP="$tree"; else
    echo "skip: llama.cpp source tree could not be unpacked; tests that need it skip"; fi
fi
step "deno fmt --check" "$DENO" fmt --check
step "deno lint" "$DENO" lint
step "deno check" "$DENO" task -q check
if command -v hipcc >/dev/null 2>&1; then
  step "native build (AMD: hipcc + clang-19, every default target)" "$DENO" task -q build:native --target amd
else
  echo "skip: hipcc not installed; the AMD native build is not checked here (CI installs it)"
fi
if command -v nvcc >/dev/null 2>&1; then
  step "native build (NVIDIA, nvcc)" "$DENO" task -q build:native --target cuda
else
  echo "skip: nvcc not installed; the NVIDIA native build is not checked here"
fi
if [ "$(uname -m)" = x86_64 ] && command -v cc >/dev/null 2>&1; then
  # before the tests: the CPU suites run on the native kernels where this library exists
  step "native build (CPU: x86-64 AVX2 / AVX512-VNNI, cc)" "$DENO" task -q build:native --target cpu
else
  echo "skip: no x86-64 C compiler; the native CPU kernels are not built (tests run on WebAssembly)"
fi
if ! command -v clang >/dev/null 2>&1 || ! command -v wasm-ld >/dev/null 2>&1; then
  echo "skip: clang/wasm-ld not installed; the committed wasm kernels are not rebuilt and compared here (apt-get install clang lld; CI installs them)"
elif [ -f scripts/build_wasm.ts ]; then
  step "wasm kernels reproducible" "$DENO" task -q build:wasm --check
fi
step "generated op/type tables current" "$DENO" task -q gen:tables --check

echo "== deno test"
log=$(mktemp)
"$DENO" task -q test 2>&1 | tee "$log"
line=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '(ok|FAILED) \| [0-9]+ passed' | tail -1)
if [ -z "$line" ]; then
  echo "deno test printed no summary"; failed=$((failed + 1))
else
  p=$(echo "$line" | sed -E 's/.*\| ([0-9]+) passed.*/\1/')
  f=$(echo "$line" | sed -E 's/.*\| ([0-9]+) failed.*/\1/')
  passed=$((passed + p)); failed=$((failed + f))
  if echo "$line" | grep -qE '[0-9]+ ignored'; then
    skipped=$((skipped + $(echo "$line" | sed -E 's/.*\| ([0-9]+) ignored.*/\1/')))
  fi
fi

if [ -f scripts/build_npm.ts ]; then
  echo "== npm package: build, install into a temporary project, Node tests"
  nlog=$(mktemp)
  "$DENO" task -q build:npm --test 2>&1 | tee "$nlog"
  np=$(grep -E '^# pass [0-9]+' "$nlog" | tail -1 | awk '{print $3}')
  nf=$(grep -E '^# fail [0-9]+' "$nlog" | tail -1 | awk '{print $3}')
  ns=$(grep -E '^# skipped [0-9]+' "$nlog" | tail -1 | awk '{print $3}')
  skipped=$((skipped + ${ns:-0}))
  if [ -z "$np" ]; then echo "node tests printed no summary"; failed=$((failed + 1)); else
    passed=$((passed + np)); failed=$((failed + nf)); fi
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
