import { assert } from "../../../tests/assert.ts";
import { test } from "../../../tests/harness.ts";
import { GGMLType } from "../ggml_types.ts";
import { dequantize } from "./mod.ts";
import { quantizerSuite, roundTrip } from "./_quant_suite.ts";
import { assertSameFloats, relativeRmse, seededNormal } from "./_test_data.ts";

// Measured 0.018 at sigma 1 (Q5_K: 0.036, Q8_0: 0.0054); 0.0206 at sigma 1e-3, where the
// f16 super-block scale d = max / 128 falls into the f16 subnormal range.
quantizerSuite("Q6_K", { rmse: 0.022 });

test("Q6_K: re-quantizing decoded values reproduces them exactly", () => {
  const y = roundTrip("Q6_K", seededNormal(2048, 31));
  const again = roundTrip("Q6_K", y);
  assertSameFloats(again, y);
});

test("Q6_K: error sits between Q5_K and Q8_0", () => {
  const x = seededNormal(4096, 32);
  const e6 = relativeRmse(roundTrip("Q6_K", x), x);
  assert(e6 < relativeRmse(roundTrip("Q5_K", x), x));
  assert(e6 > relativeRmse(roundTrip("Q8_0", x), x));
});

test("Q6_K: hand-built block decodes as (d * sc) * (6-bit code - 32)", () => {
  const block = new Uint8Array(210);
  for (let i = 0; i < 192; i++) block[i] = (i * 151 + 7) & 0xff;
  const sc = new Int8Array(block.buffer, 192, 16);
  for (let g = 0; g < 16; g++) sc[g] = g * 17 - 128;
  block.set([0x00, 0x24], 208); // d = 2^-6
  const want = Array.from({ length: 256 }, (_, i) => {
    const half = i >> 7;
    const k = (i & 127) >> 5;
    const l = i & 31;
    const lowByte = block[64 * half + l + 32 * (k & 1)];
    const low = k >> 1 ? lowByte >> 4 : lowByte & 15;
    const high = (block[128 + 32 * half + l] >> (2 * k)) & 3;
    return Math.fround(2 ** -6 * sc[i >> 4] * ((low | (high << 4)) - 32));
  });
  assertSameFloats(dequantize(GGMLType.Q6_K, block, 256), want);
});
