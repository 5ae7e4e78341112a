import { assert, assertStrictEquals } from "../../../../tests/assert.ts";
import { test } from "../../../../tests/harness.ts";
import { GGMLType } from "../../../gguf/ggml_types.ts";
import { f16ToF32 } from "../../../gguf/quants/mod.ts";
import { quantizeQ8 } from "./act_quant.ts";
import { fmaf, fr } from "./f32.ts";
import { matmul } from "./matmul.ts";

test("quantizeQ8: multiplier 127 / amax as ggml's x86 code, not 1 / d", () => {
  const x = new Float32Array(32);
  x[0] = 0.8253847360610962;
  x[1] = -0.8156360387802124;
  const q = quantizeQ8(x);
  assertStrictEquals(q.qs[0], 127);
  assertStrictEquals(q.qs[1], -126); // 1 / fr(amax / 127) would give -125
});

test("matmul Q8_0: float32 lanes with FMA and hsum8, not a float64 dot", () => {
  // One row of two blocks: block 0 scale 192 (f16 0x5a00), block 1 scale 0.30004883 (0x34cd).
  const data = new Uint8Array(68);
  data.set([0x00, 0x5a], 0);
  data.set([0xcd, 0x34], 34);
  for (let i = 0; i < 32; i++) {
    data[2 + i] = 127;
    data[36 + i] = i % 7 === 0 ? 0x81 : (i * 37) % 19; // -127 and small values
  }
  // Integer activations with amax 127 quantize to themselves with d = 1.
  const x = new Float32Array(64);
  for (let i = 0; i < 64; i++) x[i] = i % 32 === 0 ? 127 : ((i * 53) % 255) - 127;
  const y = new Float32Array(1);
  matmul({ type: GGMLType.Q8_0, rows: 1, cols: 64, data, rowBytes: 68 }, x, 1, y);
  // Hand-written reference of the spec: lane j of each block sums elements 4j..4j+3.
  const w = (i: number) => (i < 32 ? 127 : ((data[4 + i] << 24) >> 24));
  const acc = new Array(8).fill(0);
  let f64 = 0;
  for (let b = 0; b < 2; b++) {
    const d = f16ToF32(b === 0 ? 0x5a00 : 0x34cd);
    for (let j = 0; j < 8; j++) {
      let lane = 0;
      for (let i = 4 * j; i < 4 * j + 4; i++) lane += w(32 * b + i) * x[32 * b + i];
      acc[j] = fmaf(d, lane, acc[j]);
      f64 += d * lane;
    }
  }
  const want = fr(
    fr(fr(acc[0] + acc[4]) + fr(acc[2] + acc[6])) + fr(fr(acc[1] + acc[5]) + fr(acc[3] + acc[7])),
  );
  assertStrictEquals(y[0], want);
  assert(fr(f64) !== want, "the case must tell float64 accumulation from ggml's order");
});
