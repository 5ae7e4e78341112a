import { test } from "../../../tests/harness.ts";
import { GGMLType } from "../ggml_types.ts";
import { dequantize } from "./mod.ts";
import { gridValues, quantizerSuite } from "./_quant_suite.ts";
import { assertSameFloats } from "./_test_data.ts";

const codes16 = Array.from({ length: 16 }, (_, q) => q);

// Measured worst cases: Q4_0 0.087, Q4_1 0.079.
quantizerSuite("Q4_0", { rmse: 0.1, exact: gridValues(128, codes16.map((q) => q - 8), 0.125) });
quantizerSuite("Q4_1", {
  rmse: 0.09,
  exact: gridValues(128, codes16, 0.25).map((v) => v - 1.5),
});

test("Q4_0: hand-built block decodes as d * (nibble - 8), low nibbles first", () => {
  const block = new Uint8Array(18);
  block.set([0x00, 0x38], 0); // d = 0.5
  for (let j = 0; j < 16; j++) block[2 + j] = j | ((15 - j) << 4);
  const want = [
    ...codes16.map((q) => 0.5 * (q - 8)),
    ...codes16.map((q) => 0.5 * (15 - q - 8)),
  ];
  assertSameFloats(dequantize(GGMLType.Q4_0, block, 32), want);
});

test("Q4_1: hand-built block decodes as d * nibble + m", () => {
  const block = new Uint8Array(20);
  block.set([0x00, 0x34, 0x00, 0xbc], 0); // d = 0.25, m = -1
  for (let j = 0; j < 16; j++) block[4 + j] = (j * 7 % 16) | (j << 4);
  const want = [
    ...codes16.map((j) => 0.25 * (j * 7 % 16) - 1),
    ...codes16.map((j) => 0.25 * j - 1),
  ];
  assertSameFloats(dequantize(GGMLType.Q4_1, block, 32), want);
});
