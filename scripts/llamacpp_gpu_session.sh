#!/bin/bash
# One GPU-machine session for issue 13 (the machine has no Deno, Node or registry): run from the
# repository root with the git-ignored .device/ folder carried beside it, holding
#   deno.xz               the Deno binary (xz -9 of node_modules/@deno/linux-x64-glibc/deno)
#   zod_deno_dir.tar.xz   a DENO_DIR with the one npm package the GPU paths import (zod)
#   import_map.json       {"imports":{"zod":"npm:zod@4.6.7"}}
#   llama-gpu-src.tar.xz  sh ../shared/ref/llamacpp_assets.sh gpu-src .device/llama-gpu-src.tar.xz
#   shared/               the test data (../shared: models, goldens)
#   old/attention.hip     optional: the previous attention kernel, built beside for "before"
#
# usage: bash scripts/llamacpp_gpu_session.sh [tests] [bench] [llama] [old] [variants]
#   (default: all): tests = GPU tests; bench = ours at -p 512 -n 128 -d 0,4096 on TinyLlama and
#   7B Q4_0 (with llama = --vs-llamacpp); old = the same on .device/old/attention.hip; variants =
#   the wmma prefill kernel (ROCMFORGE_FA_MMA=0) and plain launches instead of graph replay
#   (ROCMFORGE_GPU_GRAPH=0), tests included;
#   decode = tg128 at depth 0 and 4096 with graph replay, with plain launches and unfused
#   (ROCMFORGE_GPU_FUSE=0);
#   profile = per-op GPU time of decode (ROCMFORGE_PROFILE=1) at depth 0 and 4096;
#   serve = deno task bench:server on HIP (1, 4, 8, 32 streams of 64 tokens) on the Q4_0 models
#   (RF_MODELS: which synthetic shapes to make, default "tinyllama llama7b"); with llama, beside
#   llama-server -np 32 on the same file (the llama.cpp build includes it)
# Writes logs and JSON rows under $OUT (default /tmp/rf-out).
set -o pipefail
R=$(pwd)
OUT=${OUT:-/tmp/rf-out}
mkdir -p "$OUT" /tmp/rfdeno /tmp/rfm
phases=${*:-tests bench llama old variants}
t() { echo "[$(date -u +%T) +${SECONDS}s] $*"; }
has() { [[ " $phases " == *" $1 "* ]]; }

[ -x /tmp/rfdeno/deno ] || xz -dc .device/deno.xz >/tmp/rfdeno/deno
chmod +x /tmp/rfdeno/deno
[ -d /tmp/rfdeno/deno_dir ] || tar -xJf .device/zod_deno_dir.tar.xz -C /tmp/rfdeno
export PATH=/tmp/rfdeno:$PATH DENO_DIR=/tmp/rfdeno/deno_dir DENO_NO_PACKAGE_JSON=1
export ROCMFORGE_SHARED=$R/.device/shared
flags=(-A --no-config --no-lock --import-map "$R/.device/import_map.json" --node-modules-dir=none
  --cached-only)
drun() { deno run "${flags[@]}" "$@"; }
dtest() { timeout "${RF_TEST_TIMEOUT:-200}" deno test "${flags[@]}" --no-check "$@"; }
nvidia-smi --query-gpu=name,memory.total,clocks.sm,clocks.mem --format=csv,noheader

if has llama; then
  t "llama.cpp GPU build in the background"
  RF_BUILD_JOBS=${RF_BUILD_JOBS:-12} setsid nohup nice -n 5 sh scripts/llamacpp_gpu.sh build \
    >"$OUT/llama_build.log" 2>&1 &
fi
if has bench || has profile || has decode || has serve; then
  vocab=$R/.device/shared/models/llama.cpp-vocab/ggml-vocab-llama-spm.gguf
  (for s in ${RF_MODELS:-tinyllama llama7b}; do
    [ -f /tmp/rfm/$s-Q4_0.gguf ] || drun scripts/make_synthetic_model.ts --shape $s --type Q4_0 \
      -o /tmp/rfm/$s-Q4_0.gguf --vocab "$vocab" >/dev/null
  done) &
  models=$!
fi

t "native build (new)"
drun scripts/build_native.ts --target cuda --cuda-arch sm_90 --jobs 8 2>&1 | tail -n 5 &
newb=$!
if has old && [ -f .device/old/attention.hip ]; then
  rm -rf /tmp/old && mkdir -p /tmp/old
  tar -C "$R" --exclude=./.device --exclude=./build -cf - . | tar -C /tmp/old -xf -
  cp .device/old/attention.hip /tmp/old/kernels/attention.hip
  rm -f /tmp/old/kernels/attention_flash.h
  (cd /tmp/old && drun scripts/build_native.ts --target cuda --cuda-arch sm_90 --jobs 4 2>&1 |
    tail -n 3) &
  oldb=$!
fi
wait $newb || { t "native build failed"; exit 1; }
t "native build done"

if has tests; then
  dtest tests/hip_*_test.ts tests/conformance*_test.ts src/backends/hip/*_test.ts 2>&1 | tee "$OUT/tests.log" |
    grep -E "errors per step|FAILED|failed|passed|error:" | head -n 60
  if has variants; then
    t "attention tests on the wmma prefill kernel"
    ROCMFORGE_FA_MMA=0 dtest tests/hip_attention_long_test.ts 2>&1 | tee "$OUT/tests_wmma.log" |
      grep -E "errors per step|FAILED|failed|passed|error:"
    t "attention and model tests with plain launches (ROCMFORGE_GPU_GRAPH=0)"
    ROCMFORGE_GPU_GRAPH=0 dtest tests/hip_attention_long_test.ts tests/hip_model_test.ts 2>&1 |
      tee "$OUT/tests_plain.log" | grep -E "errors per step|FAILED|failed|passed|error:"
  fi
  t "tests done"
fi

if has bench; then
  wait $models
  [ -n "$oldb" ] && wait $oldb
  for m in tinyllama llama7b; do
    f=/tmp/rfm/$m-Q4_0.gguf
    if [ -n "$oldb" ] && [ -f /tmp/old/build/native/cuda/librocmforge_hip.so ]; then
      t "bench old $m"
      ROCMFORGE_HIP_LIB=/tmp/old/build/native/cuda/librocmforge_hip.so timeout 120 deno run "${flags[@]}" scripts/bench.ts \
        -m $f --backend hip -p 512 -n 128 -d 0,4096 -r 3 --json >"$OUT/old_$m.json" 2>&1
      tail -c 3000 "$OUT/old_$m.json" | grep -E '"test"|tokens_per_s"'
    fi
    vs=""
    has llama && vs=--vs-llamacpp
    t "bench new $m $vs"
    drun scripts/bench.ts -m $f --backend hip -p 512 -n 128 -d 0,4096 -r 3 $vs \
      2>&1 | tee "$OUT/new_$m.txt"
    if has variants; then
      t "bench $m: wmma prefill kernel (ROCMFORGE_FA_MMA=0)"
      ROCMFORGE_FA_MMA=0 drun scripts/bench.ts -m $f --backend hip -p 512 -n 0 -d 0,4096 -r 3 \
        2>&1 | tee -a "$OUT/new_$m.txt"
      t "bench $m: plain launches (ROCMFORGE_GPU_GRAPH=0)"
      ROCMFORGE_GPU_GRAPH=0 drun scripts/bench.ts -m $f --backend hip -p 0 -n 128 -d 0,4096 -r 3 \
        2>&1 | tee -a "$OUT/new_$m.txt"
    fi
  done
fi
if has decode; then
  wait $models
  for m in tinyllama llama7b; do
    t "decode $m: graph replay (default), then plain launches (ROCMFORGE_GPU_GRAPH=0)"
    drun scripts/bench.ts -m /tmp/rfm/$m-Q4_0.gguf --backend hip -p 0 -n 128 -d 0,4096 -r 3 \
      2>&1 | tee "$OUT/decode_$m.txt"
    ROCMFORGE_GPU_GRAPH=0 drun scripts/bench.ts -m /tmp/rfm/$m-Q4_0.gguf --backend hip -p 0 \
      -n 128 -d 0,4096 -r 3 2>&1 | tee -a "$OUT/decode_$m.txt"
    t "decode $m: unfused launches (ROCMFORGE_GPU_FUSE=0), graph replay"
    ROCMFORGE_GPU_FUSE=0 drun scripts/bench.ts -m /tmp/rfm/$m-Q4_0.gguf --backend hip -p 0 \
      -n 128 -d 0,4096 -r 3 2>&1 | tee -a "$OUT/decode_$m.txt"
  done
fi
if has profile; then
  wait $models
  for m in tinyllama llama7b; do
    t "decode profile $m (each block: the last 128 decode steps)"
    ROCMFORGE_PROFILE=1 drun scripts/bench.ts -m /tmp/rfm/$m-Q4_0.gguf --backend hip -p 0 \
      -n 128 -d 0,4096 -r 1 2>&1 | tee "$OUT/profile_$m.txt" | grep -E "rf_profile|tg128"
  done
fi
if has llama; then
  tail -n 30 "$OUT/llama_build.log" >"$OUT/llama_build_tail.log" 2>/dev/null
fi
if has serve; then
  wait $models
  side=()
  has llama && side=(--llama-server "$(sh scripts/llamacpp_gpu.sh server | tail -n 1)")
  for m in ${RF_MODELS:-tinyllama llama7b}; do
    t "bench:server $m Q4_0 on HIP ${side[*]}"
    timeout "${RF_SERVE_TIMEOUT:-300}" deno run "${flags[@]}" scripts/bench_server.ts \
      -m /tmp/rfm/$m-Q4_0.gguf --backend hip --streams 1,4,8,32 -n 64 "${side[@]}" 2>&1 |
      tee "$OUT/serve_$m.log"
  done
  t "serve done"
fi
t "session done"

