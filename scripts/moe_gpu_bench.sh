#!/bin/bash
# GPU-machine bench of the HIP MoE FFN (issue 12): random small MoE models against dense models
# of the same active parameters, all Q4_0, ours only (no llama.cpp build):
#   mixtral  --shape small      (4 experts of 2816, 2 used)  vs llama --shape small-wide (FFN 5632)
#   qwen3moe --shape small      (4 experts of 1408, 2 used)  vs qwen3 --shape small      (FFN 2816)
# Run from a checkout whose native library scripts/llamacpp_gpu_session.sh already built (it sets
# up /tmp/rfdeno); the .device/ folder beside it holds the shared data.
# usage: bash scripts/moe_gpu_bench.sh [extra scripts/bench.ts flags, e.g. -d 0,1024]
set -o pipefail
R=$(pwd)
export PATH=/tmp/rfdeno:$PATH DENO_DIR=/tmp/rfdeno/deno_dir DENO_NO_PACKAGE_JSON=1
export ROCMFORGE_SHARED=$R/.device/shared
flags=(-A --no-config --no-lock --import-map "$R/.device/import_map.json" --node-modules-dir=none
  --cached-only)
vocab=$R/.device/shared/models/llama.cpp-vocab/ggml-vocab-llama-spm.gguf
extra=("$@")
mkdir -p /tmp/rfm
for m in "mixtral small" "llama small-wide" "qwen3moe small" "qwen3 small"; do
  set -- $m
  f=/tmp/rfm/$1-$2-Q4_0.gguf
  [ -f "$f" ] || deno run "${flags[@]}" scripts/make_synthetic_model.ts --arch "$1" --shape "$2" \
    --type Q4_0 -o "$f" --vocab "$vocab" >/dev/null || exit 1
  echo "== $1 --shape $2 Q4_0"
  timeout 60 deno run "${flags[@]}" scripts/bench.ts -m "$f" --backend hip -p 512 -n 128 -r 3 \
    "${extra[@]}" 2>&1 | grep -vE "^\s*$"
done
