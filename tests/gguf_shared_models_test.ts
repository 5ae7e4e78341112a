/**
 * Parses every GGUF under shared/models and checks the facts recorded in SOURCES.md, plus the
 * model configuration of each file.
 *
 * @module
 */
import { assert, assertEquals, assertStrictEquals, assertThrows } from "./assert.ts";
import { test } from "./harness.ts";
import { findGGUFFiles } from "./gguf_test_util.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "./shared_data.ts";
import { ModelConfigError } from "../src/core/errors.ts";
import { tensorStats } from "../src/gguf/describe.ts";
import { GGMLType, typeTraits } from "../src/gguf/ggml_types.ts";
import { findTensor, type GGUFFile, meta } from "../src/gguf/gguf_file.ts";
import { modelConfigFromGGUF } from "../src/gguf/model_config.ts";
import { openGGUF } from "../src/gguf/reader.ts";

const opts = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };

function withFile<T>(rel: string, fn: (f: GGUFFile) => T): T {
  const f = openGGUF(sharedPath("models", rel));
  try {
    return fn(f);
  } finally {
    f.source.close();
  }
}

function typeCounts(f: GGUFFile): Record<string, number> {
  const c: Record<string, number> = {};
  for (const t of f.tensors) c[typeTraits(t.type).name] = (c[typeTraits(t.type).name] ?? 0) + 1;
  return c;
}

function tokens(f: GGUFFile): unknown[] {
  return meta(f, "tokenizer.ggml.tokens") as unknown[];
}

test("shared models: every GGUF parses, with sane tensor extents", () => {
  const files = findGGUFFiles(sharedPath("models"));
  assert(files.length >= 25, `found ${files.length} GGUF files`);
  for (const path of files) {
    const f = openGGUF(path);
    try {
      assert(f.version === 3, path);
      assert(f.metadata.has("general.architecture"), path);
      for (const t of f.tensors) {
        assert(f.dataOffset + t.offset + t.nBytes <= f.source.size, t.name);
      }
    } finally {
      f.source.close();
    }
  }
}, opts);

test("shared models: stories260K facts", () => {
  withFile("stories260K.gguf", (f) => {
    assertEquals([f.version, f.metadata.size, f.tensors.length], [3, 19, 48]);
    assertEquals(typeCounts(f), { F32: 48 });
    assertStrictEquals(tensorStats(f).parameterCount, 292_800);
    assertStrictEquals(meta(f, "general.file_type"), undefined);
    assertStrictEquals(meta(f, "llama.attention.head_count_kv"), 4);
    assertStrictEquals(tokens(f).length, 512);
    assertEquals(tokens(f).slice(0, 3), ["<unk>", "<s>", "</s>"]);
    assertStrictEquals(meta(f, "tokenizer.ggml.seperator_token_id"), 0xffffffff);
    assertEquals(findTensor(f, "token_embd.weight")?.dims, [64, 512]);
    assertEquals(findTensor(f, "blk.0.attn_k.weight")?.dims, [64, 32]);
    assertEquals(findTensor(f, "blk.4.ffn_down.weight")?.dims, [172, 64]);
    const c = modelConfigFromGGUF(f);
    assertEquals(
      [c.arch, c.contextLength, c.embeddingLength, c.feedForwardLength, c.blockCount],
      ["llama", 2048, 64, 172, 5],
    );
    assertEquals([c.headCount, c.headCountKV, c.keyLength, c.valueLength], [8, 4, 8, 8]);
    assertEquals([c.ropeDimensionCount, c.ropeType, c.vocabSize, c.fileType], [
      8,
      "normal",
      512,
      undefined,
    ]);
    assertStrictEquals(c.rmsNormEps, Math.fround(1e-5));
    assertStrictEquals(c.ropeScaling.type, "none");
  });
}, opts);

test("shared models: llama-2-tiny-random facts", () => {
  withFile("llama-2-tiny-random.gguf", (f) => {
    assertEquals([f.version, f.metadata.size, f.tensors.length], [3, 18, 12]);
    assertEquals(typeCounts(f), { F16: 9, F32: 3 });
    for (const t of f.tensors) {
      assertStrictEquals(t.type === GGMLType.F32, t.name.endsWith("_norm.weight"), t.name);
    }
    assertStrictEquals(tensorStats(f).parameterCount, 513_048);
    assertStrictEquals(tokens(f).length, 32000);
    assertEquals(findTensor(f, "token_embd.weight")?.dims, [8, 32000]);
    const c = modelConfigFromGGUF(f);
    assertEquals(
      [c.name, c.fileType, c.contextLength, c.embeddingLength, c.blockCount, c.feedForwardLength],
      ["LLaMA v2", 1, 4096, 8, 1, 32],
    );
    assertEquals([c.headCount, c.headCountKV, c.ropeDimensionCount, c.vocabSize], [2, 2, 4, 32000]);
  });
}, opts);

const VOCABS: [string, string, string, number, number | undefined][] = [
  // file, architecture, tokenizer model, vocab, merges
  ["llama-spm", "llama", "llama", 32000, undefined],
  ["phi-3", "phi3", "llama", 32064, undefined],
  ["gpt-2", "gpt2", "gpt2", 50257, 50000],
  ["deepseek-coder", "llama", "gpt2", 32256, 31757],
  ["falcon", "falcon", "gpt2", 65024, 64784],
  ["starcoder", "starcoder2", "gpt2", 49152, 48872],
  ["refact", "refact", "gpt2", 49216, 48891],
  ["bert-bge", "bert", "bert", 30522, undefined],
];

test("shared models: vocab-only files", () => {
  for (const [name, arch, model, vocab, merges] of VOCABS) {
    withFile(`llama.cpp-vocab/ggml-vocab-${name}.gguf`, (f) => {
      assertStrictEquals(f.tensors.length, 0, name);
      assertStrictEquals(meta(f, "general.architecture"), arch, name);
      assertStrictEquals(meta(f, "tokenizer.ggml.model"), model, name);
      assertStrictEquals(tokens(f).length, vocab, name);
      assertStrictEquals(
        (meta(f, "tokenizer.ggml.merges") as unknown[] | undefined)?.length,
        merges,
        name,
      );
      if (arch === "llama" || arch === "phi3") {
        const c = modelConfigFromGGUF(f);
        assertStrictEquals(c.vocabSize, vocab, name);
        assertStrictEquals(c.ropeType, arch === "phi3" ? "neox" : "normal", name);
      } else {
        assertThrows(
          () => modelConfigFromGGUF(f),
          (e: unknown) => e instanceof ModelConfigError && e.code === "UNSUPPORTED_ARCHITECTURE",
          name,
        );
      }
    });
  }
  withFile("llama.cpp-vocab/ggml-vocab-deepseek-coder.gguf", (f) => {
    const c = modelConfigFromGGUF(f);
    assertEquals([c.ropeScaling.type, c.ropeScaling.factor, c.ropeFreqBase], ["linear", 4, 100000]);
    assertEquals([c.headCount, c.keyLength, c.contextLength], [32, 128, 16384]);
  });
}, opts);

const TINY_TYPES = [
  "F16",
  "BF16",
  "Q8_0",
  "Q4_0",
  "Q4_1",
  "Q5_0",
  "Q5_1",
  "Q2_K",
  "Q3_K",
  "Q4_K",
  "Q5_K",
  "Q6_K",
  "IQ4_NL",
  "IQ4_XS",
];

test("shared models: tiny256-* shapes and types", () => {
  // token_embd + output [256, 512], output_norm; per block q/o [256,256], k/v [256,128],
  // gate/up/down [256,256], two norms.
  const params = 2 * 256 * 512 + 256 + 2 * (2 * 65536 + 2 * 32768 + 3 * 65536 + 2 * 256);
  for (const ty of TINY_TYPES) {
    withFile(`synthetic/tiny256-${ty}.gguf`, (f) => {
      assertStrictEquals(f.tensors.length, 21, ty);
      assertEquals(typeCounts(f), { [ty]: 16, F32: 5 }, ty);
      for (const t of f.tensors) {
        assertStrictEquals(typeTraits(t.type).name, t.dims.length === 2 ? ty : "F32", t.name);
      }
      assertEquals(findTensor(f, "blk.1.attn_k.weight")?.dims, [256, 128], ty);
      assertEquals(findTensor(f, "token_embd.weight")?.dims, [256, 512], ty);
      assertStrictEquals(tensorStats(f).parameterCount, params, ty);
      const c = modelConfigFromGGUF(f);
      assertEquals(
        [c.embeddingLength, c.blockCount, c.headCount, c.headCountKV, c.keyLength],
        [256, 2, 8, 4, 32],
        ty,
      );
      assertEquals([c.feedForwardLength, c.contextLength, c.vocabSize], [256, 512, 512], ty);
    });
  }
}, opts);

test("shared models: qwen2-tiny64 config", () => {
  withFile("synthetic/qwen2-tiny64-Q8_0.gguf", (f) => {
    const c = modelConfigFromGGUF(f);
    assertEquals(
      [c.arch, c.embeddingLength, c.blockCount, c.headCount, c.headCountKV, c.feedForwardLength],
      ["qwen2", 64, 2, 4, 2, 128],
    );
    assertEquals([c.ropeType, c.keyLength, c.vocabSize, c.fileType], ["neox", 16, 32256, 7]);
    for (const b of ["q", "k", "v"]) assert(findTensor(f, `blk.0.attn_${b}.bias`), b);
    assertStrictEquals(meta(f, "tokenizer.ggml.pre"), "deepseek-coder");
  });
}, opts);
