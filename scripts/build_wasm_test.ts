/**
 * The committed WebAssembly kernels are reproducible: a rebuild from kernels/wasm with
 * Debian's clang 14 + lld gives the same bytes. Skips (with the reason) where clang is not
 * installed; CI installs it (apt-get install -y clang lld).
 *
 * @module
 */
import { test } from "../tests/harness.ts";
import { assertEquals } from "../tests/assert.ts";
import { checkOutputs, clangCommand, haveClang } from "./build_wasm.ts";

const HAVE_CLANG = await haveClang();

test("committed wasm kernels equal a fresh build from kernels/wasm", async () => {
  assertEquals(await checkOutputs(), []);
}, {
  ignore: !HAVE_CLANG,
  reason: `${clangCommand()} with a wasm32 target not found (apt-get install -y clang lld)`,
});
