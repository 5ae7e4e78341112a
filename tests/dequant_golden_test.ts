/**
 * Dequantization against goldens made by gguf-py's reference dequantizers: rows 0-31 of
 * blk.0.attn_k.weight of each tiny256-<TYPE>.gguf must decode bit for bit. For the legacy
 * block types, re-quantizing the decoded values must also give back the file's bytes
 * (llama.cpp's quantizer made them), which checks the encoders' packing and rounding.
 *
 * @module
 */
import { assert, assertEquals, assertStrictEquals } from "./assert.ts";
import { sha256Hex } from "./_hash.ts";
import { test } from "./harness.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "./shared_data.ts";
import { readFile, readTextFile } from "../src/runtime/host.ts";
import { openGGUF } from "../src/gguf/reader.ts";
import { findTensor, tensorData } from "../src/gguf/gguf_file.ts";
import { type GGMLType, typeByName, typeTraits } from "../src/gguf/ggml_types.ts";
import { dequantize, quantize } from "../src/gguf/quants/mod.ts";

interface GoldenEntry {
  file: string;
  tensor: string;
  ggml_type: string;
  ne: number[];
  rows: [number, number];
  n_floats: number;
  sha256_f32le: string;
  first4: number[];
}

const skip = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };
const manifest: Record<string, GoldenEntry> = HAVE_SHARED
  ? JSON.parse(readTextFile(sharedPath("golden", "dequant", "manifest.json")))
  : {};

/** Index of the first element whose float32 bits differ, or -1. */
function firstBitMismatch(a: Float32Array, b: Float32Array): number {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  if (ua.length !== ub.length) return Math.min(ua.length, ub.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return i;
  return -1;
}

/** The tensor's bytes for its first `n` elements. */
function tensorPrefix(entry: GoldenEntry, n: number): { type: GGMLType; bytes: Uint8Array } {
  const file = openGGUF(sharedPath("models", "synthetic", entry.file));
  try {
    const info = findTensor(file, entry.tensor);
    assert(info, `${entry.file} has no tensor ${entry.tensor}`);
    assertStrictEquals(typeTraits(info.type).name, entry.ggml_type);
    assertEquals(info.dims, entry.ne);
    const t = typeTraits(info.type);
    const data = tensorData(file, info);
    return { type: info.type, bytes: data.slice(0, (n / t.blockSize) * t.typeSize) };
  } finally {
    file.source.close();
  }
}

test("golden dequant: manifest lists the types the synthetic models were made in", () => {
  const types = Object.keys(manifest).sort();
  assert(types.length >= 14, `only ${types.length} golden types`);
  for (const name of ["Q4_0", "Q4_K", "Q6_K", "IQ4_XS", "BF16"]) assert(types.includes(name));
}, skip);

for (const name of Object.keys(manifest).sort()) {
  const entry = manifest[name];
  test(`golden dequant: ${name} rows ${entry.rows[0]}-${entry.rows[1] - 1} bit for bit`, () => {
    const golden = readFile(
      sharedPath("golden", "dequant", `${name}.blk0_attn_k.rows0-31.f32`),
    );
    assertStrictEquals(sha256Hex(golden), entry.sha256_f32le, "golden file hash");
    assertStrictEquals(golden.length, entry.n_floats * 4);
    const expected = new Float32Array(golden.slice().buffer);
    const rowLen = entry.ne[0];
    const first = entry.rows[0] * rowLen;
    assertStrictEquals(first, 0);
    const { type, bytes } = tensorPrefix(entry, entry.n_floats);
    const got = dequantize(type, bytes, entry.n_floats);
    const at = firstBitMismatch(got, expected);
    assertStrictEquals(
      at,
      -1,
      at < 0 ? "" : `${name}: first mismatch at ${at}: got ${got[at]}, want ${expected[at]}`,
    );
    assertEquals(Array.from(got.subarray(0, 4)), entry.first4);
  }, skip);
}

for (const name of ["Q8_0", "Q4_0", "Q5_0", "Q4_1", "Q5_1", "F16", "BF16"]) {
  test(`golden requant: ${name} blocks re-encode to the file's bytes`, () => {
    const entry = manifest[name];
    assert(entry, `no golden for ${name}`);
    const { type, bytes } = tensorPrefix(entry, entry.n_floats);
    assertStrictEquals(type, typeByName(name).id);
    const again = quantize(type, dequantize(type, bytes, entry.n_floats));
    let diff = -1;
    for (let i = 0; i < bytes.length; i++) {
      if (again[i] !== bytes[i]) {
        diff = i;
        break;
      }
    }
    assertStrictEquals(diff, -1, `${name}: first differing byte ${diff}`);
  }, skip);
}

/** Re-encoding llama.cpp's K-quant/IQ4_NL blocks: bytes, values, or a bounded drift. */
const REQUANT_K: [string, "bytes" | "values" | number][] = [
  ["Q4_K", "bytes"],
  ["Q6_K", "values"], // a few blocks pick another scale sign: same values, other bytes
  // make_q3_quants refits each group of 16 from its own rounding: not idempotent
  ["Q3_K", 5e-2], // measured 3.6e-2
  ["Q5_K", 2e-3], // measured 6.8e-4
  ["IQ4_NL", 1e-2], // measured 3.9e-3
];

for (const [name, expect] of REQUANT_K) {
  test(`golden requant: ${name} decoded values re-encode to ${expect}`, () => {
    const entry = manifest[name];
    assert(entry, `no golden for ${name}`);
    const { type, bytes } = tensorPrefix(entry, entry.n_floats);
    const values = dequantize(type, bytes, entry.n_floats);
    const again = quantize(type, values);
    if (expect === "bytes") {
      const diff = again.findIndex((b, i) => b !== bytes[i]);
      assertStrictEquals(diff, -1, `${name}: first differing byte ${diff}`);
      return;
    }
    const back = dequantize(type, again, entry.n_floats);
    if (expect === "values") {
      // Numeric equality: a zero may come back with the other sign (scale sign flipped).
      const at = back.findIndex((v, i) => v !== values[i]);
      assertStrictEquals(at, -1, `${name}: first differing value ${at}`);
      return;
    }
    let err = 0;
    let ref = 0;
    for (let i = 0; i < values.length; i++) {
      err += (back[i] - values[i]) ** 2;
      ref += values[i] ** 2;
    }
    const rel = Math.sqrt(err / ref);
    assert(rel < expect, `${name}: re-encoding drift ${rel}`);
  }, skip);
}
