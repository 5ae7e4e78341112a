import { assert, assertEquals, assertMatch, assertStrictEquals } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { SeededRandom, writeTempFile } from "../../tests/gguf_test_util.ts";
import { GGUFError } from "../core/errors.ts";
import { ByteWriter } from "./_byte_writer.ts";
import { decodeShort } from "./_cursor.ts";
import { GGUFBuilder } from "./builder.ts";
import { GGMLType } from "./ggml_types.ts";
import { GGUFValueType, meta, tensorData } from "./gguf_file.ts";
import { openGGUF, parseGGUF } from "./reader.ts";

/** Raw GGUF bytes from a writer callback (header fields written by the caller). */
function raw(fn: (w: ByteWriter) => void): Uint8Array {
  const w = new ByteWriter();
  fn(w);
  return w.result().slice();
}

/** A header with `nTensors` tensors and `nKV` entries; the caller appends the rest. */
function header(w: ByteWriter, nTensors: number | bigint, nKV: number | bigint, version = 3) {
  w.u32(0x46554747);
  w.u32(version);
  w.u64(nTensors);
  w.u64(nKV);
}

function expectCode(bytes: Uint8Array, code: string, message?: RegExp): GGUFError {
  let err: unknown;
  try {
    parseGGUF(bytes);
  } catch (e) {
    err = e;
  }
  assert(err instanceof GGUFError, `expected GGUFError ${code}, got ${String(err)}`);
  assertStrictEquals(err.code, code, err.message);
  if (message) assertMatch(err.message, message);
  return err;
}

function small(): Uint8Array {
  return new GGUFBuilder()
    .setString("general.architecture", "llama")
    .setU32("llama.block_count", 1)
    .setArray("tokenizer.ggml.tokens", GGUFValueType.STRING, ["a", "b", "c"])
    .addTensor("t0", [4, 2], "F32", new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]))
    .addTensor("t1", [32], "Q8_0", new Uint8Array(34).fill(7))
    .build();
}

test("reader: parses every value type with its type id", () => {
  const b = new GGUFBuilder()
    .setU8("u8", 255).setI8("i8", -128).setU16("u16", 65535).setI16("i16", -32768)
    .setU32("u32", 4294967295).setI32("i32", -2147483648).setF32("f32", 1.5)
    .setBool("bool", true).setString("str", "héllo ✓ 𝄞").setU64("u64", 0xffffffffffffffffn)
    .setI64("i64", -(1n << 63n)).setF64("f64", Math.PI)
    .setArray("arr", GGUFValueType.INT16, [1, -2, 3]);
  const f = parseGGUF(b.build());
  assertEquals(f.version, 3);
  assertEquals(f.tensors.length, 0);
  const expect: [string, number, unknown][] = [
    ["u8", 0, 255],
    ["i8", 1, -128],
    ["u16", 2, 65535],
    ["i16", 3, -32768],
    ["u32", 4, 4294967295],
    ["i32", 5, -2147483648],
    ["f32", 6, 1.5],
    ["bool", 7, true],
    ["str", 8, "héllo ✓ 𝄞"],
    ["u64", 10, 0xffffffffffffffffn],
    ["i64", 11, -(1n << 63n)],
    ["f64", 12, Math.PI],
    ["arr", 9, [1, -2, 3]],
  ];
  for (const [k, type, value] of expect) {
    assertStrictEquals(f.metadata.get(k)?.type, type, k);
    assertEquals(meta(f, k), value, k);
  }
  assertStrictEquals(f.metadata.get("arr")?.itemType, GGUFValueType.INT16);
});

test("reader: tensor infos, offsets and data", () => {
  const f = parseGGUF(small());
  assertEquals(f.tensors.map((t) => [t.name, t.dims, t.type, t.offset, t.nElements, t.nBytes]), [
    ["t0", [4, 2], GGMLType.F32, 0, 8, 32],
    ["t1", [32], GGMLType.Q8_0, 32, 32, 34],
  ]);
  assertEquals(f.dataOffset % 32, 0);
  assertEquals([...new Float32Array(tensorData(f, f.tensors[0]).slice().buffer)], [
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
  ]);
  assertEquals([...tensorData(f, f.tensors[1])], new Array(34).fill(7));
});

test("reader: bad magic, version 1, big-endian version", () => {
  const b = small();
  const m = b.slice();
  m[0] = 0x47 ^ 1;
  expectCode(m, "GGUF_BAD_MAGIC");
  const v1 = b.slice();
  v1.set([1, 0, 0, 0], 4);
  expectCode(v1, "GGUF_BAD_VERSION", /obsolete/);
  const be = b.slice();
  be.set([0, 0, 0, 3], 4);
  const e = expectCode(be, "GGUF_BAD_VERSION", /big-endian/);
  assertStrictEquals(e.facts.offset, 4);
  expectCode(new Uint8Array(0), "GGUF_TRUNCATED");
});

test("reader: v2 files parse", () => {
  const f = parseGGUF(new GGUFBuilder({ version: 2 }).setU32("x", 1).build());
  assertStrictEquals(f.version, 2);
});

test("reader: every truncation point gives a GGUFError", () => {
  const b = small();
  for (let n = 0; n < b.byteLength; n++) {
    try {
      parseGGUF(b.subarray(0, n));
      throw new Error(`prefix of ${n} bytes parsed`);
    } catch (e) {
      assert(e instanceof GGUFError, `cut at ${n}: ${String(e)}`);
      assert(e.code === "GGUF_TRUNCATED" || e.code === "GGUF_LIMIT", `cut at ${n}: ${e.code}`);
    }
  }
});

test("reader: counts and lengths beyond the file are GGUF_LIMIT with facts", () => {
  const max = 0xffffffffffffffffn;
  let e = expectCode(raw((w) => header(w, max, 0)), "GGUF_LIMIT", /tensor count/);
  assertStrictEquals(e.facts.actual, max.toString());
  assertStrictEquals(e.facts.offset, 8);
  expectCode(raw((w) => header(w, 0, 1n << 40n)), "GGUF_LIMIT", /metadata count/);
  e = expectCode(
    raw((w) => (header(w, 0, 1), w.u64(1n << 62n), w.bytes(new Uint8Array(16)))),
    "GGUF_LIMIT",
    /metadata key/,
  );
  assertStrictEquals(e.facts.offset, 24);
  expectCode(
    raw((w) => (header(w, 0, 1), w.string("k"), w.u32(9), w.u32(8), w.u64(1n << 50n))),
    "GGUF_LIMIT",
    /array count/,
  );
  // A count that fits the type but not the bytes that remain.
  expectCode(
    raw((w) => (header(w, 0, 1), w.string("k"), w.u32(9), w.u32(4), w.u64(3), w.u32(1))),
    "GGUF_LIMIT",
  );
});

test("reader: bad value types, bools, nesting, duplicates", () => {
  expectCode(
    raw((w) => (header(w, 0, 1), w.string("k"), w.u32(13), w.u32(0))),
    "GGUF_BAD_VALUE",
    /value type 13/,
  );
  expectCode(
    raw((w) => (header(w, 0, 1), w.string("k"), w.u32(7), w.u8(2))),
    "GGUF_BAD_VALUE",
    /bool/,
  );
  expectCode(
    raw((w) => (header(w, 0, 1), w.string("k"), w.u32(9), w.u32(77), w.u64(0))),
    "GGUF_BAD_VALUE",
    /element type 77/,
  );
  const nested = (levels: number) =>
    raw((w) => {
      header(w, 0, 1);
      w.string("deep");
      w.u32(9);
      for (let i = 0; i < levels - 1; i++) (w.u32(9), w.u64(1));
      w.u32(4);
      w.u64(1);
      w.u32(42);
    });
  const ok = parseGGUF(nested(8));
  let v = meta(ok, "deep");
  for (let i = 0; i < 8; i++) v = (v as unknown[])[0] as typeof v;
  assertStrictEquals(v, 42);
  expectCode(nested(9), "GGUF_LIMIT", /nested/);
  expectCode(
    raw((
      w,
    ) => (header(w, 0, 2), w.string("k"), w.u32(4), w.u32(1), w.string("k"), w.u32(4), w.u32(2))),
    "GGUF_BAD_VALUE",
    /duplicate/,
  );
});

test("reader: invalid UTF-8 becomes U+FFFD, never an exception", () => {
  const f = parseGGUF(raw((w) => {
    header(w, 0, 1);
    w.string("k");
    w.u32(8);
    w.u64(3);
    w.bytes(new Uint8Array([0x61, 0xff, 0x62]));
  }));
  assertStrictEquals(meta(f, "k"), "a\uFFFDb");
});

function oneTensor(
  name: string,
  dims: (number | bigint)[],
  type: number,
  offset: number | bigint,
  data = 0,
) {
  return raw((w) => {
    header(w, 1, 0);
    w.string(name);
    w.u32(dims.length);
    for (const d of dims) w.u64(d);
    w.u32(type);
    w.u64(offset);
    w.pad(32);
    w.bytes(new Uint8Array(data));
  });
}

test("reader: bad tensor infos", () => {
  assertEquals(parseGGUF(oneTensor("t", [4], 0, 0, 16)).tensors[0].nBytes, 16);
  expectCode(oneTensor("t", [], 0, 0, 16), "GGUF_BAD_TENSOR", /0 dimensions/);
  expectCode(
    oneTensor("t", [1, 1, 1, 1, 1, 1, 1, 1, 1], 0, 0, 16),
    "GGUF_BAD_TENSOR",
    /9 dimensions/,
  );
  expectCode(oneTensor("t", [4], 4, 0, 16), "GGUF_BAD_TENSOR", /unknown ggml type 4/);
  expectCode(oneTensor("t", [33], GGMLType.Q4_0, 0, 64), "GGUF_BAD_TENSOR", /block/);
  expectCode(oneTensor("t", [4], 0, 8, 64), "GGUF_BAD_TENSOR", /not aligned/);
  expectCode(oneTensor("t", [4], 0, 0, 15), "GGUF_TRUNCATED", /past the end/);
  expectCode(oneTensor("t", [1n << 40n, 1n << 40n], 0, 0, 16), "GGUF_LIMIT", /overflows/);
  expectCode(oneTensor("t", [1n << 60n], 0, 0, 16), "GGUF_LIMIT", /dimension 0/);
  expectCode(oneTensor("t", [1n << 40n], 0, 0, 16), "GGUF_TRUNCATED", /past the end/);
  expectCode(oneTensor("t", [4], 0, 1n << 62n, 16), "GGUF_LIMIT", /data offset/);
  const two = (name2: string, off2: number) =>
    raw((w) => {
      header(w, 2, 0);
      for (const [n, off] of [["a", 0], [name2, off2]] as const) {
        w.string(n);
        w.u32(1);
        w.u64(16);
        w.u32(0);
        w.u64(off);
      }
      w.pad(32);
      w.bytes(new Uint8Array(128));
    });
  assertEquals(parseGGUF(two("b", 64)).tensors.length, 2);
  expectCode(two("a", 64), "GGUF_BAD_TENSOR", /duplicate tensor a/);
  expectCode(two("b", 32), "GGUF_BAD_TENSOR", /overlaps/);
});

test("reader: general.alignment is honoured and checked", () => {
  const f = parseGGUF(
    new GGUFBuilder({ alignment: 256 }).addTensor("t", [8], "F32", new Float32Array(8)).build(),
  );
  assertStrictEquals(f.alignment, 256);
  assertStrictEquals(f.dataOffset % 256, 0);
  for (const bad of [0, 3, 48, 1 << 21]) {
    expectCode(
      raw((w) => (header(w, 0, 1), w.string("general.alignment"), w.u32(4), w.u32(bad))),
      "GGUF_BAD_VALUE",
      /alignment/,
    );
  }
  expectCode(
    raw((w) => (header(w, 0, 1), w.string("general.alignment"), w.u32(8), w.string("32"))),
    "GGUF_BAD_VALUE",
  );
});

test("reader: openGGUF reads a file in chunks like parseGGUF reads memory", () => {
  // > 1 MiB of metadata so values straddle the reader's chunk boundaries.
  const tokens = Array.from({ length: 120_000 }, (_, i) => `tok_${i}_${"é".repeat(i % 7)}`);
  const bytes = new GGUFBuilder()
    .setArray("tokenizer.ggml.tokens", GGUFValueType.STRING, tokens)
    .setArray("scores", GGUFValueType.FLOAT32, tokens.map((_, i) => i / 4))
    .addTensor("w", [64, 4], "F16", new Uint8Array(512).map((_, i) => i & 255))
    .build();
  assert(bytes.byteLength > 2 << 20);
  const { path, cleanup } = writeTempFile(bytes);
  try {
    const a = openGGUF(path);
    const b = parseGGUF(bytes);
    assertEquals(meta(a, "tokenizer.ggml.tokens"), tokens);
    assertEquals(a.metadata, b.metadata);
    assertEquals(a.tensors, b.tensors);
    assertEquals(tensorData(a, a.tensors[0]), tensorData(b, b.tensors[0]));
    a.source.close();
  } finally {
    cleanup();
  }
});

test("reader: short-string UTF-8 decoder agrees with TextDecoder", () => {
  const rng = new SeededRandom(7);
  const td = new TextDecoder();
  const samples = [[0xf0, 0x9d, 0x84, 0x9e], [0xed, 0xa0, 0x80], [0xc0, 0x80], [
    0xf4,
    0x90,
    0x80,
    0x80,
  ], [0xe2, 0x82]];
  for (const s of samples) {
    const b = new Uint8Array(s);
    assertStrictEquals(decodeShort(b, 0, b.length), td.decode(b));
  }
  for (let i = 0; i < 20000; i++) {
    const n = rng.int(12);
    const b = new Uint8Array(n);
    for (let k = 0; k < n; k++) b[k] = rng.next() < 0.5 ? rng.int(128) : 0x80 + rng.int(128);
    assertStrictEquals(decodeShort(b, 0, n), td.decode(b), `bytes ${[...b]}`);
  }
});
