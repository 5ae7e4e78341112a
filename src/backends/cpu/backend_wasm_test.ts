/**
 * The CPU backend with its WebAssembly kernels (1 and 2 threads) gives the logits of its
 * TypeScript reference path (wasm: false) on real models of every kernel family, for a
 * prefill and for single-token decode steps. Both round activations the same way; float
 * summation order differs, and on these small random models a last-bit difference can flip
 * an int8/bf16 activation rounding in a later layer, so logits agree to ~1% of their range,
 * not bit for bit (a wrong kernel is off by whole units). The per-kernel unit tests in
 * wasm/runtime_test.ts check each product to float precision.
 *
 * @module
 */
import { test } from "../../../tests/harness.ts";
import { assert } from "../../../tests/assert.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "../../../tests/shared_data.ts";
import { cpuStepLogits as logits } from "../../../tests/cpu_providers.ts";
import { InvalidArgumentError } from "../../core/errors.ts";
import { createCpuBackend } from "./backend.ts";
import { kernelModule } from "./wasm/module.ts";

const MODELS = [
  "stories260K.gguf",
  "synthetic/tiny256-F16.gguf",
  "synthetic/tiny256-BF16.gguf",
  "synthetic/tiny256-Q4_0.gguf",
  "synthetic/tiny256-Q4_1.gguf",
  "synthetic/tiny256-Q5_0.gguf",
  "synthetic/tiny256-Q5_1.gguf",
  "synthetic/tiny256-Q8_0.gguf",
  "synthetic/tiny256-Q4_K.gguf",
  "synthetic/tiny256-Q5_K.gguf",
  "synthetic/tiny256-Q6_K.gguf",
  "synthetic/tiny256-Q3_K.gguf",
];

const skip = !HAVE_SHARED || kernelModule() === undefined;
const reason = !HAVE_SHARED ? NO_SHARED_REASON : "no WebAssembly SIMD / shared memory here";

for (const name of MODELS) {
  test(`wasm CPU kernels match the TypeScript path: ${name}`, async () => {
    const path = sharedPath("models", name);
    const ref = await logits(path, { wasm: false });
    for (const threads of [1, 2]) {
      const got = await logits(path, { threads, kernels: "wasm" });
      for (let step = 0; step < ref.length; step++) {
        let maxDiff = 0, maxRef = 0;
        for (let i = 0; i < ref[step].length; i++) {
          maxDiff = Math.max(maxDiff, Math.abs(got[step][i] - ref[step][i]));
          maxRef = Math.max(maxRef, Math.abs(ref[step][i]));
        }
        assert(
          maxDiff <= 2e-2 * Math.max(1, maxRef),
          `${name} threads ${threads} step ${step}: max |logit diff| ${maxDiff} (max |logit| ${maxRef})`,
        );
      }
    }
  }, { ignore: skip, reason });
}

test("createCpuBackend rejects a bad thread count", () => {
  for (const threads of [0, 1.5, -2, 1000]) {
    let err: unknown;
    try {
      createCpuBackend({ threads });
    } catch (e) {
      err = e;
    }
    assert(err instanceof InvalidArgumentError, `threads ${threads} accepted`);
  }
});
