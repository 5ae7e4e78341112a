/**
 * The WebAssembly MXFP4 product (kernels/wasm/mm_mxfp4.c) and the TypeScript path
 * (ops/matmul_exact.ts) both compute llama.cpp's x86 float32 arithmetic, so they must agree
 * bit for bit: "rows" (a multiple of 8 rows: 64, and 40, which leaves one pass of 4 rows with
 * a short tail on each thread split) and "pairs" (36 and 13 rows), even and odd block counts,
 * one to 17 activation rows (past the 16-row prefill pass), with and without bias, on one
 * thread and split over two.
 *
 * @module
 */
import { test } from "../../../../tests/harness.ts";
import { randomFloats } from "../../../../tests/random_data.ts";
import { assert } from "../../../../tests/assert.ts";
import { GGMLType } from "../../../gguf/ggml_types.ts";
import { quantize } from "../../../gguf/quants/mod.ts";
import { matmul } from "../ops/matmul.ts";
import { kernelModule } from "./module.ts";
import { WasmKernels } from "./runtime.ts";

for (const variant of ["relaxed", "simd128"] as const) {
  test(
    `wasm ${variant} MXFP4 matmul ("rows" and "pairs") is bit-identical to the TypeScript path`,
    async () => {
      const failures: string[] = [];
      let seed = 901;
      for (const threads of [1, 2]) {
        const k = (await WasmKernels.create({ threads, spin: 1000, variant }))!;
        try {
          for (const rows of [64, 40, 36, 13]) {
            // 8 blocks (even), 3 blocks (an odd last block in "pairs")
            for (const cols of [256, 96]) {
              for (const T of [1, 4, 5, 17]) {
                const withBias = (seed & 1) === 1;
                const raw = quantize(GGMLType.MXFP4, randomFloats(rows * cols, seed, 1));
                const x = randomFloats(T * cols, seed + 1, 2);
                const bias = withBias ? randomFloats(rows, seed + 2, 1) : undefined;
                seed += 3;
                const rowBytes = raw.length / rows;
                const m = { type: GGMLType.MXFP4, rows, cols, rowBytes };
                const got = new Float32Array(T * rows);
                k.matmul({ ...m, ptr: k.upload(raw) }, x, T, got, bias);
                const want = new Float32Array(T * rows);
                matmul({ ...m, data: raw }, x, T, want, bias);
                let bad = 0, nonzero = 0, first = "";
                for (let i = 0; i < got.length; i++) {
                  if (want[i] !== 0) nonzero++;
                  if (Object.is(got[i], want[i])) continue;
                  if (bad++ === 0) {
                    first = `${rows}x${cols} T=${T} bias=${withBias} threads=${threads} ` +
                      `t=${Math.floor(i / rows)} n=${i % rows}: wasm ${got[i]}, ts ${want[i]}`;
                  }
                }
                assert(nonzero > (T * rows) / 2, "the case must have non-trivial outputs");
                if (bad) failures.push(`${first} (${bad} of ${T * rows} differ)`);
              }
            }
          }
        } finally {
          await k.dispose();
        }
      }
      assert(failures.length === 0, failures.join("\n"));
    },
    {
      ignore: kernelModule(variant) === undefined,
      reason: `this runtime cannot run the ${variant} kernels (WebAssembly SIMD)`,
    },
  );
}
