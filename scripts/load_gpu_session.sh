#!/bin/bash
# One GPU-machine session measuring model load (issue 13, "Load"): run from the repository
# root with .device/ beside it as scripts/llamacpp_gpu_session.sh wants it, plus optionally
#   wt-loadbase.tgz   the tree to compare against ("before": git archive of a commit, gzip)
# Makes TinyLlama and 7B Q4_0 (as the session script does), runs the GPU tests of this tree,
# then scripts/bench_load.ts (-r 3 after a warm load) on both models with this tree's library
# and, when the base tarball is there, with the base tree's own library (built beside).
# Phases (default all): tests; variants = 7B loads with other staging rings (SLOTSxMiB, the
# constants of src/backends/hip/weights.ts edited in a copy of the tree), alternated with the
# default (one pair each); read = the file-read ceiling (bench_load.ts --read-only); compare = before/after.
# usage: bash scripts/load_gpu_session.sh [tests] [variants] [read] [compare]
#   (logs under $OUT, default /tmp/rf-out)
set -o pipefail
R=$(pwd)
OUT=${OUT:-/tmp/rf-out}
mkdir -p "$OUT" /tmp/rfdeno /tmp/rfm
t() { echo "[$(date -u +%T) +${SECONDS}s] $*"; }
[ -x /tmp/rfdeno/deno ] || xz -dc .device/deno.xz >/tmp/rfdeno/deno
chmod +x /tmp/rfdeno/deno
[ -d /tmp/rfdeno/deno_dir ] || tar -xJf .device/zod_deno_dir.tar.xz -C /tmp/rfdeno
export PATH=/tmp/rfdeno:$PATH DENO_DIR=/tmp/rfdeno/deno_dir DENO_NO_PACKAGE_JSON=1
flags=(-A --no-config --no-lock --import-map "$R/.device/import_map.json" --node-modules-dir=none
  --cached-only)
drun() { deno run "${flags[@]}" "$@"; }
phases=${*:-tests variants read compare}
has() { [[ " $phases " == *" $1 "* ]]; }

vocab=$R/.device/shared/models/llama.cpp-vocab/ggml-vocab-llama-spm.gguf
(for s in tinyllama llama7b; do
  [ -f /tmp/rfm/$s-Q4_0.gguf ] || drun scripts/make_synthetic_model.ts --shape $s --type Q4_0 \
    -o /tmp/rfm/$s-Q4_0.gguf --vocab "$vocab" >/dev/null
done; t "models made") &
models=$!
if has compare && [ -f .device/wt-loadbase.tgz ]; then
  rm -rf /tmp/base && mkdir -p /tmp/base && tar xzf .device/wt-loadbase.tgz -C /tmp/base
  cp scripts/bench_load.ts /tmp/base/scripts/bench_load.ts
  (cd /tmp/base && drun scripts/build_native.ts --target cuda --cuda-arch sm_90 --jobs 4 2>&1 |
    tail -n 2; t "base build done") &
  baseb=$!
fi
if has tests; then
  bash scripts/llamacpp_gpu_session.sh tests || exit 1
else
  drun scripts/build_native.ts --target cuda --cuda-arch sm_90 --jobs 8 2>&1 | tail -n 2
fi
wait $models
m7=/tmp/rfm/llama7b-Q4_0.gguf
if has read; then
  for m in tinyllama llama7b; do
    t "read-only $m"
    drun scripts/bench_load.ts -m /tmp/rfm/$m-Q4_0.gguf --read-only -r 3 2>&1 | tee -a "$OUT/read.txt"
  done
fi
if has variants; then
  lib=$R/build/native/cuda/librocmforge_hip.so
  for v in 1x16 2x16 4x4 4x64 8x16; do
    rm -rf /tmp/var && cp -a "$R" /tmp/var
    sed -i -e "s/^const STAGING_SLOTS = 4;/const STAGING_SLOTS = ${v%x*};/" \
      -e "s/^const STAGING_SLOT_BYTES = 16 << 20;/const STAGING_SLOT_BYTES = ${v#*x} << 20;/" \
      /tmp/var/src/backends/hip/weights.ts
    grep -E "^const STAGING_SLOT" /tmp/var/src/backends/hip/weights.ts | tr '\n' ' '
    t "7B staging ${v} MiB"
    (cd /tmp/var && ROCMFORGE_HIP_LIB=$lib drun scripts/bench_load.ts -m $m7 -r 3) 2>&1 |
      tail -n 4 | tee -a "$OUT/load_variants.txt"
    t "7B staging default 4x16 MiB"
    drun scripts/bench_load.ts -m $m7 -r 3 2>&1 | tail -n 4 | tee -a "$OUT/load_variants.txt"
  done
fi
has compare || { t "load session done"; exit 0; }
[ -n "$baseb" ] && wait $baseb
for m in tinyllama llama7b; do
  f=/tmp/rfm/$m-Q4_0.gguf
  ls -la "$f"
  for round in 1 2; do
    if [ -n "$baseb" ] && [ -f /tmp/base/build/native/cuda/librocmforge_hip.so ]; then
      t "load before (base) $m, round $round"
      (cd /tmp/base && drun scripts/bench_load.ts -m "$f" --backend hip -r 3) 2>&1 |
        tee -a "$OUT/load_base_$m.txt"
    fi
    t "load after $m, round $round"
    drun scripts/bench_load.ts -m "$f" --backend hip -r 3 2>&1 | tee -a "$OUT/load_new_$m.txt"
  done
done
t "load session done"
