/**
 * The thread pool under churn: thousands of back-to-back jobs of mixed sizes (some run
 * inline, some split), with workers that sleep between jobs (tiny spin) or never sleep,
 * give results identical to one thread. A lost or doubly counted chunk would hang here or
 * give different rows.
 *
 * @module
 */
import { test } from "../../../../tests/harness.ts";
import { assertEquals } from "../../../../tests/assert.ts";
import { GGMLType } from "../../../gguf/ggml_types.ts";
import { quantize } from "../../../gguf/quants/mod.ts";
import { kernelModule } from "./module.ts";
import { WasmKernels, type WasmMatrix } from "./runtime.ts";

function matrices(k: WasmKernels): WasmMatrix[] {
  return [3, 40, 301, 1024].map((rows, i) => {
    const w = new Float32Array(rows * 64).map((_, j) => Math.sin(j * 0.7 + i));
    const raw = quantize(GGMLType.Q8_0, w);
    return { type: GGMLType.Q8_0, rows, cols: 64, ptr: k.upload(raw), rowBytes: 68 };
  });
}

function run(k: WasmKernels, mats: WasmMatrix[], steps: number): Float32Array[] {
  const out: Float32Array[] = [];
  for (let s = 0; s < steps; s++) {
    const m = mats[(s * 7) % mats.length];
    const T = 1 + (s % 3);
    const x = new Float32Array(T * 64).map((_, j) => Math.cos(j + s));
    const y = new Float32Array(T * m.rows);
    k.matmul(m, x, T, y);
    if (s % 97 === 0) out.push(y);
  }
  return out;
}

test("pool: churn of mixed jobs on 2 threads equals 1 thread", async () => {
  const one = (await WasmKernels.create({ threads: 1 }))!;
  const want = run(one, matrices(one), 3000);
  await one.dispose();
  for (const spin of [1, 200, 100000]) {
    const two = (await WasmKernels.create({ threads: 2, spin }))!;
    try {
      assertEquals(run(two, matrices(two), 3000), want, `spin ${spin}`);
    } finally {
      await two.dispose();
    }
  }
}, { ignore: kernelModule() === undefined, reason: "no WebAssembly SIMD / shared memory here" });
