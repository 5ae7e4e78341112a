import { assert, assertEquals } from "../../../../tests/assert.ts";
import { test } from "../../../../tests/harness.ts";
import { randomFloats } from "../../../../tests/random_data.ts";
import { CpuKVStore } from "../kv.ts";
import { allocRows, dotK, prepareQuery, rowV, storeRows } from "./kv_rows.ts";
import { rotate, rotationK, rotationV } from "./kv_rotation.ts";

const plain = (n: number) => new Float32Array(n);

test("kv rows: q8_0 / q4_0 store whole blocks near the input; dotK is the dequantized dot", () => {
  const x = randomFloats(128, 3, 2);
  for (const [type, err] of [["q8_0", 2 / 127], ["q4_0", 2 / 7]] as const) {
    const r = allocRows(type, 256, plain);
    storeRows(r, 128, x, 128);
    const v = rowV(r, 128, 128, new Float32Array(128));
    let worst = 0;
    for (let i = 0; i < 128; i++) worst = Math.max(worst, Math.abs(v[i] - x[i]));
    assert(worst <= err, `${type}: ${worst}`);
    // K·q with q quantized to Q8_0 is close to the float dot of the stored values
    const q = randomFloats(64, 4, 1);
    const got = dotK(r, 128, prepareQuery(type, q, 0, 64), 64);
    let want = 0;
    for (let i = 0; i < 64; i++) want += v[i] * q[i];
    assert(Math.abs(got - want) < 0.05 * (1 + Math.abs(want)), `${type}: ${got} vs ${want}`);
  }
});

test("kv rows: the CPU store's bytes follow the types (q4_0 held a byte an element)", () => {
  const spec = { layers: [0, 1], capacity: 16, nHeadKV: 2, headDim: 64, valueDim: 64 };
  const f16 = new CpuKVStore(spec);
  const q8 = new CpuKVStore({ ...spec, types: { k: "q8_0", v: "q8_0" } });
  const q4 = new CpuKVStore({ ...spec, types: { k: "q4_0", v: "f16" } });
  const n = 2 * 16 * 2 * 64; // elements of K (or V) over both layers
  assertEquals([f16.bytes, q8.bytes, q4.bytes], [n * 8, n * 36 / 16, n * 36 / 32 + n * 4]);
});

test("kv rotation: sizes as llama.cpp picks them; the rotation is its own inverse", () => {
  assertEquals(
    [rotationK("q8_0", 64), rotationK("q8_0", 128), rotationK("q4_0", 192), rotationK("f16", 64)],
    [64, 128, 64, 0],
  );
  assertEquals([rotationV("q8_0", 128), rotationV("q8_0", 32), rotationV("f32", 64)], [64, 0, 0]);
  const x = randomFloats(256, 9, 3);
  const y = rotate(rotate(x, 128), 128);
  for (let i = 0; i < x.length; i++) assert(Math.abs(x[i] - y[i]) < 1e-5, `${x[i]} ${y[i]}`);
  // orthonormal: the norm is kept
  const norm = (a: Float32Array) => Math.hypot(...a);
  assert(Math.abs(norm(rotate(x, 64)) - norm(x)) < 1e-4);
});
