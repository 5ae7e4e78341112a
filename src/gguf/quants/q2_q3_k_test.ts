import { test } from "../../../tests/harness.ts";
import { GGMLType } from "../ggml_types.ts";
import { dequantize } from "./mod.ts";
import { assertSameFloats } from "./_test_data.ts";

/** Bytes with a fixed pseudo-random pattern. */
function pattern(n: number, mul: number, add: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * mul + add) & 0xff);
}

/** 2-bit code of weight i: bit pair (i % 128) / 32 of byte 32 * (i / 128) + i % 32. */
function code2(qs: Uint8Array, i: number): number {
  return (qs[32 * (i >> 7) + (i & 31)] >> (2 * ((i & 127) >> 5))) & 3;
}

test("Q2_K: hand-built block decodes per 16 weights as (d * sc) * q - dmin * m", () => {
  const block = new Uint8Array(84);
  block.set(pattern(16, 53, 9), 0);
  block.set(pattern(64, 97, 1), 16);
  block.set([0x00, 0x3a, 0x00, 0x2c], 80); // d = 0.75, dmin = 0.0625
  const qs = block.subarray(16, 80);
  const want = Array.from({ length: 256 }, (_, i) => {
    const s = block[i >> 4];
    const dl = 0.75 * (s & 15);
    return Math.fround(Math.fround(dl * code2(qs, i)) - 0.0625 * (s >> 4));
  });
  assertSameFloats(dequantize(GGMLType.Q2_K, block, 256), want);
});

test("Q3_K: hand-built block decodes with hmask high bits and 6-bit signed scales", () => {
  const block = new Uint8Array(110);
  block.set(pattern(32, 41, 3), 0); // hmask
  block.set(pattern(64, 97, 1), 32); // qs
  block.set(pattern(12, 75, 13), 96); // scales
  block.set([0x00, 0x2c], 108); // d = 0.0625
  const qs = block.subarray(32, 96);
  const sb = block.subarray(96, 108);
  const want = Array.from({ length: 256 }, (_, i) => {
    const j = i >> 4;
    const low = j < 8 ? sb[j] & 15 : sb[j - 8] >> 4;
    const sc = (low | (((sb[8 + (j % 4)] >> (2 * (j >> 2))) & 3) << 4)) - 32;
    const high = (block[i & 31] >> (i >> 5)) & 1;
    return Math.fround(0.0625 * sc * (code2(qs, i) - (high ? 0 : 4)));
  });
  assertSameFloats(dequantize(GGMLType.Q3_K, block, 256), want);
});
