import { assert, assertStrictEquals } from "../../../tests/assert.ts";
import { test } from "../../../tests/harness.ts";
import { bf16ToF32, f16ToF32, f32Bits, f32ToBf16, f32ToF16 } from "./half.ts";

/** binary16 value from its fields with plain arithmetic (independent of the table). */
function f16Reference(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0x1f) return m ? NaN : s * Infinity;
  if (e === 0) return s * m * 2 ** -24;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

const isF16NaN = (h: number): boolean => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;

test("f16: all 65536 values decode exactly and round-trip f16 -> f32 -> f16", () => {
  for (let h = 0; h < 65536; h++) {
    const f = f16ToF32(h);
    const want = f16Reference(h);
    if (Number.isNaN(want)) {
      assert(Number.isNaN(f), `0x${h.toString(16)} should decode to NaN`);
      const back = f32ToF16(f);
      assert(isF16NaN(back), `NaN 0x${h.toString(16)} came back as 0x${back.toString(16)}`);
      assertStrictEquals(back & 0x8000, h & 0x8000, "NaN sign");
      continue;
    }
    assert(Object.is(f, want), `0x${h.toString(16)}: ${f} != ${want}`);
    assertStrictEquals(f32ToF16(f), h, `round trip of 0x${h.toString(16)}`);
  }
});

/** All finite non-negative binary16 values in increasing order (index = bits). */
const POS = Array.from({ length: 0x7c00 }, (_, h) => f16Reference(h));

/** Nearest binary16 by search, ties to the even code; overflow past 65520 is infinity. */
function f16Nearest(v: number): number {
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a >= 65520) return sign | 0x7c00;
  let lo = 0;
  let hi = POS.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (POS[mid] <= a) lo = mid;
    else hi = mid;
  }
  const dl = a - POS[lo];
  const dh = POS[hi] - a;
  const pick = dl < dh ? lo : dh < dl ? hi : (lo & 1 ? hi : lo);
  return sign | pick;
}

test("f16: float32 -> f16 rounds to nearest even (ties, overflow, subnormals, random)", () => {
  const cases: number[] = [0, -0, 65504, 65519.99, 65520, -65520, 1e9, 2 ** -24, 2 ** -25];
  cases.push(2 ** -25 * 1.0000001, 2 ** -26, 5.9604644775390625e-8, 6.1035156e-5, 1e-45);
  // Exact midpoints between neighbouring f16 values, and one float32 ulp either side.
  for (let h = 0; h < 0x7bff; h += 37) {
    const mid = (POS[h] + POS[h + 1]) / 2;
    const m32 = Math.fround(mid);
    cases.push(m32, -m32);
    const bits = f32Bits(m32);
    const up = new Float32Array(new Uint32Array([bits + 1]).buffer)[0];
    cases.push(up);
    if (bits > 0) cases.push(new Float32Array(new Uint32Array([bits - 1]).buffer)[0]);
  }
  let s = 12345;
  const u = new Uint32Array(1);
  const f = new Float32Array(u.buffer);
  for (let i = 0; i < 20000; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    u[0] = (s & 0x7fffffff) < 0x7f800000 ? s : s & 0x477fffff;
    cases.push(f[0]);
  }
  for (const v of cases) {
    const want = f16Nearest(Math.fround(v));
    assertStrictEquals(f32ToF16(v), want, `f32ToF16(${v})`);
  }
  assertStrictEquals(f32ToF16(Infinity), 0x7c00);
  assertStrictEquals(f32ToF16(-Infinity), 0xfc00);
  assert(isF16NaN(f32ToF16(NaN)));
});

test("bf16: all 65536 values round-trip bf16 -> f32 -> bf16, NaNs stay NaN", () => {
  for (let b = 0; b < 65536; b++) {
    const f = bf16ToF32(b);
    const back = f32ToBf16(f);
    const isNaN = (b & 0x7f80) === 0x7f80 && (b & 0x7f) !== 0;
    assertStrictEquals(Number.isNaN(f), isNaN, `0x${b.toString(16)} NaN-ness`);
    if (!isNaN) assertStrictEquals(f32Bits(f), b << 16 >>> 0, `bits of 0x${b.toString(16)}`);
    if (isNaN) {
      assert((back & 0x7f80) === 0x7f80 && (back & 0x7f) !== 0, `NaN 0x${b.toString(16)}`);
      assertStrictEquals(back & 0x8000, b & 0x8000);
    } else {
      assertStrictEquals(back, b, `round trip of 0x${b.toString(16)}`);
    }
  }
});

test("bf16: float32 -> bf16 rounds to nearest even like ggml, quiets NaN, keeps subnormals", () => {
  const fromBits = (bits: number): number => new Float32Array(new Uint32Array([bits]).buffer)[0];
  assertStrictEquals(f32ToBf16(fromBits(0x3f808000)), 0x3f80); // tie, even stays
  assertStrictEquals(f32ToBf16(fromBits(0x3f818000)), 0x3f82); // tie, odd rounds up
  assertStrictEquals(f32ToBf16(fromBits(0x3f808001)), 0x3f81); // above the tie
  assertStrictEquals(f32ToBf16(fromBits(0x3f807fff)), 0x3f80); // below the tie
  assertStrictEquals(f32ToBf16(fromBits(0xbf818000)), 0xbf82); // negative tie
  assertStrictEquals(f32ToBf16(fromBits(0x7f7fffff)), 0x7f80); // max float -> inf
  assertStrictEquals(f32ToBf16(fromBits(0x00018000)), 0x0002); // subnormal kept, rounded
  assertStrictEquals(f32ToBf16(fromBits(0x7f800001)), 0x7fc0); // signalling NaN quieted
  assertStrictEquals(f32ToBf16(fromBits(0xffc12345)), 0xffc1); // quiet NaN keeps payload
  assertStrictEquals(f32ToBf16(-0), 0x8000);
  assertStrictEquals(f32ToBf16(Infinity), 0x7f80);
  assertStrictEquals(bf16ToF32(0x3f80), 1);
  assertStrictEquals(bf16ToF32(0xc040), -3);
});
