/**
 * The CPU kernel providers a suite runs on: the WebAssembly kernels everywhere, and the native
 * x86-64 kernels where librocmforge_cpu is built (`deno task build:native --target cpu`);
 * where it is not, NATIVE_SKIP says so in one line.
 *
 * @module
 */
import { nativeLibraryCandidates } from "../src/backends/cpu/native/native_kernels.ts";
import { fileExists } from "../src/runtime/ffi_load.ts";

/** True when the native CPU library exists here. */
export const HAVE_NATIVE_CPU = nativeLibraryCandidates().some(fileExists);

/** Skip options for a test that needs the native CPU library. */
export const NATIVE_SKIP = {
  ignore: !HAVE_NATIVE_CPU,
  reason: "librocmforge_cpu.so not built (deno task build:native --target cpu)",
};
