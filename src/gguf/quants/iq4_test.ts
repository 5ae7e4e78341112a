import { assertStrictEquals } from "../../../tests/assert.ts";
import { test } from "../../../tests/harness.ts";
import { GGMLType } from "../ggml_types.ts";
import { dequantize } from "./mod.ts";
import { quantizerSuite } from "./_quant_suite.ts";
import { bestIndexIQ4, KVALUES_IQ4NL } from "./iq4.ts";
import { assertSameFloats } from "./_test_data.ts";

const kv = Array.from(KVALUES_IQ4NL);

// Measured worst case 0.077 (Q4_0: 0.087). Exact: every block holds -127 * d first, so the
// trial scale is d and the least squares refit keeps it.
quantizerSuite("IQ4_NL", {
  rmse: 0.085,
  exact: Float32Array.from({ length: 64 }, (_, i) => 2 ** -7 * kv[(i * 5) % 16]),
});

// Measured worst case 0.080 (the 6-bit group scales cost over IQ4_NL's 0.077). Exact: every
// group starts with -127 * 2^-7, so each group scale is 2^-7, the super-block scale 2^-12 and
// every l = -32.
quantizerSuite("IQ4_XS", {
  rmse: 0.085,
  exact: Float32Array.from(
    { length: 256 },
    (_, i) => 2 ** -7 * kv[i % 32 === 0 ? 0 : (i * 5) % 16],
  ),
});

test("IQ4_NL: nearest table index, ties to the larger value, clamped at the ends", () => {
  assertStrictEquals(bestIndexIQ4(-1000), 0);
  assertStrictEquals(bestIndexIQ4(1000), 15);
  assertStrictEquals(bestIndexIQ4(NaN), 0);
  for (let i = 0; i < 16; i++) assertStrictEquals(bestIndexIQ4(kv[i]), i);
  for (let i = 0; i < 15; i++) {
    const mid = (kv[i] + kv[i + 1]) / 2;
    assertStrictEquals(bestIndexIQ4(mid), i + 1, `tie between ${kv[i]} and ${kv[i + 1]}`);
    assertStrictEquals(bestIndexIQ4(mid - 0.01), i);
  }
});

test("IQ4_NL: hand-built block decodes as d * kvalues[nibble]", () => {
  const block = new Uint8Array(18);
  block.set([0x00, 0x30], 0); // d = 0.125
  for (let j = 0; j < 16; j++) block[2 + j] = j | (((j * 3) & 15) << 4);
  const want = [
    ...Array.from({ length: 16 }, (_, j) => 0.125 * kv[j]),
    ...Array.from({ length: 16 }, (_, j) => 0.125 * kv[(j * 3) & 15]),
  ];
  assertSameFloats(dequantize(GGMLType.IQ4_NL, block, 32), want);
});

test("IQ4_XS: hand-built block decodes with 6-bit scales split over scales_l/scales_h", () => {
  const block = new Uint8Array(136);
  block.set([0x00, 0x28], 0); // d = 2^-5
  const ls = [0, 63, 32, 17, 45, 1, 31, 50]; // scale - 32 per 32 weights
  let sh = 0;
  for (let ib = 0; ib < 8; ib++) {
    block[4 + (ib >> 1)] |= (ls[ib] & 15) << (4 * (ib & 1));
    sh |= (ls[ib] >> 4) << (2 * ib);
  }
  block[2] = sh & 0xff;
  block[3] = sh >> 8;
  for (let i = 0; i < 128; i++) block[8 + i] = (i * 89 + 4) & 0xff;
  const want = Array.from({ length: 256 }, (_, i) => {
    const ib = i >> 5;
    const byte = block[8 + 16 * ib + (i & 15)];
    const q = (i & 31) < 16 ? byte & 15 : byte >> 4;
    return Math.fround(2 ** -5 * (ls[ib] - 32) * kv[q]);
  });
  assertSameFloats(dequantize(GGMLType.IQ4_XS, block, 256), want);
});
