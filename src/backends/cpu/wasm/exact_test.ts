/**
 * The WebAssembly matrix kernels and the TypeScript path (ops/matmul_exact.ts) both compute
 * llama.cpp's x86 float32 arithmetic for the legacy 32-block types and repacked Q4_K, so they
 * must agree bit for bit: "lanes" and "rows" (row counts a multiple of 8 or not), one and
 * several activation rows, with and without bias. Any change to the arithmetic of either side
 * fails here.
 *
 * @module
 */
import { test } from "../../../../tests/harness.ts";
import { randomFloats } from "../../../../tests/random_data.ts";
import { assert } from "../../../../tests/assert.ts";
import { GGMLType, typeTraits } from "../../../gguf/ggml_types.ts";
import { quantize } from "../../../gguf/quants/mod.ts";
import type { RopeParams } from "../../../core/graph.ts";
import { rmsNorm, swiglu } from "../ops/elementwise.ts";
import { rope } from "../ops/rope.ts";
import { matmul } from "../ops/matmul.ts";
import { kernelModule } from "./module.ts";
import { WasmKernels } from "./runtime.ts";

/** Number of outputs where the kernels and the TypeScript path differ (first one in `first`). */
function compare(
  k: WasmKernels,
  type: GGMLType,
  rows: number,
  cols: number,
  T: number,
  seed: number,
  withBias: boolean,
): { bad: number; first: string; nonzero: number } {
  const raw = quantize(type, randomFloats(rows * cols, seed, 1));
  const x = randomFloats(T * cols, seed + 1, 2);
  const bias = withBias ? randomFloats(rows, seed + 2, 1) : undefined;
  const rowBytes = raw.length / rows;
  const got = new Float32Array(T * rows);
  k.matmul({ type, rows, cols, ptr: k.upload(raw), rowBytes }, x, T, got, bias);
  const want = new Float32Array(T * rows);
  matmul({ type, rows, cols, data: raw, rowBytes }, x, T, want, bias);
  let bad = 0;
  let first = "";
  let nonzero = 0;
  for (let i = 0; i < got.length; i++) {
    if (want[i] !== 0) nonzero++;
    if (Object.is(got[i], want[i])) continue;
    if (bad++ === 0) {
      first = `${typeTraits(type).name} ${rows}x${cols} T=${T} bias=${withBias} ` +
        `t=${Math.floor(i / rows)} n=${i % rows}: wasm ${got[i]}, ts ${want[i]}`;
    }
  }
  return { bad, first, nonzero };
}

const TYPES: GGMLType[] = [
  GGMLType.Q4_0,
  GGMLType.Q4_1,
  GGMLType.Q5_0,
  GGMLType.Q5_1,
  GGMLType.Q8_0,
];

for (const variant of ["relaxed", "simd128"] as const) {
  test(
    `wasm ${variant} legacy-type and float matmul is bit-identical to the TypeScript path`,
    async () => {
      const k = (await WasmKernels.create({ threads: 1, spin: 1000, variant }))!;
      try {
        let seed = 101;
        const failures: string[] = [];
        for (const type of [...TYPES, GGMLType.F32, GGMLType.F16, GGMLType.BF16]) {
          for (const rows of [64, 36]) {
            // float types: 100 columns leave a tail of 4 past the 8-wide lanes
            for (const cols of TYPES.includes(type) ? [256, 96] : [256, 100]) {
              for (const T of [1, 5, 17]) {
                for (const withBias of [false, true]) {
                  const r = compare(k, type, rows, cols, T, seed++, withBias);
                  assert(r.nonzero > (T * rows) / 2, "the case must have non-trivial outputs");
                  if (r.bad) failures.push(`${r.first} (${r.bad} of ${T * rows} differ)`);
                }
              }
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

for (const variant of ["relaxed", "simd128"] as const) {
  test(
    `wasm ${variant} Q4_K matmul with a multiple of 8 rows (llama.cpp's repacked gemm and gemv orders) is bit-identical to the TypeScript path`,
    async () => {
      const k = (await WasmKernels.create({ threads: 1, spin: 1000, variant }))!;
      try {
        let seed = 501;
        const failures: string[] = [];
        // 3 rows take the gemv order, 4 and 8 the gemm order, 5 and 11 both
        for (const T of [1, 3, 4, 5, 8, 11]) {
          for (const withBias of [false, true]) {
            const r = compare(k, GGMLType.Q4_K, 64, 512, T, seed++, withBias);
            assert(r.nonzero > (T * 64) / 2, "the case must have non-trivial outputs");
            if (r.bad) failures.push(`${r.first} (${r.bad} of ${T * 64} differ)`);
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

/** Index of the first element where a and b differ (-1 when bit-identical). */
function firstDiff(a: Float32Array, b: Float32Array): number {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

for (const variant of ["relaxed", "simd128"] as const) {
  test(
    `wasm ${variant} swiglu and rms_norm (rows split over 2 threads) are bit-identical to the TypeScript path`,
    async () => {
      const k = (await WasmKernels.create({ threads: 2, spin: 1000, variant }))!;
      try {
        // 40 columns: two vector groups of 16 and a scalar tail of 8; values up to +-200
        // reach the vector expf's saturation (|n| > 192) on both sides
        for (const [rows, cols, scale] of [[3, 40, 4], [2, 40, 120], [1, 64, 0.5]]) {
          const n = rows * cols;
          const gate = randomFloats(n, 7 + cols, scale);
          const up = randomFloats(n, 8 + cols, 1);
          const want = new Float32Array(n), got = new Float32Array(n);
          swiglu(gate, up, want, cols);
          k.swiglu(gate, up, got, cols);
          const i = firstDiff(got, want);
          assert(i < 0, `swiglu ${rows}x${cols} at ${i}: wasm ${got[i]}, ts ${want[i]}`);
          const w = randomFloats(cols, 9, 1);
          rmsNorm(gate, w, rows, cols, 1e-5, want);
          k.rmsNorm(gate, w, rows, cols, 1e-5, got);
          const j = firstDiff(got, want);
          assert(j < 0, `rms_norm ${rows}x${cols} at ${j}: wasm ${got[j]}, ts ${want[j]}`);
        }
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

for (const variant of ["relaxed", "simd128"] as const) {
  test(
    `wasm ${variant} rope is bit-identical to the TypeScript path (normal, NeoX, partial, YaRN)`,
    async () => {
      const k = (await WasmKernels.create({ threads: 1, spin: 1000, variant }))!;
      try {
        const base = {
          freqBase: 10000,
          freqScale: 1,
          extFactor: 0,
          attnFactor: 1,
          betaFast: 32,
          betaSlow: 1,
          nCtxOrig: 4096,
        };
        // 20 rotary dims: 2 vector groups of 4 pairs and 2 scalar pairs; 24-wide heads keep
        // 4 dims unrotated; positions past 120 take sincosf's large-argument reduction
        const cases: [RopeParams, number, number][] = [
          [{ ...base, mode: "normal", nRot: 20 }, 24, 0],
          [{ ...base, mode: "neox", nRot: 20 }, 24, 3],
          [{ ...base, mode: "normal", nRot: 64 }, 64, 500],
          [{ ...base, mode: "neox", nRot: 32, freqScale: 0.25, extFactor: 1 }, 32, 130],
        ];
        for (const [p, headDim, pos0] of cases) {
          const rows = 5, nHeads = 3;
          const x = randomFloats(rows * nHeads * headDim, 31 + pos0, 4);
          const want = new Float32Array(x.length), got = new Float32Array(x.length);
          rope(x, rows, nHeads, headDim, p, pos0, want);
          k.rope(x, rows, { nHeads, headDim, rope: p }, pos0, got);
          const i = firstDiff(got, want);
          assert(
            i < 0,
            `rope ${p.mode} nRot ${p.nRot} pos0 ${pos0} at ${i}: ${got[i]} vs ${want[i]}`,
          );
        }
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
