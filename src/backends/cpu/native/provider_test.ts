/**
 * Choosing the CPU kernel provider: "native" fails with a typed error when the library cannot
 * load, "auto" falls back to WebAssembly with one notice line, a bad choice is refused, and a
 * model's logits on the native provider equal the WebAssembly provider's bit for bit for the
 * types whose arithmetic both take from llama.cpp (Q4_0, Q8_0, Q4_K).
 *
 * @module
 */
import { test } from "../../../../tests/harness.ts";
import { assert, assertEquals } from "../../../../tests/assert.ts";
import { cpuStepLogits as logits, NATIVE_SKIP } from "../../../../tests/cpu_providers.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "../../../../tests/shared_data.ts";
import { cpuKernelChoice, createCpuBackend } from "../backend.ts";

const code = async (p: Promise<unknown> | (() => unknown)) => {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
};

test("a CPU kernel choice other than auto, native or wasm is refused", async () => {
  assertEquals(await code(() => cpuKernelChoice("avx")), "INVALID_ARGUMENT");
  assertEquals(cpuKernelChoice("wasm"), "wasm");
});

test("native kernels that cannot load: an error when asked for, a notice on auto", async () => {
  const nativeLibrary = "/nonexistent/librocmforge_cpu.so";
  const strict = createCpuBackend({ kernels: "native", nativeLibrary });
  assertEquals(await code(strict.createContext([])), "BACKEND_UNAVAILABLE");
  strict.dispose();
  const lines: string[] = [];
  const auto = createCpuBackend({ kernels: "auto", nativeLibrary, log: (l) => lines.push(l) });
  (await auto.createContext([])).dispose();
  (await auto.createContext([])).dispose();
  auto.dispose();
  assertEquals(lines.length, 1);
  assert(lines[0].includes("using WebAssembly"), lines[0]);
});

for (const type of ["Q4_0", "Q8_0", "Q4_K"]) {
  test(`native and WebAssembly providers give the same logits: tiny256-${type}`, async () => {
    const path = sharedPath("models", "synthetic", `tiny256-${type}.gguf`);
    const a = await logits(path, { threads: 2, kernels: "wasm" });
    const b = await logits(path, { threads: 2, kernels: "native" });
    for (let s = 0; s < a.length; s++) {
      for (let i = 0; i < a[s].length; i++) {
        assert(Object.is(a[s][i], b[s][i]), `step ${s} logit ${i}: ${a[s][i]} vs ${b[s][i]}`);
      }
    }
  }, HAVE_SHARED ? NATIVE_SKIP : { ignore: true, reason: NO_SHARED_REASON });
}
