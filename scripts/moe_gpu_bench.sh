#!/bin/bash
# GPU-machine bench of the architectures on HIP (issue 12): random-weight models of the small
# shape (8 layers of 1024), ours only (no llama.cpp build). The default list is the MoE pairs
# against dense models of the same active parameters, all Q4_0:
#   mixtral  --shape small      (4 experts of 2816, 2 used)  vs llama --shape small-wide (FFN 5632)
#   qwen3moe --shape small      (4 experts of 1408, 2 used)  vs qwen3 --shape small      (FFN 2816)
# RF_BENCH_MODELS replaces it: "arch shape type" entries separated by commas, e.g.
#   RF_BENCH_MODELS="gpt-oss small MXFP4,llama3 small Q4_0,phi3 small Q4_0"
# Run from a checkout whose native library scripts/llamacpp_gpu_session.sh already built (it sets
# up /tmp/rfdeno); the .device/ folder beside it holds the shared data.
# usage: bash scripts/moe_gpu_bench.sh [extra scripts/bench.ts flags, e.g. -d 0,1024]
set -o pipefail
R=$(pwd)
export PATH=/tmp/rfdeno:$PATH DENO_DIR=/tmp/rfdeno/deno_dir DENO_NO_PACKAGE_JSON=1
export ROCMFORGE_SHARED=$R/.device/shared
flags=(-A --no-config --no-lock --import-map "$R/.device/import_map.json" --node-modules-dir=none
  --cached-only)
vocabs=$R/.device/shared/models/llama.cpp-vocab
extra=("$@")
list=${RF_BENCH_MODELS:-mixtral small Q4_0,llama small-wide Q4_0,qwen3moe small Q4_0,qwen3 small Q4_0}
mkdir -p /tmp/rfm
IFS=, read -ra entries <<<"$list"
for m in "${entries[@]}"; do
  read -r arch shape type <<<"$m"
  vocab=$vocabs/ggml-vocab-llama-spm.gguf
  [ "$arch" = phi3 ] && vocab=$vocabs/ggml-vocab-phi-3.gguf
  f=/tmp/rfm/$arch-$shape-$type.gguf
  [ -f "$f" ] || deno run "${flags[@]}" scripts/make_synthetic_model.ts --arch "$arch" \
    --shape "$shape" --type "$type" -o "$f" --vocab "$vocab" >/dev/null || exit 1
  echo "== $arch --shape $shape $type"
  timeout 90 deno run "${flags[@]}" scripts/bench.ts -m "$f" --backend hip -p 512 -n 128 -r 3 \
    "${extra[@]}" 2>&1 | grep -vE "^\s*$"
done
