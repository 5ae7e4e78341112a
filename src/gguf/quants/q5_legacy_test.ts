import { test } from "../../../tests/harness.ts";
import { GGMLType } from "../ggml_types.ts";
import { dequantize } from "./mod.ts";
import { gridValues, quantizerSuite } from "./_quant_suite.ts";
import { assertSameFloats } from "./_test_data.ts";

const codes32 = Array.from({ length: 32 }, (_, q) => q);

// Measured worst cases: Q5_0 0.043, Q5_1 0.038.
quantizerSuite("Q5_0", { rmse: 0.05, exact: gridValues(128, codes32.map((q) => q - 16), 0.0625) });
quantizerSuite("Q5_1", {
  rmse: 0.045,
  exact: gridValues(128, codes32.map((q) => (q * 13) % 32), 0.125).map((v) => v - 2),
});

/** A block whose element i has the 5-bit code (i * 11) % 32. */
function codesBlock(header: number[], size: number): Uint8Array {
  const block = new Uint8Array(size);
  block.set(header, 0);
  const qhAt = header.length;
  const qsAt = qhAt + 4;
  let qh = 0;
  for (let i = 0; i < 32; i++) {
    const q = (i * 11) % 32;
    block[qsAt + (i % 16)] |= (q & 15) << (i < 16 ? 0 : 4);
    if (q & 16) qh |= 1 << i;
  }
  new DataView(block.buffer).setUint32(qhAt, qh >>> 0, true);
  return block;
}

test("Q5_0: hand-built block decodes as d * (code - 16) with the fifth bit from qh", () => {
  const block = codesBlock([0x00, 0x38], 22); // d = 0.5
  const want = codes32.map((i) => 0.5 * (((i * 11) % 32) - 16));
  assertSameFloats(dequantize(GGMLType.Q5_0, block, 32), want);
});

test("Q5_1: hand-built block decodes as d * code + m with the fifth bit from qh", () => {
  const block = codesBlock([0x00, 0x30, 0x00, 0x40], 24); // d = 0.125, m = 2
  const want = codes32.map((i) => 0.125 * ((i * 11) % 32) + 2);
  assertSameFloats(dequantize(GGMLType.Q5_1, block, 32), want);
});
