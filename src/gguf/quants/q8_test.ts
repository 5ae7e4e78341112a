import { assert, assertEquals, assertStrictEquals } from "../../../tests/assert.ts";
import { test } from "../../../tests/harness.ts";
import { GGMLType } from "../ggml_types.ts";
import { dequantize, quantize } from "./mod.ts";
import { gridValues, quantizerSuite } from "./_quant_suite.ts";
import { seededNormal } from "./_test_data.ts";

const q8codes = Array.from({ length: 255 }, (_, i) => i - 127);

// Measured worst cases: Q8_0 0.0054, Q8_K 0.0071.
// Every block holds ±127 so its scale is exactly 2^-6; the other codes sweep -127..127.
const q8blocks = Array.from(
  { length: 256 },
  (_, i) => i % 32 === 0 ? (i % 64 ? 127 : -127) : q8codes[(i * 7) % 255],
);
quantizerSuite("Q8_0", { rmse: 0.007, exact: gridValues(256, q8blocks, 2 ** -6) });
quantizerSuite("Q8_K", {
  rmse: 0.009,
  exact: gridValues(256, [-127, ...q8codes.slice(0, 254)], 2 ** -5),
});

test("Q8_0: hand-built block decodes as d * int8", () => {
  const block = new Uint8Array(34);
  block.set([0x00, 0x3c], 0); // d = 1
  const q = new Int8Array(block.buffer, 2, 32);
  for (let j = 0; j < 32; j++) q[j] = j * 8 - 128;
  assertEquals(
    Array.from(dequantize(GGMLType.Q8_0, block, 32)),
    Array.from({ length: 32 }, (_, j) => j * 8 - 128),
  );
});

test("Q8_0: quantize rounds half away from zero like roundf", () => {
  // amax 127 gives d = 1 exactly, so 2.5 -> 3 and -2.5 -> -3.
  const x = new Float32Array(32);
  x.set([127, 2.5, -2.5, 0.5, -0.5, 1.49]);
  const q = new Int8Array(quantize(GGMLType.Q8_0, x).buffer, 2, 32);
  assertEquals(Array.from(q.subarray(0, 6)), [127, 3, -3, 1, -1, 1]);
});

test("Q8_K: float32 scale, int8 quants and the 16-weight sums are written", () => {
  const x = seededNormal(256, 3);
  const bytes = quantize(GGMLType.Q8_K, x);
  assertStrictEquals(bytes.length, 292);
  const view = new DataView(bytes.buffer);
  const q = new Int8Array(bytes.buffer, 4, 256);
  assert(Math.max(...q.map(Math.abs)) === 127);
  for (let g = 0; g < 16; g++) {
    let s = 0;
    for (let j = 0; j < 16; j++) s += q[16 * g + j];
    assertStrictEquals(view.getInt16(260 + 2 * g, true), s);
  }
  const d = view.getFloat32(0, true);
  const back = dequantize(GGMLType.Q8_K, bytes, 256);
  for (let j = 0; j < 256; j++) assertStrictEquals(back[j], Math.fround(d * q[j]));
});
