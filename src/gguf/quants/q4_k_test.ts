import { assert } from "../../../tests/assert.ts";
import { test } from "../../../tests/harness.ts";
import { GGMLType } from "../ggml_types.ts";
import { dequantize, quantize } from "./mod.ts";
import { quantizerSuite, roundTrip } from "./_quant_suite.ts";
import { packScaleMinK4 } from "./k_common.ts";
import { assertSameFloats, relativeRmse, seededNormal } from "./_test_data.ts";

// Measured worst case 0.072 (Q4_1 on the same data: 0.079).
quantizerSuite("Q4_K", { rmse: 0.08 });

test("Q4_K: the scale search beats plain min/max scaling at the same bits (Q4_1)", () => {
  const x = seededNormal(4096, 11);
  const k = relativeRmse(roundTrip("Q4_K", x), x);
  const legacy = relativeRmse(roundTrip("Q4_1", x), x);
  assert(k < legacy, `Q4_K ${k} vs Q4_1 ${legacy}`);
});

test("Q4_K: re-quantizing decoded values gives the same values back", () => {
  const y = roundTrip("Q4_K", seededNormal(2048, 12));
  const again = roundTrip("Q4_K", y);
  assert(relativeRmse(again, y) < 1e-3, `drift ${relativeRmse(again, y)}`);
});

test("Q4_K: hand-built block decodes as (d * sc) * nibble - dmin * m per 32 weights", () => {
  const block = new Uint8Array(144);
  block.set([0x00, 0x38, 0x00, 0x30], 0); // d = 0.5, dmin = 0.125
  const sc = Uint8Array.from([1, 2, 3, 63, 10, 20, 33, 47]);
  const mn = Uint8Array.from([0, 5, 63, 7, 8, 40, 1, 2]);
  packScaleMinK4(block, 4, sc, mn);
  for (let i = 0; i < 128; i++) block[16 + i] = (i * 37 + 11) & 0xff;
  const want = Array.from({ length: 256 }, (_, i) => {
    const sub = i >> 5;
    const byte = block[16 + 32 * (i >> 6) + (i & 31)];
    const q = sub & 1 ? byte >> 4 : byte & 15;
    return Math.fround(Math.fround(0.5 * sc[sub]) * q) - 0.125 * mn[sub];
  }).map(Math.fround);
  assertSameFloats(dequantize(GGMLType.Q4_K, block, 256), want);
  // Encoding those values again finds the same scales.
  const re = dequantize(GGMLType.Q4_K, quantize(GGMLType.Q4_K, new Float32Array(want)), 256);
  assert(relativeRmse(re, new Float32Array(want)) < 0.02);
});
