import { assertEquals, assertStrictEquals, assertThrows } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { InvalidArgumentError } from "../core/errors.ts";
import { buildGGUF, GGUFBuilder, metaArray } from "./builder.ts";
import { GGMLType } from "./ggml_types.ts";
import { GGUFValueType as T, meta, plainMetadata, tensorData } from "./gguf_file.ts";
import { parseGGUF } from "./reader.ts";

test("builder: buildGGUF from a spec", () => {
  const bytes = buildGGUF({
    metadata: [
      ["general.architecture", T.STRING, "llama"],
      ["llama.block_count", T.UINT32, 2],
      ["big", T.UINT64, 5],
      ["tokenizer.ggml.tokens", T.ARRAY, ["<unk>", "<s>"], T.STRING],
      ["pairs", T.ARRAY, [metaArray(T.INT32, [1, -1]), metaArray(T.INT32, [])], T.ARRAY],
    ],
    tensors: [
      {
        name: "token_embd.weight",
        dims: [4, 2],
        type: "F32",
        data: new Float32Array(8).fill(0.25),
      },
      { name: "half", dims: [2], type: GGMLType.F16, data: new Uint16Array([0x3c00, 0xc000]) },
    ],
  });
  const f = parseGGUF(bytes);
  assertEquals(
    [...plainMetadata(f)],
    [
      ["general.architecture", "llama"],
      ["llama.block_count", 2],
      ["big", 5n],
      ["tokenizer.ggml.tokens", ["<unk>", "<s>"]],
      ["pairs", [[1, -1], []]],
    ],
  );
  assertStrictEquals(f.metadata.get("big")?.type, T.UINT64);
  assertEquals(f.tensors.map((t) => [t.name, t.dims, t.type]), [
    ["token_embd.weight", [4, 2], GGMLType.F32],
    ["half", [2], GGMLType.F16],
  ]);
  assertEquals(
    [...new Float32Array(tensorData(f, f.tensors[0]).slice().buffer)],
    new Array(8).fill(0.25),
  );
  assertEquals([...tensorData(f, f.tensors[1])], [0x00, 0x3c, 0x00, 0xc0]);
});

test("builder: setting a key again replaces it in place; delete removes it", () => {
  const b = new GGUFBuilder().setU32("a", 1).setU32("b", 2).setString("a", "x").delete("b");
  const f = parseGGUF(b.build());
  assertEquals([...plainMetadata(f)], [["a", "x"]]);
  assertStrictEquals(f.metadata.get("a")?.type, T.STRING);
});

test("builder: chunks() equals build() and typed views keep their window", () => {
  const backing = new Float32Array([9, 1, 2, 9]);
  const b = new GGUFBuilder().setF32("x", 2.5).addTensor("t", [2], "F32", backing.subarray(1, 3));
  const whole = b.build();
  const parts = [...b.chunks()];
  const joined = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of parts) (joined.set(p, o), o += p.byteLength);
  assertEquals(joined, whole);
  const f = parseGGUF(whole);
  assertEquals([...new Float32Array(tensorData(f, f.tensors[0]).slice().buffer)], [1, 2]);
  assertStrictEquals(meta(f, "x"), 2.5);
});

test("builder: errors point at the offending call", () => {
  assertThrows(
    () => new GGUFBuilder().setArray("k", T.ARRAY, [[1]] as never),
    InvalidArgumentError,
  );
  assertThrows(
    () => new GGUFBuilder().addTensor("t", [1], "F32", [1] as never),
    InvalidArgumentError,
  );
  assertThrows(
    () => buildGGUF({ metadata: [["k", T.ARRAY, [1], undefined as never]] }),
    InvalidArgumentError,
  );
});
