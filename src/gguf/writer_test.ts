import { assert, assertEquals, assertStrictEquals, assertThrows } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { InvalidArgumentError, UnsupportedTypeError } from "../core/errors.ts";
import { GGUFBuilder, metaArray } from "./builder.ts";
import { GGMLType } from "./ggml_types.ts";
import { type GGUFMetaEntry, GGUFValueType as T, meta, tensorData } from "./gguf_file.ts";
import { parseGGUF } from "./reader.ts";
import { layoutGGUF, writeGGUF, writeGGUFChunks } from "./writer.ts";

function concat(chunks: Iterable<Uint8Array>): Uint8Array {
  const parts = [...chunks];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), o += p.byteLength);
  return out;
}

function rich(): GGUFBuilder {
  const nested = metaArray(T.ARRAY, [
    metaArray(T.UINT32, [1, 2, 3]),
    metaArray(T.STRING, ["x", "ÿ"]),
    metaArray(T.ARRAY, [metaArray(T.FLOAT64, [0.5]), metaArray(T.BOOL, [])]),
  ]);
  return new GGUFBuilder()
    .setString("general.architecture", "llama")
    .setU8("a.u8", 7).setI8("a.i8", -7).setU16("a.u16", 700).setI16("a.i16", -700)
    .setU32("a.u32", 70000).setI32("a.i32", -70000).setF32("a.f32", 0.1)
    .setF64("a.f64", 0.1).setBool("a.bool", false).setU64("a.u64", 1n << 63n)
    .setI64("a.i64", -5).setString("a.empty", "")
    .setArray("a.arr_u64", T.UINT64, [1, 2n ** 64n - 1n])
    .setArray("a.arr_bool", T.BOOL, [true, false])
    .setArray("a.arr_empty", T.STRING, [])
    .setEntry("a.nested", nested)
    .addTensor("w", [32, 2], "Q8_0", new Uint8Array(68).map((_, i) => i))
    .addTensor("n", [3], GGMLType.F32, new Float32Array([1, 2, 3]))
    .addTensor("z", [0, 4], "F16", new Uint8Array(0));
}

test("writer: read -> write -> read keeps metadata (types, nesting) and tensor bytes", () => {
  const bytes = rich().build();
  const a = parseGGUF(bytes);
  const again = writeGGUF(a);
  assertEquals(again, bytes);
  const b = parseGGUF(again);
  assertEquals(b.metadata, a.metadata);
  assertEquals(b.tensors, a.tensors);
  for (const t of a.tensors) assertEquals(tensorData(b, t), tensorData(a, t));
  const nested = b.metadata.get("a.nested") as GGUFMetaEntry;
  assertEquals(nested.items?.map((e) => e.itemType), [T.UINT32, T.STRING, T.ARRAY]);
  assertEquals(nested.items?.[2].items?.map((e) => e.itemType), [T.FLOAT64, T.BOOL]);
  assertEquals(meta(b, "a.nested"), [[1, 2, 3], ["x", "ÿ"], [[0.5], []]]);
  assertStrictEquals(meta(b, "a.f32"), Math.fround(0.1));
  assertEquals(meta(b, "a.arr_u64"), [1n, 2n ** 64n - 1n]);
  assertStrictEquals(meta(b, "a.i64"), -5n);
});

test("writer: chunks concatenate to the same bytes and read tensor data lazily", () => {
  const input = rich().toInput();
  let calls = 0;
  const lazy = {
    ...input,
    tensors: input.tensors.map((t) => ({
      info: t.info,
      data: () => (calls++, t.data as Uint8Array),
    })),
  };
  const gen = writeGGUFChunks(lazy);
  const first = gen.next();
  assert(!first.done);
  assertStrictEquals(calls, 0);
  const rest = concat({ [Symbol.iterator]: () => gen });
  assertStrictEquals(calls, 3);
  assertEquals(concat([first.value, rest]), writeGGUF(input));
  const layout = layoutGGUF(input);
  assertEquals(layout.tensors.map((t) => t.offset), [0, 96, 128]);
  assertStrictEquals(layout.totalBytes, writeGGUF(input).byteLength);
});

test("writer: tensors are packed at the alignment with zero padding", () => {
  const bytes = new GGUFBuilder({ alignment: 64 })
    .addTensor("a", [3], "F32", new Float32Array([1, 2, 3]))
    .addTensor("b", [1], "F32", new Float32Array([4]))
    .build();
  const f = parseGGUF(bytes);
  assertStrictEquals(meta(f, "general.alignment"), 64);
  assertStrictEquals(f.metadata.get("general.alignment")?.type, T.UINT32);
  assertEquals(f.tensors.map((t) => t.offset), [0, 64]);
  assertEquals([...bytes.subarray(f.dataOffset + 12, f.dataOffset + 64)], new Array(52).fill(0));
  assertStrictEquals(bytes.byteLength, f.dataOffset + 64 + 4);
});

test("writer: a file without tensors ends after its metadata", () => {
  const bytes = new GGUFBuilder().setString("k", "abc").build();
  assertStrictEquals(bytes.byteLength, 4 + 4 + 8 + 8 + (8 + 1) + 4 + (8 + 3));
  assertStrictEquals(parseGGUF(bytes).tensors.length, 0);
});

test("writer: version 2 is kept; other versions are refused", () => {
  assertStrictEquals(parseGGUF(new GGUFBuilder({ version: 2 }).build()).version, 2);
  assertThrows(() => new GGUFBuilder({ version: 4 }).build(), InvalidArgumentError);
});

test("writer: invalid metadata values are InvalidArgumentError naming the key", () => {
  const cases: [string, () => unknown][] = [
    ["u8 range", () => new GGUFBuilder().setU8("k", 256)],
    ["i8 range", () => new GGUFBuilder().setI8("k", -129)],
    ["u32 fraction", () => new GGUFBuilder().setU32("k", 1.5)],
    ["i32 range", () => new GGUFBuilder().setI32("k", 2 ** 31)],
    ["u64 negative", () => new GGUFBuilder().setU64("k", -1n)],
    ["u64 too big", () => new GGUFBuilder().setU64("k", 1n << 64n)],
    ["u64 unsafe number", () => new GGUFBuilder().setU64("k", 2 ** 60)],
    ["i64 range", () => new GGUFBuilder().setI64("k", 1n << 63n)],
    ["f32 string", () => new GGUFBuilder().set("k", T.FLOAT32, "1")],
    ["bool number", () => new GGUFBuilder().set("k", T.BOOL, 1)],
    ["string number", () => new GGUFBuilder().set("k", T.STRING, 1)],
    ["bad type", () => new GGUFBuilder().set("k", 13 as T, 1)],
    ["array item type", () => new GGUFBuilder().set("k", T.ARRAY, [], 42 as T)],
    ["array without item type", () => new GGUFBuilder().set("k", T.ARRAY, [])],
    ["array element", () => new GGUFBuilder().setArray("k", T.UINT8, [1, 300])],
    [
      "nested without items",
      () => new GGUFBuilder().setEntry("k", { type: T.ARRAY, itemType: T.ARRAY, value: [[1]] }),
    ],
    [
      "array value not array",
      () => new GGUFBuilder().setEntry("k", { type: T.ARRAY, itemType: T.UINT8, value: 1 }),
    ],
  ];
  for (const [what, fn] of cases) assertThrows(fn, InvalidArgumentError, what);
  assertThrows(
    () => new GGUFBuilder().setU8("my.key", 999),
    (e: unknown) =>
      e instanceof InvalidArgumentError && e.message.includes("my.key") &&
      e.facts.key === "my.key" && e.facts.actual === 999,
  );
  let deep = metaArray(T.UINT8, [1]);
  for (let i = 0; i < 8; i++) deep = metaArray(T.ARRAY, [deep]);
  assertThrows(() => new GGUFBuilder().setEntry("k", deep), InvalidArgumentError);
});

test("writer: invalid tensors and alignments are InvalidArgumentError", () => {
  const f32 = (n: number) => new Float32Array(n);
  const cases: [string, () => unknown][] = [
    ["data size", () => new GGUFBuilder().addTensor("t", [4], "F32", f32(3)).build()],
    [
      "duplicate",
      () =>
        new GGUFBuilder().addTensor("t", [1], "F32", f32(1)).addTensor("t", [1], "F32", f32(1))
          .build(),
    ],
    ["unknown type", () => new GGUFBuilder().addTensor("t", [1], 4 as GGMLType, f32(1)).build()],
    ["no dims", () => new GGUFBuilder().addTensor("t", [], "F32", f32(1)).build()],
    ["negative dim", () => new GGUFBuilder().addTensor("t", [-1], "F32", f32(1)).build()],
    ["block row", () => new GGUFBuilder().addTensor("t", [16], "Q4_0", new Uint8Array(9)).build()],
    ["alignment 48", () => new GGUFBuilder({ alignment: 48 }).build()],
    [
      "alignment conflict",
      () => new GGUFBuilder({ alignment: 64 }).setU32("general.alignment", 32).build(),
    ],
    ["lazy data size", () =>
      writeGGUF({
        metadata: [],
        tensors: [{ info: { name: "t", dims: [2], type: 0 }, data: () => new Uint8Array(4) }],
      })],
  ];
  for (const [what, fn] of cases) assertThrows(fn, InvalidArgumentError, what);
  assertThrows(
    () => new GGUFBuilder().addTensor("t", [1], "Q9_9" as "F32", f32(1)),
    UnsupportedTypeError,
  );
});
