import { assert, assertEquals, assertMatch, assertStrictEquals } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { writeTempFile } from "../../tests/gguf_test_util.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "../../tests/shared_data.ts";
import { GGUFBuilder } from "../gguf/builder.ts";
import { GGUFValueType as T } from "../gguf/gguf_file.ts";
import { runCli } from "./dispatch.ts";
import { DEFAULT_INSPECT_CONTEXT, type InspectReport } from "./inspect.ts";

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runCli(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

function tinyModel(): Uint8Array {
  return new GGUFBuilder()
    .setString("general.architecture", "llama")
    .setString("general.name", "tiny")
    .setU32("llama.context_length", 8192)
    .setU32("llama.embedding_length", 32)
    .setU32("llama.block_count", 1)
    .setU32("llama.feed_forward_length", 64)
    .setU32("llama.attention.head_count", 4)
    .setU32("llama.attention.head_count_kv", 2)
    .setF32("llama.attention.layer_norm_rms_epsilon", 1e-5)
    .setArray("tokenizer.ggml.tokens", T.STRING, Array.from({ length: 40 }, (_, i) => `tok${i}`))
    .setU64("big", 1n << 60n)
    .addTensor("token_embd.weight", [32, 40], "Q8_0", new Uint8Array(40 * 34))
    .addTensor("blk.0.attn_norm.weight", [32], "F32", new Float32Array(32))
    .build();
}

async function withTemp<R>(bytes: Uint8Array, fn: (path: string) => Promise<R>): Promise<R> {
  const { path, cleanup } = writeTempFile(bytes);
  try {
    return await fn(path);
  } finally {
    cleanup();
  }
}

test("inspect: text report", async () => {
  await withTemp(tinyModel(), async (path) => {
    const r = await cli(["inspect", path]);
    assertStrictEquals(r.code, 0, r.err);
    assertStrictEquals(r.err, "");
    assertMatch(r.out, /GGUF v3, alignment 32, data offset \d+, 11 metadata entries, 2 tensors/);
    assertMatch(r.out, /tokenizer\.ggml\.tokens +array<string> +\[40 strings: "tok0", "tok1", /);
    assertMatch(r.out, /llama\.attention\.layer_norm_rms_epsilon +f32 +0\.00001\n/);
    assertMatch(r.out, /token_embd\.weight +Q8_0 +\[32, 40\] +1,360\n/);
    assertMatch(
      r.out,
      /parameters: 1,312 in 1\.45 KiB \(9\.07 bits per weight\); tensors by type: Q8_0 1, F32 1/,
    );
    assertMatch(r.out, /config: llama, context 8192, embedding 32, 1 blocks, heads 4\/2 kv/);
    assertMatch(r.out, new RegExp(`memory at context ${DEFAULT_INSPECT_CONTEXT} \\(f16 KV\\)`));
    const full = await cli(["inspect", path, "--full"]);
    assertMatch(full.out, /"tok39"\]/);
  });
});

test("inspect: --json prints one object with metadata and tensors", async () => {
  await withTemp(tinyModel(), async (path) => {
    const r = await cli(["inspect", "--json", path, "--ctx", "100"]);
    assertStrictEquals(r.code, 0, r.err);
    assertStrictEquals(r.out.trim().split("\n").length, 1);
    const j = JSON.parse(r.out) as InspectReport;
    assertEquals([j.version, j.tensorCount, j.metadataCount, j.parameterCount], [3, 2, 11, 1312]);
    assertEquals(j.tensors.map((t) => [t.name, t.type, t.dims, t.bytes]), [
      ["token_embd.weight", "Q8_0", [32, 40], 1360],
      ["blk.0.attn_norm.weight", "F32", [32], 128],
    ]);
    const tokens = j.metadata.find((m) => m.key === "tokenizer.ggml.tokens");
    assertEquals([
      tokens?.type,
      tokens?.length,
      tokens?.truncated,
      (tokens?.value as string[]).length,
    ], [
      "array<string>",
      40,
      true,
      8,
    ]);
    assertStrictEquals(j.metadata.find((m) => m.key === "big")?.value, "1152921504606846976");
    assertStrictEquals(j.memory?.contextLength, 100);
    assertStrictEquals(j.memory?.kvCacheBytes, 100 * 2 * (8 + 8) * 2);
    assertStrictEquals(j.config?.headCountKV, 2);
    const full = JSON.parse(
      (await cli(["inspect", "--json", "--full", path])).out,
    ) as InspectReport;
    assertStrictEquals(
      (full.metadata.find((m) => m.key === "tokenizer.ggml.tokens")?.value as string[]).length,
      40,
    );
  });
});

test("inspect: a vocab-only file with an unsupported architecture", async () => {
  const vocab = new GGUFBuilder()
    .setString("general.architecture", "gpt2")
    .setArray("tokenizer.ggml.tokens", T.STRING, ["a", "b"])
    .build();
  await withTemp(vocab, async (path) => {
    const r = await cli(["inspect", path]);
    assertStrictEquals(r.code, 0, r.err);
    assertMatch(r.out, /\(none: vocab-only file\)/);
    assertMatch(r.out, /parameters: none/);
    assertMatch(r.out, /config: unavailable \(UNSUPPORTED_ARCHITECTURE: architecture gpt2/);
    const j = JSON.parse((await cli(["inspect", path, "--json"])).out) as InspectReport;
    assertEquals([j.tensors, j.config, j.memory, j.configError?.code], [
      [],
      null,
      null,
      "UNSUPPORTED_ARCHITECTURE",
    ]);
  });
});

test("inspect: errors and usage", async () => {
  let r = await cli(["inspect"]);
  assertEquals([r.code, r.err.split("\n")[0]], [
    2,
    "error [USAGE]: inspect needs exactly one MODEL.gguf, got 0",
  ]);
  r = await cli(["inspect", "a.gguf", "b.gguf"]);
  assertStrictEquals(r.code, 2);
  r = await cli(["inspect", "a.gguf", "--ctx", "0"]);
  assertStrictEquals(r.code, 2);
  r = await cli(["inspect", "/nonexistent/model.gguf"]);
  assertEquals([r.code, r.err], [
    1,
    "error [INVALID_ARGUMENT]: file not found: /nonexistent/model.gguf\n",
  ]);
  await withTemp(new TextEncoder().encode("not a gguf at all"), async (path) => {
    r = await cli(["inspect", path]);
    assertStrictEquals(r.code, 1);
    assertMatch(r.err, /^error \[GGUF_BAD_MAGIC\]: not a GGUF file/);
    assert(!r.err.includes("    at "), "no stack without --debug");
  });
  r = await cli(["inspect", "--help"]);
  assertStrictEquals(r.code, 0);
  assertMatch(r.out, /^usage: rocmforge inspect MODEL\.gguf \[--json\] \[--ctx N\]/);
});

test("inspect: shared stories260K as JSON", async () => {
  const r = await cli(["inspect", sharedPath("models", "stories260K.gguf"), "--json"]);
  assertStrictEquals(r.code, 0, r.err);
  const j = JSON.parse(r.out) as InspectReport;
  assertEquals([j.metadataCount, j.tensorCount, j.parameterCount, j.bitsPerWeight], [
    19,
    48,
    292800,
    32,
  ]);
  assertStrictEquals(j.memory?.contextLength, 2048);
  assertStrictEquals(j.memory?.kvCacheBytes, 5 * 2048 * 4 * 16 * 2);
}, { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON });
