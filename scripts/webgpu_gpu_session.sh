#!/bin/bash
# One GPU-machine session for the WebGPU backend (issue 20): Deno's navigator.gpu on NVIDIA's
# Vulkan driver, checked against the CPU and timed beside our HIP backend on the same card.
# Run from the repository root with these git-ignored .device/ paths carried beside it (see
# scripts/device_bundle.sh for the first four):
#   deno.xz, zod_deno_dir.tar.xz, import_map.json, shared/models/
#   vulkan/vulkan_loader.tar.xz   Debian's Vulkan loader and what NVIDIA's ICD library
#     (libGLX_nvidia.so.0) links to, unpacked:
#     apt-get download libvulkan1 libglvnd0 libx11-6 libxext6 libxcb1 libxau6 libxdmcp6 \
#       libbsd0 libmd0; dpkg-deb -x each into R; tar -C R -cJf .device/vulkan/vulkan_loader.tar.xz usr/lib
# The machine has the NVIDIA ICD under /usr/local/nvidia/share/vulkan/icd.d.
#
# usage: bash scripts/webgpu_gpu_session.sh [probe] [tests] [conformance] [bench] [7b]
#   (default: probe tests bench); RF_REPS=N bench reps (default 2); RF_NO_HIP=1: WebGPU only
# Writes logs under $OUT (default /tmp/rf-out).
set -o pipefail
R=$(pwd)
OUT=${OUT:-/tmp/rf-out}
mkdir -p "$OUT" /tmp/rfdeno /tmp/rfm /tmp/rfvk
phases=${*:-probe tests bench}
t() { echo "[$(date -u +%T) +${SECONDS}s] $*"; }
has() { [[ " $phases " == *" $1 "* ]]; }

[ -x /tmp/rfdeno/deno ] || xz -dc .device/deno.xz >/tmp/rfdeno/deno
chmod +x /tmp/rfdeno/deno
[ -d /tmp/rfdeno/deno_dir ] || tar -xJf .device/zod_deno_dir.tar.xz -C /tmp/rfdeno
tar -xJf .device/vulkan/vulkan_loader.tar.xz -C /tmp/rfvk
export PATH=/tmp/rfdeno:$PATH DENO_DIR=/tmp/rfdeno/deno_dir DENO_NO_PACKAGE_JSON=1
export ROCMFORGE_SHARED=$R/.device/shared XDG_RUNTIME_DIR=/tmp
lp=/tmp/rfvk/usr/lib/x86_64-linux-gnu
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do [ -d $d ] && lp=$lp:$d; done
export LD_LIBRARY_PATH=$lp${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
icd=$(ls /usr/local/nvidia/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/nvidia*.json 2>/dev/null |
  head -n 1)
# Headless, the GLX library gives no vkCreateInstance (nvidia-container-toolkit issue 191):
# point the loader at the same driver's EGL library instead.
egl=$(ls /usr/local/nvidia/lib64/libEGL_nvidia.so.0 /usr/lib/x86_64-linux-gnu/libEGL_nvidia.so.0 \
  2>/dev/null | head -n 1)
if [ -n "$egl" ]; then
  printf '{"file_format_version":"1.0.1","ICD":{"library_path":"%s","api_version":"1.3.0"}}\n' \
    "$egl" >/tmp/rfvk/nvidia_egl_icd.json
  icd=/tmp/rfvk/nvidia_egl_icd.json
fi
[ -n "$icd" ] && export VK_ICD_FILENAMES=$icd
flags=(-A --no-config --no-lock --import-map "$R/.device/import_map.json" --node-modules-dir=none
  --cached-only)
drun() { deno run "${flags[@]}" "$@"; }
nvidia-smi --query-gpu=name,memory.total,clocks.sm,clocks.mem --format=csv,noheader
t "ICD: ${icd:-none found}"

if has bench && [ -z "$RF_NO_HIP" ]; then
  t "native (HIP on CUDA) build in the background"
  drun scripts/build_native.ts --target cuda --cuda-arch sm_90 --jobs 12 >"$OUT/native.log" 2>&1 &
  native=$!
fi
if has bench; then
  vocab=$R/.device/shared/models/llama.cpp-vocab/ggml-vocab-llama-spm.gguf
  shapes="tinyllama"
  has 7b && shapes="tinyllama llama7b"
  (for s in $shapes; do
    [ -f /tmp/rfm/$s-Q4_0.gguf ] || drun scripts/make_synthetic_model.ts --shape $s --type Q4_0 \
      -o /tmp/rfm/$s-Q4_0.gguf --vocab "$vocab" >/dev/null
  done) &
  models=$!
fi

if has probe; then
  t "adapter"
  drun --no-check - <<'EOF' 2>&1 | tee "$OUT/adapter.txt"
const a = await navigator.gpu.requestAdapter({ powerPreference: "high-performance" });
if (!a) { console.log("no adapter"); Deno.exit(1); }
console.log(JSON.stringify({ info: a.info, features: [...a.features],
  maxStorageBufferBindingSize: a.limits.maxStorageBufferBindingSize,
  maxBufferSize: a.limits.maxBufferSize,
  maxComputeWorkgroupStorageSize: a.limits.maxComputeWorkgroupStorageSize }));
EOF
  if grep -q "no adapter" "$OUT/adapter.txt"; then
    t "no adapter: the ICD, its library's links, the loader's messages"
    cat "$icd"
    lib=$(grep -o '"library_path"[^,]*' "$icd" | cut -d'"' -f4)
    path=$(ls /usr/local/nvidia/lib64/$lib /usr/lib/x86_64-linux-gnu/$lib /usr/lib64/$lib 2>/dev/null |
      head -n 1)
    echo "library $lib at ${path:-nowhere}"
    [ -n "$path" ] && ldd "$path" | grep -E "not found|=>" | head -n 30
    echo 'console.log(await navigator.gpu.requestAdapter())' >/tmp/rfa.ts
    VK_LOADER_DEBUG=error,warn deno run "${flags[@]}" --no-check /tmp/rfa.ts 2>&1 | tail -n 20
    exit 1
  fi
fi

if has tests; then
  t "webgpu tests"
  timeout "${RF_TEST_TIMEOUT:-60}" deno test "${flags[@]}" --no-check tests/webgpu_*_test.ts 2>&1 | tee "$OUT/tests.log" |
    grep -E "max|logits|FAILED|failed|passed|error:" | head -n 40
  t "webgpu conformance"
  has conformance && timeout 60 deno test "${flags[@]}" --no-check tests/conformance_test.ts --filter webgpu 2>&1 |
    tee "$OUT/conformance.log" | grep -E "FAILED|failed|passed|error:" | head -n 20
fi

if has bench; then
  wait $models
  backends=webgpu
  if [ -n "$native" ]; then
    wait $native && t "native build done" || { t "native build failed"; tail -n 5 "$OUT/native.log"; }
    [ -f build/native/cuda/librocmforge_hip.so ] && backends=webgpu,hip
  fi
  for s in $shapes; do
    t "bench $s ($backends)"
    timeout 120 deno run "${flags[@]}" scripts/bench_webgpu.ts -m /tmp/rfm/$s-Q4_0.gguf \
      --backends $backends -p 512 -n 128 -r "${RF_REPS:-2}" --per-submit 32 2>&1 |
      tee "$OUT/bench_$s.txt"
  done
fi
t "session done"
