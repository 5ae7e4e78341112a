import { assertStrictEquals } from "../../../tests/assert.ts";
import { test } from "../../../tests/harness.ts";
import { GGMLType } from "../ggml_types.ts";
import { dequantize, quantize } from "./mod.ts";
import { quantizerSuite } from "./_quant_suite.ts";
import { e8m0ToF32Half } from "./mxfp4.ts";
import { assertSameFloats } from "./_test_data.ts";

/** The FP4 E2M1 value of a 4-bit code, from its fields (sign, 2-bit exponent, 1-bit mantissa). */
function e2m1(code: number): number {
  const s = code & 8 ? -1 : 1;
  const e = (code >> 1) & 3;
  const m = code & 1;
  return s * (e === 0 ? m * 0.5 : (1 + m / 2) * 2 ** (e - 1));
}

// Measured worst case 0.116 (4-bit float codes with a power-of-two scale).
quantizerSuite("MXFP4", {
  rmse: 0.13,
  // -0 (code 8) is written as code 0 and decodes as +0, hence the + 0.
  exact: Float32Array.from({ length: 64 }, (_, i) => (i % 32 === 0 ? 6 : e2m1(i % 16)) * 0.25 + 0),
});

test("MXFP4: the E8M0 scale is 2^(e - 127), halved against the doubled codes", () => {
  assertStrictEquals(e8m0ToF32Half(127), 0.5);
  assertStrictEquals(e8m0ToF32Half(128), 1);
  assertStrictEquals(e8m0ToF32Half(254), 2 ** 126);
  assertStrictEquals(e8m0ToF32Half(2), 2 ** -126);
  assertStrictEquals(e8m0ToF32Half(1), 2 ** -127); // float32 subnormal
  assertStrictEquals(e8m0ToF32Half(0), 2 ** -128);
});

test("MXFP4: hand-built blocks decode as E2M1(code) * 2^(e - 127)", () => {
  for (const e of [0, 1, 100, 127, 130, 254]) {
    const block = new Uint8Array(17);
    block[0] = e;
    for (let j = 0; j < 16; j++) block[1 + j] = j | ((15 - j) << 4);
    const want = Array.from({ length: 32 }, (_, i) => {
      const code = i < 16 ? i : 15 - (i - 16);
      // ggml decodes code 8 (-0 in E2M1) as +0: kvalues_mxfp4[8] is 0.
      return Math.fround(e2m1(code) * 2 ** (e - 127)) + 0;
    });
    assertSameFloats(dequantize(GGMLType.MXFP4, block, 32), want, `e = ${e}`);
  }
});

test("MXFP4: quantize picks e = floor(log2(amax)) - 2 + 127 and the nearest code", () => {
  const x = new Float32Array(32);
  x.set([6, -3, 0.26, 0.24, 1.25, -0.76, 100]);
  const bytes = quantize(GGMLType.MXFP4, x);
  assertStrictEquals(bytes[0], 6 - 2 + 127); // log2(100) = 6.64
  // Scale 2^(6 - 2) = 16: 6 -> 0.375 * 16 -> nearest code 0.5 (code 1).
  const back = dequantize(GGMLType.MXFP4, bytes, 32);
  assertSameFloats(back.subarray(0, 7), [8, 0, 0, 0, 0, 0, 96]);
});
