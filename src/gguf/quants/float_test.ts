import { assertEquals } from "../../../tests/assert.ts";
import { test } from "../../../tests/harness.ts";
import { GGMLType } from "../ggml_types.ts";
import { dequantize, quantize } from "./mod.ts";
import { quantizerSuite } from "./_quant_suite.ts";
import { assertSameFloats } from "./_test_data.ts";

// Measured worst cases over the suite's data: F16 2.1e-4, BF16 1.7e-3.
quantizerSuite("F16", {
  rmse: 4e-4,
  exact: new Float32Array([0, -0, 1, -2.5, 65504, 6.103515625e-5, 5.960464477539063e-8, 0.1875]),
});
quantizerSuite("BF16", {
  rmse: 3e-3,
  exact: new Float32Array([
    0,
    -0,
    1,
    -2.5,
    3.3895313892515355e38,
    9.183549615799121e-41,
  ]),
});

test("F16/BF16: quantize writes little-endian codes, overflow and NaN as ggml", () => {
  const x = new Float32Array([1, -2, 70000, NaN, Infinity]);
  assertEquals(Array.from(quantize(GGMLType.F16, x)), [
    0x00,
    0x3c,
    0x00,
    0xc0,
    0x00,
    0x7c,
    0x00,
    0x7e,
    0x00,
    0x7c,
  ]);
  assertEquals(Array.from(quantize(GGMLType.BF16, x)), [
    0x80,
    0x3f,
    0x00,
    0xc0,
    0x89,
    0x47,
    0xc0,
    0x7f,
    0x80,
    0x7f,
  ]);
  const back = dequantize(GGMLType.F16, quantize(GGMLType.F16, x), 5);
  assertSameFloats(back, [1, -2, Infinity, NaN, Infinity]);
});
