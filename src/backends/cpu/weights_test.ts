/**
 * CpuWeightStore placement: kernel-supported matrices are copied into the kernel memory
 * (their bytes unchanged, viewed in place), others stay in host memory, vectors are decoded,
 * and disposing gives the region back.
 *
 * @module
 */
import { test } from "../../../tests/harness.ts";
import { assert, assertEquals, assertStrictEquals } from "../../../tests/assert.ts";
import type { WeightTensor } from "../../core/backend.ts";
import { GGMLType, typeTraits } from "../../gguf/ggml_types.ts";
import { kernelModule } from "./wasm/module.ts";
import { WasmKernels } from "./wasm/runtime.ts";
import { CpuWeightStore } from "./weights.ts";

function tensor(name: string, type: GGMLType, dims: number[], fill: number): WeightTensor {
  const tr = typeTraits(type);
  const n = dims.reduce((a, b) => a * b, 1);
  const bytes = new Uint8Array((n / tr.blockSize) * tr.typeSize);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * fill + 3) & 0x7f;
  return {
    info: { name, dims, type, offset: 0, nElements: n, nBytes: bytes.length },
    read: () => bytes,
  } as WeightTensor;
}

test("CpuWeightStore places kernel types in the kernel memory and frees them", async () => {
  const k = (await WasmKernels.create({ threads: 1 }))!;
  try {
    const mark = k.heap.used;
    const store = new CpuWeightStore(k);
    const q4 = tensor("a", GGMLType.Q4_0, [64, 3], 7);
    const q2 = tensor("b", GGMLType.Q2_K, [256, 2], 5);
    const norm = tensor("n", GGMLType.F32, [16], 0);
    store.addAll([q4, q2, norm]);
    const a = store.matrix("a");
    assert(a.ptr !== undefined && a.ptr >= mark);
    assert(a.data.buffer instanceof SharedArrayBuffer, "matrix bytes are not in the kernel memory");
    assertEquals([...a.data], [...q4.read()]);
    assertEquals([...k.heap.u8.subarray(a.ptr!, a.ptr! + a.data.length)], [...q4.read()]);
    assertStrictEquals(store.matrix("b").ptr, undefined);
    assertStrictEquals(store.vector("n").length, 16);
    assert(k.heap.used > mark);
    store.dispose();
    assert(k.heap.used - mark < 64, `${k.heap.used - mark} bytes still allocated`);
  } finally {
    await k.dispose();
  }
}, { ignore: kernelModule() === undefined, reason: "no WebAssembly SIMD / shared memory here" });

test("CpuWeightStore without kernels keeps every matrix in host memory", () => {
  const store = new CpuWeightStore();
  store.addAll([tensor("a", GGMLType.Q4_0, [64, 3], 7)]);
  assertStrictEquals(store.matrix("a").ptr, undefined);
  assertStrictEquals(store.matrix("a").rows, 3);
});
