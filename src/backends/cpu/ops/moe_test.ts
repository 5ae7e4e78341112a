/** MoE pieces: expert views without copies, llama.cpp's softmax steps, top-k order. */
import { assert, assertEquals } from "../../../../tests/assert.ts";
import { test } from "../../../../tests/harness.ts";
import { GGMLType } from "../../../gguf/ggml_types.ts";
import { expertView, softmaxRow, topK } from "./moe.ts";
import type { QuantMatrix } from "./matmul.ts";

test("moe: an expert view is the expert's rows of the 3-D tensor, sharing its bytes", () => {
  const f32 = Float32Array.from({ length: 3 * 2 * 4 }, (_, i) => i); // 3 experts of [4, 2]
  const m: QuantMatrix = {
    type: GGMLType.F32,
    rows: 6,
    cols: 4,
    rowBytes: 16,
    data: new Uint8Array(f32.buffer),
    f32,
    ptr: 1024,
  };
  const v = expertView(m, 2, 3);
  assertEquals([v.rows, v.cols, v.ptr, Array.from(v.f32!)], [2, 4, 1024 + 2 * 32, [
    16,
    17,
    18,
    19,
    20,
    21,
    22,
    23,
  ]]);
  assert(v.data.buffer === m.data.buffer && v.data.byteOffset === 64);
});

test("moe: softmax sums to one in float32 steps, for short and 16-wide rows", () => {
  for (const n of [4, 8, 16, 20]) {
    const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 3);
    const ref = Array.from(x, (v) => Math.exp(v));
    const s = ref.reduce((a, b) => a + b, 0);
    softmaxRow(x);
    x.forEach((p, i) => assert(Math.abs(p - ref[i] / s) < 1e-6, `${n}:${i}`));
  }
});

test("moe: top-k is by value, largest first, ties to the lower index", () => {
  assertEquals(topK(Float32Array.of(0.1, 0.4, 0.4, 0.05, 0.05), 3), [1, 2, 0]);
  assertEquals(topK(Float32Array.of(0.5, 0.5), 1), [0]);
});
