import { assert } from "../../../tests/assert.ts";
import { test } from "../../../tests/harness.ts";
import { GGMLType } from "../ggml_types.ts";
import { dequantize } from "./mod.ts";
import { quantizerSuite, roundTrip } from "./_quant_suite.ts";
import { packScaleMinK4 } from "./k_common.ts";
import { assertSameFloats, relativeRmse, seededNormal } from "./_test_data.ts";

// Measured worst case 0.036 (Q5_1 on the same data: 0.038).
quantizerSuite("Q5_K", { rmse: 0.04 });

test("Q5_K: the scale search beats plain min/max scaling at the same bits (Q5_1)", () => {
  const x = seededNormal(4096, 21);
  const k = relativeRmse(roundTrip("Q5_K", x), x);
  const legacy = relativeRmse(roundTrip("Q5_1", x), x);
  assert(k < legacy, `Q5_K ${k} vs Q5_1 ${legacy}`);
});

test("Q5_K: re-quantizing decoded values stays within a small drift", () => {
  const y = roundTrip("Q5_K", seededNormal(2048, 22));
  const again = roundTrip("Q5_K", y);
  assert(relativeRmse(again, y) < 3e-3, `drift ${relativeRmse(again, y)}`);
});

test("Q5_K: hand-built block takes the fifth bit from qh (bit 2j, 2j+1 per 64)", () => {
  const block = new Uint8Array(176);
  block.set([0x00, 0x3c, 0x00, 0x38], 0); // d = 1, dmin = 0.5
  const sc = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
  const mn = Uint8Array.from([8, 7, 6, 5, 4, 3, 2, 1]);
  packScaleMinK4(block, 4, sc, mn);
  for (let i = 0; i < 32; i++) block[16 + i] = (i * 73 + 5) & 0xff;
  for (let i = 0; i < 128; i++) block[48 + i] = (i * 29 + 3) & 0xff;
  const want = Array.from({ length: 256 }, (_, i) => {
    const sub = i >> 5;
    const l = i & 31;
    const byte = block[48 + 32 * (i >> 6) + l];
    const q = (sub & 1 ? byte >> 4 : byte & 15) | (((block[16 + l] >> sub) & 1) << 4);
    return Math.fround(sc[sub] * q - 0.5 * mn[sub]);
  });
  assertSameFloats(dequantize(GGMLType.Q5_K, block, 256), want);
});
