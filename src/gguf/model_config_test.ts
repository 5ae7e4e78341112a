import { assertEquals, assertStrictEquals, assertThrows } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { ModelConfigError } from "../core/errors.ts";
import { GGUFBuilder } from "./builder.ts";
import { GGUFValueType as T, type MetaValue } from "./gguf_file.ts";
import { modelConfigFromGGUF, modelConfigFromMetadata } from "./model_config.ts";
import { parseGGUF } from "./reader.ts";

function base(arch = "llama"): Map<string, MetaValue> {
  return new Map<string, MetaValue>([
    ["general.architecture", arch],
    [`${arch}.context_length`, 2048],
    [`${arch}.embedding_length`, 64],
    [`${arch}.block_count`, 5],
    [`${arch}.feed_forward_length`, 172],
    [`${arch}.attention.head_count`, 8],
    ["tokenizer.ggml.tokens", ["a", "b", "c"]],
  ]);
}

function expectError(m: Map<string, MetaValue>, code: string, re?: RegExp) {
  assertThrows(
    () => modelConfigFromMetadata(m),
    (e: unknown) => e instanceof ModelConfigError && e.code === code && (!re || re.test(e.message)),
    code,
  );
}

test("model config: defaults from the minimal keys", () => {
  const c = modelConfigFromMetadata(base());
  assertEquals(c, {
    arch: "llama",
    contextLength: 2048,
    embeddingLength: 64,
    blockCount: 5,
    feedForwardLength: 172,
    headCount: 8,
    headCountKV: 8,
    keyLength: 8,
    valueLength: 8,
    ropeDimensionCount: 8,
    ropeFreqBase: 10000,
    ropeType: "normal",
    ropeScaling: { type: "none", factor: 1, originalContextLength: 2048 },
    rmsNormEps: 1e-5,
    vocabSize: 3,
  });
});

test("model config: explicit keys, bigint values, neox archs, yarn extras", () => {
  const m = base("qwen3");
  m.set("general.name", "tiny");
  m.set("general.file_type", 15n);
  m.set("qwen3.attention.head_count_kv", [2, 2, 2, 2, 2]);
  m.set("qwen3.attention.key_length", 16n);
  m.set("qwen3.attention.value_length", 12);
  m.set("qwen3.rope.dimension_count", 16);
  m.set("qwen3.rope.freq_base", 1e6);
  m.set("qwen3.attention.layer_norm_rms_epsilon", 1e-6);
  m.set("qwen3.vocab_size", 151936);
  m.set("qwen3.rope.scaling.type", "yarn");
  m.set("qwen3.rope.scaling.factor", 4);
  m.set("qwen3.rope.scaling.original_context_length", 512);
  m.set("qwen3.rope.scaling.yarn_beta_fast", 32);
  m.set("qwen3.rope.scaling.yarn_ext_factor", 1);
  const c = modelConfigFromMetadata(m);
  assertEquals(
    [c.name, c.fileType, c.headCountKV, c.keyLength, c.valueLength, c.ropeDimensionCount],
    ["tiny", 15, 2, 16, 12, 16],
  );
  assertEquals([c.ropeFreqBase, c.rmsNormEps, c.vocabSize, c.ropeType], [
    1e6,
    1e-6,
    151936,
    "neox",
  ]);
  assertEquals(c.ropeScaling, {
    type: "yarn",
    factor: 4,
    originalContextLength: 512,
    yarnBetaFast: 32,
    yarnExtFactor: 1,
  });
  for (const arch of ["qwen2", "phi3", "gemma2", "gemma3"]) {
    assertStrictEquals(modelConfigFromMetadata(base(arch)).ropeType, "neox", arch);
  }
  assertStrictEquals(modelConfigFromMetadata(base("mistral")).ropeType, "normal");
});

test("model config: linear scaling from the old key; factor 0 means none", () => {
  const m = base();
  m.set("llama.rope.scale_linear", 2);
  assertEquals(modelConfigFromMetadata(m).ropeScaling, {
    type: "linear",
    factor: 2,
    originalContextLength: 2048,
  });
  m.delete("llama.rope.scale_linear");
  m.set("llama.rope.scaling.factor", 0);
  assertStrictEquals(modelConfigFromMetadata(m).ropeScaling.type, "none");
  m.set("llama.rope.scaling.type", "longrope");
  expectError(m, "BAD_METADATA", /longrope/);
});

test("model config: unsupported architecture, missing and bad metadata", () => {
  expectError(base("falcon"), "UNSUPPORTED_ARCHITECTURE", /falcon/);
  expectError(base("constructor"), "UNSUPPORTED_ARCHITECTURE");
  const noArch = base();
  noArch.delete("general.architecture");
  expectError(noArch, "MISSING_METADATA", /general.architecture/);
  for (
    const k of [
      "context_length",
      "embedding_length",
      "block_count",
      "feed_forward_length",
      "attention.head_count",
    ]
  ) {
    const m = base();
    m.delete(`llama.${k}`);
    expectError(m, "MISSING_METADATA", new RegExp(`llama.${k}`));
  }
  const noVocab = base();
  noVocab.delete("tokenizer.ggml.tokens");
  expectError(noVocab, "MISSING_METADATA", /vocab/);
  const bad: [string, MetaValue, RegExp][] = [
    ["llama.attention.head_count", 0, /head_count/],
    ["llama.attention.head_count", 7, /divide embedding_length/],
    ["llama.attention.head_count_kv", 3, /divide head_count/],
    ["llama.attention.head_count_kv", [8, 4, 8, 8, 8], /differs between layers/],
    ["llama.attention.head_count", [], /empty/],
    ["llama.context_length", "2048", /integer/],
    ["llama.context_length", 1.5, /integer/],
    ["llama.context_length", -1n, /integer/],
    ["llama.context_length", 1n << 60n, /integer/],
    ["llama.rope.dimension_count", 9, /even/],
    ["llama.rope.dimension_count", 16, /at most key_length/],
    ["llama.rope.freq_base", -1, /positive/],
    ["llama.rope.freq_base", true, /number/],
    ["llama.attention.layer_norm_rms_epsilon", 0, /\(0, 1\)/],
    ["llama.attention.layer_norm_rms_epsilon", NaN, /finite/],
    ["llama.rope.scaling.type", 3, /string/],
    ["general.architecture", 5, /string/],
    ["llama.block_count", 4_000_000_000, /exceeds the limit 4096/],
    ["llama.context_length", 2 ** 40, /exceeds the limit/],
    ["llama.vocab_size", 2 ** 30, /exceeds the limit/],
  ];
  for (const [k, v, re] of bad) {
    const m = base();
    m.set(k, v);
    expectError(m, "BAD_METADATA", re);
  }
});

test("model config: from a GGUF, vocab falls back to token_embd rows", () => {
  const f = parseGGUF(
    new GGUFBuilder()
      .setString("general.architecture", "llama")
      .setU32("llama.context_length", 128)
      .setU32("llama.embedding_length", 8)
      .setU32("llama.block_count", 1)
      .setU32("llama.feed_forward_length", 16)
      .setU32("llama.attention.head_count", 2)
      .set("llama.attention.head_count_kv", T.UINT64, 1)
      .addTensor("token_embd.weight", [8, 10], "F32", new Float32Array(80))
      .build(),
  );
  const c = modelConfigFromGGUF(f);
  assertEquals([c.vocabSize, c.headCountKV, c.keyLength], [10, 1, 4]);
});
