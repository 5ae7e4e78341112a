#!/bin/sh
# llama.cpp built for the GPU (CUDA with nvcc, else HIP with hipcc) from the trimmed source
# tarball that `sh ../shared/ref/llamacpp_assets.sh gpu-src F.tar.xz` writes, built once and
# reused (the build takes ~5 minutes on 16 cores), then llama-bench run on it.
#
#   sh scripts/llamacpp_gpu.sh build           builds (or waits for a build already running,
#                                              or reuses a finished one); prints llama-bench's path
#   sh scripts/llamacpp_gpu.sh bench ARGS...   the same, then runs llama-bench ARGS
#   sh scripts/llamacpp_gpu.sh server          the same build; prints llama-server's path
#
# Environment: RF_LLAMACPP_GPU_SRC  the tarball (default .device/llama-gpu-src.tar.xz)
#              RF_LLAMACPP_GPU_DIR  the build folder (default ~/.cache/rocmforge-ref/llama-gpu)
#              RF_CUDA_ARCH         CUDA architectures (default 90); RF_AMDGPU_TARGETS (HIP)
#              RF_BUILD_JOBS        parallel jobs (default: all cores)
# Start it early in the background (`setsid nohup sh scripts/llamacpp_gpu.sh build &`) and a
# later `bench` waits for that build instead of starting another.
set -e
root=$(cd "$(dirname "$0")/.." && pwd)
src="${RF_LLAMACPP_GPU_SRC:-$root/.device/llama-gpu-src.tar.xz}"
dir="${RF_LLAMACPP_GPU_DIR:-$HOME/.cache/rocmforge-ref/llama-gpu}"
bin="$dir/llama.cpp/build/bin/llama-bench"
jobs="${RF_BUILD_JOBS:-$(nproc 2>/dev/null || echo 4)}"

build() {
  mkdir -p "$dir"
  # One build at a time: mkdir is atomic; a waiting caller reuses the finished build.
  while ! mkdir "$dir/lock" 2>/dev/null; do sleep 2; done
  trap 'rmdir "$dir/lock" 2>/dev/null || true' EXIT INT TERM
  if [ ! -f "$dir/built" ]; then
    [ -f "$src" ] || {
      echo "llamacpp_gpu: no source tarball at $src (sh ../shared/ref/llamacpp_assets.sh gpu-src F)" >&2
      exit 3
    }
    rm -rf "$dir/llama.cpp"
    tar -xJf "$src" -C "$dir"
    if command -v nvcc >/dev/null 2>&1; then
      gpu="-DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=${RF_CUDA_ARCH:-90}"
    elif command -v hipcc >/dev/null 2>&1; then
      gpu="-DGGML_HIP=ON -DAMDGPU_TARGETS=${RF_AMDGPU_TARGETS:-gfx90a}"
    else
      echo "llamacpp_gpu: neither nvcc nor hipcc found" >&2
      exit 3
    fi
    gen=""
    command -v ninja >/dev/null 2>&1 && gen="-G Ninja"
    # shellcheck disable=SC2086
    (cd "$dir/llama.cpp" && cmake -B build $gpu -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF \
      -DLLAMA_OPENSSL=OFF -DGGML_NATIVE=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
      -DLLAMA_BUILD_APP=OFF -DLLAMA_USE_PREBUILT_UI=OFF $gen >"$dir/build.log" 2>&1 &&
      cmake --build build -j "$jobs" --target llama-bench llama-server >>"$dir/build.log" 2>&1) || {
      echo "llamacpp_gpu: build failed; the end of $dir/build.log:" >&2
      tail -n 30 "$dir/build.log" >&2
      exit 4
    }
    touch "$dir/built"
  fi
  rmdir "$dir/lock" 2>/dev/null || true
  trap - EXIT INT TERM
}

case "$1" in
build)
  build
  echo "$bin"
  ;;
server)
  build
  echo "$dir/llama.cpp/build/bin/llama-server"
  ;;
bench)
  shift
  build
  exec "$bin" "$@"
  ;;
*)
  echo "usage: llamacpp_gpu.sh build | server | bench LLAMA_BENCH_ARGS..." >&2
  exit 2
  ;;
esac
