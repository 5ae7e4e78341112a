import { assertEquals, assertStrictEquals } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { GGUFBuilder, metaArray } from "./builder.ts";
import {
  formatBytes,
  formatF32,
  formatMetaValue,
  metaTypeName,
  metaValueToJSON,
  tensorStats,
} from "./describe.ts";
import { GGUFValueType as T } from "./gguf_file.ts";
import { parseGGUF } from "./reader.ts";

test("describe: type names and summaries of long arrays", () => {
  const tokens = metaArray(
    T.STRING,
    Array.from({ length: 512 }, (_, i) => (i < 2 ? ["<unk>", "<s>"][i] : `t${i}`)),
  );
  assertStrictEquals(metaTypeName(tokens), "array<string>");
  assertStrictEquals(formatMetaValue(tokens, 2), '[512 strings: "<unk>", "<s>", ...]');
  assertStrictEquals(formatMetaValue(metaArray(T.UINT8, [1, 2]), 2), "[1, 2]");
  const nested = metaArray(T.ARRAY, [metaArray(T.UINT32, [1]), metaArray(T.UINT32, [2, 3])]);
  assertStrictEquals(metaTypeName(nested), "array<array<u32>>");
  assertStrictEquals(formatMetaValue(nested), "[[1], [2, 3]]");
  assertStrictEquals(formatMetaValue({ type: T.FLOAT32, value: Math.fround(1e-5) }), "0.00001");
  assertStrictEquals(
    formatMetaValue({ type: T.STRING, value: "x".repeat(100) }, 8, 4),
    '"xxxx…" (100 chars)',
  );
  assertStrictEquals(formatMetaValue({ type: T.UINT64, value: 1n << 60n }), "1152921504606846976");
});

test("describe: JSON values, f32 text, byte units", () => {
  assertEquals(metaValueToJSON([1n, 1n << 60n, "a", true, 0.5], 10), [
    1,
    "1152921504606846976",
    "a",
    true,
    0.5,
  ]);
  assertEquals(metaValueToJSON([1, 2, 3], 2), [1, 2]);
  assertStrictEquals(metaValueToJSON(NaN), "NaN");
  assertStrictEquals(formatF32(Math.fround(0.1)), "0.1");
  assertStrictEquals(formatF32(Math.fround(999999.4375)), "999999.44");
  assertStrictEquals(formatBytes(1000), "1000 B");
  assertStrictEquals(formatBytes(1536 * 1024), "1.50 MiB");
});

test("describe: tensor stats and bits per weight", () => {
  const f = parseGGUF(
    new GGUFBuilder()
      .addTensor("a", [32, 2], "Q8_0", new Uint8Array(68))
      .addTensor("b", [4], "F32", new Float32Array(4))
      .build(),
  );
  const s = tensorStats(f);
  assertEquals(s, {
    tensorCount: 2,
    parameterCount: 68,
    tensorBytes: 84,
    bitsPerWeight: (84 * 8) / 68,
    byType: {
      Q8_0: { count: 1, elements: 64, bytes: 68 },
      F32: { count: 1, elements: 4, bytes: 16 },
    },
  });
  assertStrictEquals(tensorStats({ tensors: [] }).bitsPerWeight, 0);
});
