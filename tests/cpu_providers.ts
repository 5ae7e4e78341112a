/**
 * The CPU kernel providers a suite runs on: the WebAssembly kernels everywhere, and the native
 * x86-64 kernels where librocmforge_cpu is built (`deno task build:native --target cpu`);
 * where it is not, NATIVE_SKIP says so in one line.
 *
 * @module
 */
import { type CpuBackendOptions, createCpuBackend } from "../src/backends/cpu/backend.ts";
import { nativeLibraryCandidates } from "../src/backends/cpu/native/native_kernels.ts";
import { Model } from "../src/core/model.ts";
import { Session } from "../src/core/session.ts";
import { builtinArchitectures } from "../src/model/mod.ts";
import { fileExists } from "../src/runtime/ffi_load.ts";

/** True when the native CPU library exists here. */
export const HAVE_NATIVE_CPU = nativeLibraryCandidates().some(fileExists);

/** Skip options for a test that needs the native CPU library. */
export const NATIVE_SKIP = {
  ignore: !HAVE_NATIVE_CPU,
  reason: "librocmforge_cpu.so not built (deno task build:native --target cpu)",
};

/**
 * Last-position logits of a fixed 7-token prompt and three decode steps of `path` on one CPU
 * backend made with `opts`: what the provider suites compare bit for bit.
 */
export async function cpuStepLogits(
  path: string,
  opts: CpuBackendOptions,
): Promise<Float32Array[]> {
  const cpu = createCpuBackend(opts);
  const model = await Model.load(path, {
    architectures: builtinArchitectures,
    backends: [cpu],
    contextLength: 64,
    log: () => {},
  });
  try {
    const s = new Session(model);
    const out = [await s.eval([1, 5, 9, 13, 17, 21, 25], "last")];
    for (const t of [30, 31, 32]) out.push(await s.eval([t], "last"));
    return out;
  } finally {
    model.dispose();
    cpu.dispose();
  }
}
