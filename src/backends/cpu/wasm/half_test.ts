/**
 * Every IEEE half (zeros, subnormals, normals, infinities, NaNs) converts exactly in the
 * kernels' vector half conversion (rf_h2f_x4, kernels/wasm/rf_wasm.h), seen through the two
 * products that use it: F16 weights, and the block scales of Q4_0 "rows" (a multiple of 8
 * rows, one and several activation rows). Row n holds half n, so the 65536 outputs are
 * compared with the TypeScript path bit for bit (NaN with NaN).
 *
 * @module
 */
import { test } from "../../../../tests/harness.ts";
import { assert } from "../../../../tests/assert.ts";
import { GGMLType, typeTraits } from "../../../gguf/ggml_types.ts";
import { matmul } from "../ops/matmul.ts";
import { kernelModule } from "./module.ts";
import { WasmKernels } from "./runtime.ts";

const N = 65536;

/** Outputs where the kernels and the TypeScript path differ (NaN equals NaN). */
function mismatches(got: Float32Array, want: Float32Array): string[] {
  const bad: string[] = [];
  for (let i = 0; i < want.length; i++) {
    const same = Object.is(got[i], want[i]) || (Number.isNaN(got[i]) && Number.isNaN(want[i]));
    if (!same && bad.length < 5) bad.push(`output ${i}: wasm ${got[i]}, ts ${want[i]}`);
  }
  return bad;
}

/** F16 rows [half n, 0, ...] of `cols` values. */
function f16Rows(cols: number): Uint8Array {
  const raw = new Uint8Array(N * cols * 2);
  const dv = new DataView(raw.buffer);
  for (let n = 0; n < N; n++) dv.setUint16(n * cols * 2, n, true);
  return raw;
}

/** Q4_0 rows of one block: scale half n, codes 0..15 and 15..0 (a non-zero dot). */
function q4Rows(): Uint8Array {
  const raw = new Uint8Array(N * 18);
  const dv = new DataView(raw.buffer);
  for (let n = 0; n < N; n++) {
    dv.setUint16(n * 18, n, true);
    for (let j = 0; j < 16; j++) raw[n * 18 + 2 + j] = j | ((15 - j) << 4);
  }
  return raw;
}

for (const variant of ["relaxed", "simd128"] as const) {
  test(
    `wasm ${variant} half conversion is exact for all 65536 halves (F16 weights, Q4_0 scales)`,
    async () => {
      const k = (await WasmKernels.create({ threads: 1, spin: 1000, variant }))!;
      try {
        const cases = [
          { type: GGMLType.F16, cols: 16, raw: f16Rows(16), rowBytes: 32 },
          { type: GGMLType.Q4_0, cols: 32, raw: q4Rows(), rowBytes: 18 },
        ];
        const failures: string[] = [];
        for (const c of cases) {
          for (const T of [1, 3]) {
            // activation row t: 1 then small values, so that each output is its half (F16)
            // or its half times a block dot (Q4_0)
            const x = new Float32Array(T * c.cols);
            for (let t = 0; t < T; t++) {
              for (let j = 0; j < c.cols; j++) x[t * c.cols + j] = j === 0 ? 1 : (j - t) / 64;
            }
            const m = { type: c.type, rows: N, cols: c.cols, rowBytes: c.rowBytes };
            const got = new Float32Array(T * N);
            k.matmul({ ...m, ptr: k.upload(c.raw) }, x, T, got);
            const want = new Float32Array(T * N);
            matmul({ ...m, data: c.raw }, x, T, want);
            const finite = want.filter(Number.isFinite).length;
            assert(finite > T * 60000 && finite < T * N, "finite and special outputs both occur");
            for (const b of mismatches(got, want)) {
              failures.push(`${typeTraits(c.type).name} T=${T} ${b}`);
            }
          }
        }
        assert(failures.length === 0, failures.join("\n"));
      } finally {
        await k.dispose();
      }
    },
    {
      ignore: kernelModule(variant) === undefined,
      reason: `this runtime cannot run the ${variant} kernels (WebAssembly SIMD)`,
    },
  );
}
