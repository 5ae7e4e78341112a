#!/bin/bash
# Writes the git-ignored .device/ folder that travels with the checkout to the GPU machine (which
# has no Deno, Node or package registry): the Deno binary, a DENO_DIR holding the npm packages the
# GPU tests import, llama.cpp's trimmed GPU source tree, and the test data the GPU tests read.
# scripts/llamacpp_gpu_session.sh is the runner that uses it. Run from the repository root after
# `npm ci`. The whole folder stays under the device tool's 64 MiB carry limit.
#
# usage: bash scripts/device_bundle.sh
set -euo pipefail
cd "$(dirname "$0")/.."
D=.device
DENO=node_modules/.bin/deno
mkdir -p "$D" "$D/shared/models/llama.cpp-vocab" "$D/shared/models/synthetic"
grep -qx '.device/' .git/info/exclude 2>/dev/null || { mkdir -p .git/info; echo '.device/' >>.git/info/exclude; }

# The binary itself (npm's deno package puts it under a path that depends on the node_modules
# layout; Deno says where it runs from).
[ -s "$D/deno.xz" ] || xz -9e -T2 -c "$("$DENO" eval 'console.log(Deno.execPath())')" >"$D/deno.xz"

# The GPU runs use --no-config, so bare specifiers resolve through this import map.
"$DENO" eval 'const c = JSON.parse(Deno.readTextFileSync("deno.json"));
  Deno.writeTextFileSync(".device/import_map.json", JSON.stringify({ imports: c.imports }));'
if [ ! -f "$D/zod_deno_dir.tar.xz" ]; then
  tmp=$(mktemp -d)
  DENO_DIR=$tmp/deno_dir DENO_NO_PACKAGE_JSON=1 "$DENO" cache --no-config --no-lock \
    --node-modules-dir=none --import-map "$D/import_map.json" \
    tests/hip_*.ts tests/conformance*_test.ts scripts/bench.ts scripts/bench_server.ts \
    scripts/make_synthetic_model.ts >/dev/null
  # The GPU runs open no context store or HNSW index: the native binaries of libsql, sqlite-vec
  # and usearch stay as packages Deno resolves, emptied (the carry limit is 64 MiB); Deno's
  # analysis caches are rebuilt on use.
  rm -rf "$tmp"/deno_dir/*cache_v2* "$tmp"/deno_dir/gen
  find "$tmp/deno_dir/npm/registry.npmjs.org" \( -name '*.node' -o -name '*.so' \) \
    \( -path '*libsql*' -o -path '*sqlite-vec*' -o -path '*usearch*' \) -exec truncate -s 0 {} +
  tar -C "$tmp" -cJf "$D/zod_deno_dir.tar.xz" deno_dir
  rm -rf "$tmp"
fi

tree=$(sh ../shared/ref/llamacpp_assets.sh | tail -1)
[ -f "$D/llama-gpu-src.tar.xz" ] || sh ../shared/ref/llamacpp_assets.sh gpu-src "$PWD/$D/llama-gpu-src.tar.xz" >/dev/null
echo "llama.cpp tree: $tree"

S=../shared
cp -f "$S/models/stories260K.gguf" "$S/models/llama-2-tiny-random.gguf" "$D/shared/models/"
cp -f "$S"/models/synthetic/tiny256-*.gguf "$S"/models/synthetic/qwen2-tiny64-Q8_0.gguf \
  "$D/shared/models/synthetic/"
for v in llama-spm phi-3 bert-bge; do
  cp -f "$S/models/llama.cpp-vocab/ggml-vocab-$v.gguf" "$D/shared/models/llama.cpp-vocab/"
done
cp -rf "$S/golden" "$D/shared/"
chmod -R u+w "$D"
du -sh "$D"
