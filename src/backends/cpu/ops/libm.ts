/**
 * Bit-exact emulations of the glibc float math functions llama.cpp's CPU code calls (glibc
 * 2.27+ algorithms for x86-64, the FMA variants the ifunc picks on FMA-capable CPUs):
 * `expf` (flash-attention softmax, SiLU tails) and `sincosf` (the RoPE cos/sin cache).
 * Math.exp / Math.cos rounded to float32 differ from them in roughly 0.1% (expf) and 2%
 * (sincosf) of the inputs, which is enough to move an 8-bit activation rounding.
 *
 * Both compute in double precision; every double operation here is an IEEE double operation
 * in JavaScript too, and the FMAs are emulated exactly with fma64.
 *
 * @module
 */
import { fma64 } from "./f32.ts";

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer); // little-endian: [lo, hi]
const f32 = new Float32Array(1);
const b32 = new Uint32Array(f32.buffer);

/** Float from a hex significand string "1xxxxxxxxxxxxx" (53 bits) and a binary exponent. */
const hexd = (m: string, e: number) => parseInt(m, 16) * 2 ** (e - 4 * (m.length - 1));

// ---- expf (sysdeps/ieee754/flt-32/e_expf.c, EXP2F_TABLE_BITS = 5) ----

/** 2^(i/32) as doubles: __exp2f_data.tab[i] + (i << 47) reinterpreted. */
const EXP2_TAB: Float64Array = (() => {
  const tab = [
    "3ff00000:00000000",
    "3fefd9b0:d3158574",
    "3fefb558:6cf9890f",
    "3fef9301:d0125b51",
    "3fef72b8:3c7d517b",
    "3fef5487:3168b9aa",
    "3fef387a:6e756238",
    "3fef1e9d:f51fdee1",
    "3fef06fe:0a31b715",
    "3feef1a7:373aa9cb",
    "3feedea6:4c123422",
    "3feece08:6061892d",
    "3feebfda:d5362a27",
    "3feeb42b:569d4f82",
    "3feeab07:dd485429",
    "3feea47e:b03a5585",
    "3feea09e:667f3bcd",
    "3fee9f75:e8ec5f74",
    "3feea114:73eb0187",
    "3feea589:994cce13",
    "3feeace5:422aa0db",
    "3feeb737:b0cdc5e5",
    "3feec491:82a3f090",
    "3feed503:b23e255d",
    "3feee89f:995ad3ad",
    "3feeff76:f2fb5e47",
    "3fef199b:dd85529c",
    "3fef3720:dcef9069",
    "3fef5818:dcfba487",
    "3fef7c97:337b9b5f",
    "3fefa4af:a2a490da",
    "3fefd076:5b6e4540",
  ];
  const out = new Float64Array(32);
  tab.forEach((s, i) => {
    const [hi, lo] = s.split(":").map((h) => parseInt(h, 16));
    // + (i << 47): i << 15 in the high word (no carry: lo is unchanged)
    u32[1] = hi + (i << 15);
    u32[0] = lo;
    out[i] = f64[0];
  });
  return out;
})();
const EXP_INVLN2N = hexd("171547652b82fe", 0) * 32;
const EXP_C0 = hexd("1c6af84b912394", -5) / 32 / 32 / 32;
const EXP_C1 = hexd("1ebfce50fac4f3", -3) / 32 / 32;
const EXP_C2 = hexd("162e42ff0c52d6", -1) / 32;
const EXP_SHIFT = 1.5 * 2 ** 52;

/** glibc expf (x a float32): e^x rounded as glibc's __expf_fma rounds it. */
export function expf(x: number): number {
  if (x !== x) return x;
  if (x > 88.72283172607422) return Infinity; // 0x1.62e42ep6f
  if (x < -103.97207641601562) return 0; // -0x1.9fe368p6f
  const z = EXP_INVLN2N * x;
  const kd = z + EXP_SHIFT - EXP_SHIFT; // round to integer, ties to even
  const r = z - kd;
  const k = kd; // in [-150 * 32, 128 * 32]
  const s = EXP2_TAB[k & 31] * 2 ** Math.floor(k / 32);
  const zz = fma64(EXP_C0, r, EXP_C1);
  const r2 = r * r;
  let y = fma64(EXP_C2, r, 1);
  y = fma64(zz, r2, y);
  return Math.fround(y * s);
}

// ---- sincosf (sysdeps/ieee754/flt-32/s_sincosf.c) ----

const SC_HPI_INV = hexd("145F306DC9C883", -1) * 2 ** 24;
const SC_HPI = hexd("1921FB54442D18", 0);
const SC_PI63 = hexd("1921FB54442D18", -62);
const SC_C1 = -hexd("1ffffffd0c621c", -2);
const SC_C2 = hexd("155553e1068f19", -5);
const SC_C3 = -hexd("16c087e89a359d", -10);
const SC_C4 = hexd("199343027bf8c3", -16);
const SC_S1 = -hexd("1555545995a603", -3);
const SC_S2 = hexd("11107605230bc4", -7);
const SC_S3 = -hexd("1994eb3774cf24", -13);
const SIGN = [1, -1, -1, 1];
/** 4/PI to 192 bits, 8 new bits per entry (__inv_pio4). */
const INV_PIO4 = [
  0xa2,
  0xa2f9,
  0xa2f983,
  0xa2f9836e,
  0xf9836e4e,
  0x836e4e44,
  0x6e4e4415,
  0x4e441529,
  0x441529fc,
  0x1529fc27,
  0x29fc2757,
  0xfc2757d1,
  0x2757d1f5,
  0x57d1f534,
  0xd1f534dd,
  0xf534ddc0,
  0x34ddc0db,
  0xddc0db62,
  0xc0db6295,
  0xdb629599,
  0x6295993c,
  0x95993c43,
  0x993c4390,
  0x3c439041,
];

const abstop12 = (x: number) => {
  f32[0] = x;
  return (b32[0] >>> 20) & 0x7ff;
};
const TOP_PIO4 = abstop12(0.7853981852531433);
const TOP_TINY = abstop12(2 ** -12);
const TOP_120 = abstop12(120);

/** glibc sincosf (y a float32): [sin y, cos y] as float32, as __sincosf_fma computes them. */
export function sincosf(y: number): [number, number] {
  const top = abstop12(y);
  let x = y;
  let n = 0; // quadrant (swaps sin and cos when odd)
  let q = 0; // quadrant with the sign of y folded in (sign and polynomial choice)
  if (top < TOP_PIO4) {
    if (top < TOP_TINY) return [y, 1];
  } else if (top < TOP_120) {
    const r = x * SC_HPI_INV;
    n = ((Math.trunc(r) | 0) + 0x800000) >> 24;
    x = fma64(-n, SC_HPI, x);
    q = n;
  } else if (top < 0x7f8) {
    // reduce_large: 32x96 -> 128 bit product with 4/PI, in BigInt.
    f32[0] = y;
    let xi = b32[0];
    const sign = xi >>> 31;
    const a = (xi >>> 26) & 15;
    const shift = (xi >>> 23) & 7;
    xi = (((xi & 0xffffff) | 0x800000) << shift) >>> 0;
    const X = BigInt(xi);
    const M64 = (1n << 64n) - 1n;
    let res0 = (X * BigInt(INV_PIO4[a])) & 0xffffffffn;
    const res1 = X * BigInt(INV_PIO4[a + 4]);
    const res2 = X * BigInt(INV_PIO4[a + 8]);
    res0 = ((res2 >> 32n) | (res0 << 32n)) & M64;
    res0 = (res0 + res1) & M64;
    const nn = ((res0 + (1n << 61n)) & M64) >> 62n;
    res0 = (res0 - (nn << 62n)) & M64;
    x = Number(BigInt.asIntN(64, res0)) * SC_PI63;
    n = Number(nn);
    q = n + sign;
  } else {
    return [NaN, NaN];
  }
  // sincosf_poly(x * s, x * x, table q & 2 ? 1 : 0, n); table 1 negates the cosine.
  const xs = x * SIGN[q & 3];
  const x2 = x * x;
  const ct = q & 2 ? -1 : 1;
  const x4 = x2 * x2;
  const x3 = x2 * xs;
  const c2 = fma64(x2, ct * SC_C4, ct * SC_C3);
  const s1 = fma64(x2, SC_S3, SC_S2);
  const c1 = fma64(x2, ct * SC_C1, ct);
  const x5 = x3 * x2;
  const x6 = x4 * x2;
  const s = fma64(x3, SC_S1, xs);
  const c = fma64(x4, ct * SC_C2, c1);
  const sv = Math.fround(fma64(x5, s1, s));
  const cv = Math.fround(fma64(x6, c2, c));
  return n & 1 ? [cv, sv] : [sv, cv];
}
