/**
 * Each WebAssembly matrix kernel against the TypeScript reference (dequantize + float dot)
 * on random data, for every supported type, odd row and token counts, with and without
 * bias, on 1 and 2 threads. The reference rounds the activations as llama.cpp does
 * (ops/act_quant.ts), as the kernels do, so only float summation order separates the two.
 *
 * @module
 */
import { test } from "../../../../tests/harness.ts";
import { randomFloats } from "../../../../tests/random_data.ts";
import { assert, assertThrows } from "../../../../tests/assert.ts";
import { GGMLType, typeTraits } from "../../../gguf/ggml_types.ts";
import { dequantize, f16ToF32, quantize } from "../../../gguf/quants/mod.ts";
import { actFormat, roundActivations } from "../ops/act_quant.ts";
import { kernelModule } from "./module.ts";
import { WasmKernels } from "./runtime.ts";

const NO_WASM = kernelModule() === undefined;
const NO_WASM_REASON = "this runtime lacks WebAssembly SIMD or shared memory";

function check(
  k: WasmKernels,
  type: GGMLType,
  rows: number,
  cols: number,
  T: number,
  seed: number,
  withBias: boolean,
): void {
  const wf = randomFloats(rows * cols, seed, 1);
  const raw = quantize(type, wf);
  const wd = dequantize(type, raw, rows * cols);
  const x = randomFloats(T * cols, seed + 1, 2);
  const bias = withBias ? randomFloats(rows, seed + 2, 1) : undefined;
  const ptr = k.upload(raw);
  const m = { type, rows, cols, ptr, rowBytes: raw.length / rows };
  const y = new Float32Array(T * rows);
  k.matmul(m, x, T, y, bias);
  const xq = roundActivations(x, actFormat(type));
  let maxErr = 0;
  for (let t = 0; t < T; t++) {
    for (let n = 0; n < rows; n++) {
      let want = bias ? bias[n] : 0;
      let abs = Math.abs(want);
      for (let i = 0; i < cols; i++) {
        const p = wd[n * cols + i] * xq[t * cols + i];
        want += p;
        abs += Math.abs(p);
      }
      const tol = 2e-5 * abs + 1e-6 + q8_1SumSlack(type, raw, n, cols, xq, t);
      const got = y[t * rows + n];
      maxErr = Math.max(maxErr, Math.abs(got - want) / tol);
      if (!(Math.abs(got - want) <= tol)) {
        throw new Error(
          `${
            typeTraits(type).name
          } ${rows}x${cols} T=${T} t=${t} n=${n}: got ${got}, want ${want} ± ${tol}`,
        );
      }
    }
  }
  assert(maxErr <= 1);
}

/**
 * Q4_1 / Q5_1 weights meet Q8_1 activations, whose per-block sum llama.cpp stores as a half
 * (s = half(d * sum q)) and multiplies by the weight offset m: the product can be off from
 * m * sum(x) by up to 2^-11 of it, which the float reference above does not model.
 */
function q8_1SumSlack(
  type: GGMLType,
  raw: Uint8Array,
  n: number,
  cols: number,
  xq: Float32Array,
  t: number,
): number {
  if (type !== GGMLType.Q4_1 && type !== GGMLType.Q5_1) return 0;
  const bytes = typeTraits(type).typeSize;
  const nb = cols / 32;
  let slack = 0;
  for (let b = 0; b < nb; b++) {
    const o = (n * nb + b) * bytes;
    const m = f16ToF32(raw[o + 2] | (raw[o + 3] << 8));
    let sx = 0;
    for (let i = 0; i < 32; i++) sx += xq[t * cols + b * 32 + i];
    slack += Math.abs(m * sx) * 2 ** -10;
  }
  return slack;
}

const CASES: [GGMLType, number[]][] = [
  [GGMLType.F32, [40, 172]],
  [GGMLType.F16, [40, 172]],
  [GGMLType.BF16, [40, 64]],
  [GGMLType.Q4_0, [64, 96]],
  [GGMLType.Q4_1, [64, 96]],
  [GGMLType.Q5_0, [64, 96]],
  [GGMLType.Q5_1, [64, 96]],
  [GGMLType.Q8_0, [64, 96]],
  [GGMLType.Q3_K, [256, 512]],
  [GGMLType.Q4_K, [256, 512]],
  [GGMLType.Q5_K, [256, 512]],
  [GGMLType.Q6_K, [256, 512]],
];

for (const variant of ["simd128", "relaxed"] as const) {
  for (const threads of [1, 2]) {
    test(
      `wasm matmul (${variant}) matches the TypeScript reference, every type (threads ${threads})`,
      async () => {
        const k = (await WasmKernels.create({ threads, spin: 1000, variant }))!;
        try {
          assert(k.threads === threads && k.variant === variant);
          let seed = 11;
          for (const [type, colsList] of CASES) {
            for (const cols of colsList) {
              for (const [rows, T] of [[7, 1], [13, 3], [33, 5], [9, 8]]) {
                check(k, type, rows, cols, T, seed++, (seed & 1) === 0);
              }
            }
          }
        } finally {
          await k.dispose();
        }
      },
      {
        ignore: kernelModule(variant) === undefined,
        reason: `this runtime cannot run the ${variant} kernels`,
      },
    );
  }
}

test("wasm matmul handles a matrix larger than one row chunk per thread", async () => {
  const k = (await WasmKernels.create({ threads: 2, spin: 1000 }))!;
  try {
    check(k, GGMLType.Q4_0, 301, 128, 2, 5, true);
    check(k, GGMLType.Q6_K, 77, 256, 1, 6, false);
  } finally {
    await k.dispose();
  }
}, { ignore: NO_WASM, reason: NO_WASM_REASON });

test("wasm matmul rejects operands of the wrong size and unsupported types", async () => {
  const k = (await WasmKernels.create({ threads: 1 }))!;
  try {
    const raw = quantize(GGMLType.Q8_0, randomFloats(64, 1, 1));
    const m = { type: GGMLType.Q8_0, rows: 2, cols: 32, ptr: k.upload(raw), rowBytes: 34 };
    assertThrows(() => k.matmul(m, new Float32Array(31), 1, new Float32Array(2)), /wrong size/);
    assertThrows(() => k.matmul(m, new Float32Array(32), 1, new Float32Array(1)), /wrong size/);
    const q2 = { ...m, type: GGMLType.Q2_K, cols: 256, rowBytes: 84 };
    assertThrows(
      () => k.matmul(q2, new Float32Array(256), 1, new Float32Array(2)),
      /no WebAssembly/,
    );
    const outside = { ...m, ptr: k.heap.used };
    assertThrows(() => k.matmul(outside, new Float32Array(32), 1, new Float32Array(2)), /inside/);
  } finally {
    await k.dispose();
  }
}, { ignore: NO_WASM, reason: NO_WASM_REASON });

test("WasmKernels.create rejects a bad thread count", async () => {
  let err: unknown;
  try {
    await WasmKernels.create({ threads: 0 });
  } catch (e) {
    err = e;
  }
  assert(err instanceof Error && (err as { code?: string }).code === "INVALID_ARGUMENT");
});

test("wasm scratch growth gives the outgrown block back to the heap", async () => {
  const k = (await WasmKernels.create({ threads: 1 }))!;
  try {
    const cols = 64, rows = 4;
    const raw = quantize(GGMLType.F32, randomFloats(rows * cols, 3, 1));
    const m = { type: GGMLType.F32, rows, cols, ptr: k.upload(raw), rowBytes: cols * 4 };
    const run = (T: number) =>
      k.matmul(m, randomFloats(T * cols, T, 1), T, new Float32Array(T * rows));
    run(1);
    const used = k.heap.used;
    // x grows 4 KiB -> 256 KiB -> 512 KiB...; each outgrown block must become reusable.
    for (const T of [1024, 2048, 4096]) run(T);
    const grown = k.heap.used - used;
    const xBytes = 4096 * cols * 4;
    // Live scratch after the loop: x (xBytes) and y (4096 * rows * 4 rounded up); without
    // freeing, every earlier x block (4 KiB + 256 KiB + 512 KiB) would stay allocated too.
    assert(grown - k.heap.freeBytes <= xBytes + 4096 * rows * 4 + 4096, `${grown}`);
  } finally {
    await k.dispose();
  }
}, { ignore: NO_WASM, reason: NO_WASM_REASON });
