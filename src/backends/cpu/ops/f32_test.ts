import { assertStrictEquals } from "../../../../tests/assert.ts";
import { test } from "../../../../tests/harness.ts";
import { fma64, fmaf, fr, hsum16, hsum8 } from "./f32.ts";

test("fmaf: one rounding where a * b + c in double then float rounds twice", () => {
  // a * b = 1 - 2^-46, so a * b + c = 2^24 + 3 - 2^-46: double rounds it to the float32
  // midpoint 2^24 + 3, which ties to even (2^24 + 4); the exact sum rounds to 2^24 + 2.
  const a = fr(1 + 2 ** -23);
  const b = fr(1 - 2 ** -23);
  const c = 16777218;
  assertStrictEquals(fr(a * b + c), 16777220);
  assertStrictEquals(fmaf(a, b, c), 16777218);
  // Same magnitudes, exact sum above the midpoint, and true ties.
  assertStrictEquals(fmaf(fr(1 + 2 ** -23), fr(1 + 2 ** -23), 16777218), 16777220);
  assertStrictEquals(fmaf(1, 1, 16777218), 16777220);
  assertStrictEquals(fmaf(1, 1, 16777216), 16777216);
  assertStrictEquals(fmaf(fr(0.1), fr(10), fr(-1)), fr(fr(0.1) * fr(10) - 1));
});

test("fma64: single rounding in double precision", () => {
  // (1 + 2^-52)(1 - 2^-52) = 1 - 2^-104: exact fma with c = -1 gives -2^-104.
  assertStrictEquals(fma64(1 + 2 ** -52, 1 - 2 ** -52, -1), -(2 ** -104));
  // (1 + 2^-52)(1 - 2^-53) + 2^-104 = 1 + 2^-53 + 2^-105 rounds up to 1 + 2^-52; the naive
  // form rounds the product to 1 first.
  assertStrictEquals(fma64(1 + 2 ** -52, 1 - 2 ** -53, 2 ** -104), 1 + 2 ** -52);
  assertStrictEquals((1 + 2 ** -52) * (1 - 2 ** -53) + 2 ** -104, 1);
  assertStrictEquals(fma64(3, 5, 7), 22);
});

test("hsum8 / hsum16: ggml's reduction order, not left to right", () => {
  // Left to right: 2^24 + 1 + 1 ... loses each 1; ggml pairs lanes 0+4, 2+6, 1+5, 3+7.
  const a = [16777216, 1, 1, 1, 1, 1, 1, 1];
  let seq = 0;
  for (const v of a) seq = fr(seq + v);
  assertStrictEquals(seq, 16777216);
  // (2^24 + 1) -> 2^24, (1 + 1) = 2, (1 + 1) = 2, (1 + 1) = 2; 2^24 + 2 = 16777218; 2 + 2 = 4.
  assertStrictEquals(hsum8(a), 16777222);
  const b = new Array(16).fill(1);
  b[0] = 16777216;
  // Halves first: lane 0 = 2^24 + 1 -> 2^24, others 2; then as hsum8.
  assertStrictEquals(hsum16(b), 16777230);
});
