/**
 * make-model: the tiny shape in every type loads and runs, tensors have the shape's sizes,
 * and bad shapes or types are typed errors.
 *
 * @module
 */
import { test } from "../tests/harness.ts";
import { assert, assertRejects, assertStrictEquals } from "../tests/assert.ts";
import { createSession, loadModel } from "../src/api.ts";
import { GGMLType } from "../src/gguf/ggml_types.ts";
import { openGGUF } from "../src/gguf/reader.ts";
import { SHAPES } from "./_synthetic_model.ts";
import { makeSyntheticModel } from "./make_synthetic_model.ts";

async function tempPath(name: string): Promise<string> {
  const { mkdtempSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  return `${mkdtempSync(`${tmpdir()}/rf-make-model-`)}/${name}`;
}

for (const type of ["Q4_0", "Q8_0", "Q4_K", "F16", "Q4_K_M", "Q5_K_M", "Q3_K_M"]) {
  test(`make-model writes a runnable tiny ${type} model`, async () => {
    const out = await tempPath(`tiny-${type}.gguf`);
    const bytes = await makeSyntheticModel({ shape: "tiny", type, out });
    const f = openGGUF(out);
    const s = SHAPES.tiny;
    assertStrictEquals(f.tensors.length, 3 + 9 * s.layers);
    const q = f.tensors.find((t) => t.name === "blk.1.attn_k.weight")!;
    assertStrictEquals(q.dims.join("x"), `${s.dim}x${(s.dim / s.heads) * s.kvHeads}`);
    assert(bytes > 0 && f.tensors.every((t) => t.offset + t.nBytes <= bytes));
    const model = await loadModel(out, { backend: "cpu", log: () => {} });
    try {
      const logits = await createSession(model).eval([1, 300, 301], "last");
      assertStrictEquals(logits.length, s.vocab);
      assert(logits.every((x) => Number.isFinite(x)));
      assert(logits.some((x) => x !== logits[0]), "logits are all equal");
    } finally {
      model.dispose();
    }
  });
}

test("make-model --type Q4_K_M writes llama-quantize's types and file type", async () => {
  const out = await tempPath("tiny-q4km.gguf");
  await makeSyntheticModel({ shape: "tiny", type: "Q4_K_M", out });
  const f = openGGUF(out);
  const type = (name: string) => f.tensors.find((t) => t.name === name)!.type;
  // 2 layers: llama.cpp's use_more_bits holds for layer 1 only
  assertStrictEquals(type("output.weight"), GGMLType.Q6_K);
  assertStrictEquals(type("token_embd.weight"), GGMLType.Q4_K);
  assertStrictEquals(type("blk.1.attn_v.weight"), GGMLType.Q6_K);
  assertStrictEquals(type("blk.1.ffn_down.weight"), GGMLType.Q6_K);
  assertStrictEquals(type("blk.0.attn_v.weight"), GGMLType.Q4_K);
  assertStrictEquals(type("blk.0.ffn_down.weight"), GGMLType.Q4_K);
  assertStrictEquals(type("blk.1.attn_q.weight"), GGMLType.Q4_K);
  assertStrictEquals(type("blk.1.attn_norm.weight"), GGMLType.F32);
  assertStrictEquals(f.metadata.get("general.file_type")?.value, 15);
});

test("make-model rejects an unknown shape and a type that does not fit the shape", async () => {
  const out = await tempPath("bad.gguf");
  await assertRejects(() => makeSyntheticModel({ shape: "huge", type: "Q4_0", out }), /shape/);
  await assertRejects(() => makeSyntheticModel({ shape: "tiny", type: "Q2_K", out }), /type/);
});
