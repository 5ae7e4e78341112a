import { assertStrictEquals } from "../../../tests/assert.ts";
import { test } from "../../../tests/harness.ts";
import { makeQkx2Quants, packScaleMinK4, qkxMin, scaleMinK4 } from "./k_common.ts";
import { nearestInt } from "./round.ts";

test("K-quants: 6-bit scale/min packing round-trips every value in every slot", () => {
  const ls = new Uint8Array(8);
  const lm = new Uint8Array(8);
  const bytes = new Uint8Array(14);
  for (let v = 0; v < 64; v++) {
    for (let j = 0; j < 8; j++) {
      ls[j] = (v + 5 * j) & 63;
      lm[j] = (63 - v + 11 * j) & 63;
    }
    bytes.fill(0);
    packScaleMinK4(bytes, 1, ls, lm);
    assertStrictEquals(bytes[0] | bytes[13], 0, "packing stays inside its 12 bytes");
    for (let j = 0; j < 8; j++) {
      const sm = scaleMinK4(j, bytes, 1);
      assertStrictEquals(sm & 0xff, ls[j], `scale ${j} of ${v}`);
      assertStrictEquals(sm >> 8, lm[j], `min ${j} of ${v}`);
    }
  }
});

test("K-quants: nearestInt rounds half to even like ggml's float trick", () => {
  const cases: [number, number][] = [
    [0.5, 0],
    [1.5, 2],
    [2.5, 2],
    [-0.5, -0],
    [-1.5, -2],
    [
      -2.5,
      -2,
    ],
    [2.4999998, 2],
    [7.5000005, 8],
    [-7.49, -7],
  ];
  for (const [x, want] of cases) assertStrictEquals(nearestInt(x) + 0, want + 0, `${x}`);
});

test("K-quants: scale/min search reproduces values that lie on its grid", () => {
  // 32 values scale * l - min with l covering 0..15: the fit must find them exactly.
  const x = new Float32Array(32);
  for (let i = 0; i < 32; i++) x[i] = 0.25 * ((i * 7) % 16) - 1;
  const w = new Float32Array(32).fill(1);
  const L = new Uint8Array(32);
  const scale = makeQkx2Quants(32, 15, x, 0, w, L, new Uint8Array(32), -1, Math.fround(0.1), 20);
  assertStrictEquals(scale, 0.25);
  assertStrictEquals(qkxMin[0], 1);
  for (let i = 0; i < 32; i++) assertStrictEquals(L[i], (i * 7) % 16);
});
