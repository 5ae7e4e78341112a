import { assert, assertEquals, assertStrictEquals, assertThrows } from "../../../tests/assert.ts";
import { test } from "../../../tests/harness.ts";
import { UnsupportedTypeError } from "../../core/errors.ts";
import { allTypes, GGMLType, typeTraits } from "../ggml_types.ts";
import {
  canDequantize,
  canQuantize,
  dequantize,
  dequantizeRow,
  QuantError,
  quantize,
} from "./mod.ts";
import { assertSameFloats, seededNormal } from "./_test_data.ts";

const isCode = (code: string) => (e: unknown): boolean =>
  e instanceof QuantError && e.code === code;

test("quants: the promised types can be decoded and encoded", () => {
  const deq = [
    "F32",
    "F16",
    "BF16",
    "F64",
    "I8",
    "I16",
    "I32",
    "Q4_0",
    "Q4_1",
    "Q5_0",
    "Q5_1",
    "Q8_0",
    "Q8_K",
    "Q2_K",
    "Q3_K",
    "Q4_K",
    "Q5_K",
    "Q6_K",
    "IQ4_NL",
    "IQ4_XS",
    "MXFP4",
  ] as const;
  for (const name of deq) assert(canDequantize(GGMLType[name]), name);
  const q = ["F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q8_K", "Q4_K"] as const;
  for (const name of [...q, "Q5_K", "Q6_K", "IQ4_NL", "MXFP4"] as const) {
    assert(canQuantize(GGMLType[name]), name);
  }
  for (const id of [GGMLType.IQ2_XXS, GGMLType.I64, GGMLType.TQ1_0, 4, 99, -1]) {
    assert(!canDequantize(id));
    assert(!canQuantize(id));
  }
  // Every type with a quantizer also decodes, and decoded sizes follow the type table.
  for (const t of allTypes()) {
    if (!canQuantize(t.id)) continue;
    assert(canDequantize(t.id), t.name);
    assertStrictEquals(quantize(t.id, new Float32Array(t.blockSize * 3)).length, 3 * t.typeSize);
  }
});

test("quants: unsupported or unknown types throw UnsupportedTypeError", () => {
  const isUnsupported = (e: unknown): boolean =>
    e instanceof UnsupportedTypeError && e.code === "UNSUPPORTED_TYPE";
  assertThrows(() => dequantize(GGMLType.IQ2_XXS, new Uint8Array(66), 256), isUnsupported);
  assertThrows(() => dequantize(77 as GGMLType, new Uint8Array(4), 1), isUnsupported);
  assertThrows(() => quantize(GGMLType.Q2_K, new Float32Array(256)), isUnsupported);
  assertThrows(
    () => dequantizeRow(GGMLType.IQ3_S, new Uint8Array(110), 0, 256, new Float32Array(256)),
    isUnsupported,
  );
});

test("quants: wrong lengths and short buffers are typed errors, never a crash", () => {
  assertThrows(() => quantize(GGMLType.Q4_0, new Float32Array(33)), isCode("QUANT_BAD_LENGTH"));
  assertThrows(() => quantize(GGMLType.Q6_K, new Float32Array(128)), isCode("QUANT_BAD_LENGTH"));
  assertThrows(() => dequantize(GGMLType.Q8_0, new Uint8Array(34), 31), isCode("QUANT_BAD_LENGTH"));
  assertThrows(
    () => dequantize(GGMLType.Q8_0, new Uint8Array(34), -32),
    isCode("QUANT_BAD_LENGTH"),
  );
  assertThrows(
    () => dequantize(GGMLType.Q4_K, new Uint8Array(143), 256),
    (e: unknown) =>
      isCode("QUANT_INPUT_TOO_SHORT")(e) && (e as QuantError).facts.expected === 144 &&
      (e as QuantError).facts.actual === 143,
  );
  assertThrows(
    () => dequantize(GGMLType.F16, new Uint8Array(3), 2),
    isCode("QUANT_INPUT_TOO_SHORT"),
  );
  assertThrows(
    () => dequantize(GGMLType.Q8_0, new Uint8Array(68), 64, new Float32Array(63)),
    isCode("QUANT_OUTPUT_TOO_SHORT"),
  );
  const dst = new Float32Array(64);
  const row = new Uint8Array(68);
  assertThrows(
    () => dequantizeRow(GGMLType.Q8_0, row, 1, 64, dst),
    isCode("QUANT_INPUT_TOO_SHORT"),
  );
  assertThrows(
    () => dequantizeRow(GGMLType.Q8_0, row, -1, 32, dst),
    isCode("QUANT_INPUT_TOO_SHORT"),
  );
  assertThrows(
    () => dequantizeRow(GGMLType.Q8_0, row, 0, 64, dst, 1),
    isCode("QUANT_OUTPUT_TOO_SHORT"),
  );
  assertThrows(() => dequantizeRow(GGMLType.Q8_0, row, 0, 48, dst), isCode("QUANT_BAD_LENGTH"));
  assertEquals(dequantize(GGMLType.Q8_0, new Uint8Array(0), 0).length, 0);
  assertEquals(quantize(GGMLType.Q4_K, new Float32Array(0)).length, 0);
});

test("quants: dequantizeRow honours source and destination offsets", () => {
  const x = seededNormal(512, 5);
  for (const type of [GGMLType.Q4_K, GGMLType.Q8_0, GGMLType.F16, GGMLType.BF16, GGMLType.Q5_1]) {
    const t = typeTraits(type);
    const bytes = quantize(type, x);
    const whole = dequantize(type, bytes, 512);
    // Second half of the row, read from an odd byte offset inside a larger buffer.
    const half = bytes.length / 2;
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    const dst = new Float32Array(300).fill(7);
    dequantizeRow(type, shifted, 3 + half, 256, dst, 40);
    assertSameFloats(dst.subarray(40, 296), whole.subarray(256), t.name);
    assertSameFloats([dst[39], dst[296]], [7, 7], "untouched neighbours");
    // The same through a subarray view with a non-zero byteOffset.
    const view = shifted.subarray(3);
    const out = dequantize(type, view, 512);
    assertSameFloats(out, whole, t.name);
  }
});

test("quants: plain integer and float64 types convert like a C cast", () => {
  const i8 = new Int8Array([-128, -1, 0, 1, 127]);
  assertSameFloats(dequantize(GGMLType.I8, new Uint8Array(i8.buffer), 5), [
    -128,
    -1,
    0,
    1,
    127,
  ]);
  const i16 = new Int16Array([-32768, -2, 300, 32767]);
  assertSameFloats(dequantize(GGMLType.I16, new Uint8Array(i16.buffer), 4), [
    -32768,
    -2,
    300,
    32767,
  ]);
  const i32 = new Int32Array([-2147483648, 16777217, 16777219, -5]);
  assertSameFloats(dequantize(GGMLType.I32, new Uint8Array(i32.buffer), 4), [
    -2147483648,
    16777216, // 2^24 + 1 ties to even
    16777220,
    -5,
  ]);
  const f64 = new Float64Array([1.5, 1 + 2 ** -30, 1e300, -0]);
  const got = dequantize(GGMLType.F64, new Uint8Array(f64.buffer), 4);
  assertSameFloats(got, [1.5, 1, Infinity, -0]);
});

test("quants: F32 round trip is exact, including NaN payloads and -0", () => {
  const x = new Float32Array([1, -0, Infinity, 3.4028234663852886e38, 1e-45]);
  const u = new Uint32Array(x.buffer);
  const bits = [...u, 0x7fc12345];
  const src = new Float32Array(new Uint32Array(bits).buffer);
  const bytes = quantize(GGMLType.F32, src);
  assertEquals(bytes.length, 24);
  const back = dequantize(GGMLType.F32, bytes, 6);
  assertEquals(Array.from(new Uint32Array(back.buffer)), bits);
});
