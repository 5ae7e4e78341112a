/**
 * WGSL helpers every generated kernel may include: byte, half-word and unaligned word loads
 * from a `array<u32>` weight binding named `w` (GGUF blocks are 2-byte aligned), and the
 * float16 rounding the CPU reference applies (round to nearest, ties to even), written with
 * integer operations because WGSL leaves the rounding of f32 -> f16 conversions open.
 *
 * @module
 */

/** Loads from the weight binding `w` (array<u32>), by byte offset. */
export const WGSL_LOADS = /* wgsl */ `
fn ld8(o: u32) -> u32 { return (w[o >> 2u] >> ((o & 3u) * 8u)) & 0xffu; }
fn ld16(o: u32) -> u32 { return (w[o >> 2u] >> ((o & 2u) * 8u)) & 0xffffu; }
fn ld32(o: u32) -> u32 {
  let s = (o & 3u) * 8u;
  let lo = w[o >> 2u] >> s;
  if (s == 0u) { return lo; }
  return lo | (w[(o >> 2u) + 1u] << (32u - s));
}
fn ldh(o: u32) -> f32 { return unpack2x16float(ld16(o)).x; }
fn lds8(o: u32) -> f32 { return f32(i32(ld8(o) << 24u) >> 24u); }
`;

/**
 * `rh(x)`: x rounded to the nearest float16 value (ties to even), as f32; `hbits(x)`: the
 * float16 bit pattern of that value. Subnormal halves go through round(), which WGSL defines
 * as ties-to-even.
 */
export const WGSL_HALF = /* wgsl */ `
fn rh(x: f32) -> f32 {
  let b = bitcast<u32>(x);
  let a = b & 0x7fffffffu;
  if (a >= 0x7f800000u) { return x; }
  if (a < 0x38800000u) { return round(x * 16777216.0) * 5.9604644775390625e-8; }
  let r = (a + 0xfffu + ((a >> 13u) & 1u)) & 0xffffe000u;
  if (r > 0x477fe000u) { return bitcast<f32>((b & 0x80000000u) | 0x7f800000u); }
  return bitcast<f32>((b & 0x80000000u) | r);
}
fn hbits(x: f32) -> u32 {
  let y = rh(x);
  let b = bitcast<u32>(y);
  let s = (b >> 16u) & 0x8000u;
  let a = b & 0x7fffffffu;
  if (a >= 0x7f800000u) { return s | 0x7c00u | select(0u, 0x200u, a > 0x7f800000u); }
  if (a < 0x38800000u) { return s | u32(abs(y) * 16777216.0); }
  return s | ((a >> 13u) - (112u << 10u));
}
`;

/** Workgroup-wide sum of one f32 per invocation over `n` (a power of two) invocations. */
export function wgslReduce(name: string, n: number, op: "sum" | "max"): string {
  const combine = op === "sum" ? "a + b" : "max(a, b)";
  return /* wgsl */ `
var<workgroup> red_${name}: array<f32, ${n}>;
fn reduce_${name}(v: f32, lid: u32) -> f32 {
  red_${name}[lid] = v;
  workgroupBarrier();
  for (var s = ${n / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) { let a = red_${name}[lid]; let b = red_${name}[lid + s]; red_${name}[lid] = ${combine}; }
    workgroupBarrier();
  }
  let r = red_${name}[0];
  workgroupBarrier();
  return r;
}
`;
}
