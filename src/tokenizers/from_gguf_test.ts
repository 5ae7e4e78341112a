import { assert, assertEquals, assertStrictEquals, assertThrows } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { TokenizerError } from "../core/errors.ts";
import type { MetaValue } from "../gguf/gguf_file.ts";
import { tinyBpeMetadata, tinySpmMetadata } from "./_test_vocab.ts";
import { TOKENIZER_API_VERSION, tokenizerFromMetadata } from "./from_gguf.ts";
import { BYTE_TO_CHAR } from "./unicode.ts";

function throwsCode(md: Map<string, MetaValue>, code: string, key?: string): void {
  assertThrows(
    () => tokenizerFromMetadata(md),
    (e: unknown) => {
      assert(e instanceof TokenizerError, `expected TokenizerError, got ${e}`);
      assertStrictEquals(e.code, code);
      if (key !== undefined) assertStrictEquals(e.facts.key, key);
      return true;
    },
  );
}

test("tiny SPM: score-ordered merges, space prefix, byte fallback", () => {
  const tok = tokenizerFromMetadata(tinySpmMetadata());
  assertStrictEquals(tok.apiVersion, TOKENIZER_API_VERSION);
  assertStrictEquals(tok.name, "spm");
  assertEquals(tok.encode("ab"), [265]); // ▁ a b → ▁ ab → ▁ab
  assertEquals(tok.encode("abc"), [265, 262]);
  assertEquals(tok.encode("é"), [259, 3 + 0xc3, 3 + 0xa9]);
  assertEquals(tok.encode("ab", { addSpecial: true }), [1, 265]);
  assertEquals(tok.encode("", { addSpecial: true }), [1]);
  assertEquals(tok.encode(""), []);
  assertStrictEquals(tok.decode([265, 262]), "abc");
  assertStrictEquals(tok.decode([265, 262], { keepLeadingSpace: true }), " abc");
  assertStrictEquals(tok.decode([259, 3 + 0xc3, 3 + 0xa9]), "é");
});

test("tiny SPM: control tokens only with parseSpecial; EOG detection", () => {
  const tok = tokenizerFromMetadata(tinySpmMetadata());
  assertEquals(tok.encode("a<|im_end|>b", { parseSpecial: true }), [263, 267, 259, 261]);
  const raw = tok.encode("a<|im_end|>b");
  assert(!raw.includes(267), "control token must not be parsed without parseSpecial");
  assertStrictEquals(tok.decode(raw), "a<|im_end|>b");
  assert(tok.isEog(267) && tok.isEog(2) && !tok.isEog(1) && !tok.isEog(263));
  assertStrictEquals(tok.eot, 267);
  assert(tok.isSpecial(267) && tok.isSpecial(1) && tok.isSpecial(0) && !tok.isSpecial(263));
  assertStrictEquals(tok.decode([263, 267]), "a<|im_end|>");
  assertStrictEquals(tok.decode([1, 263, 267, 2], { skipSpecial: true }), " a");
  assertStrictEquals(tok.tokenText(263), "\u2581a");
  assertEquals(Array.from(tok.tokenBytes(263)), [0x20, 0x61]);
  assertEquals(new TextDecoder().decode(tok.tokenBytes(267)), "<|im_end|>");
});

test("tiny BPE: merge ranks, user-defined tokens always split, controls with parseSpecial", () => {
  const tok = tokenizerFromMetadata(tinyBpeMetadata(BYTE_TO_CHAR));
  assertStrictEquals(tok.name, "bpe:gpt-2");
  assertStrictEquals(tok.addBos, false);
  assertEquals(tok.encode("hello world"), [259, 261, 0x72, 0x6c, 0x64]);
  assertEquals(tok.encode("x<|user|>y"), [0x78, 263, 0x79]);
  assertEquals(tok.encode("<|endoftext|>", { parseSpecial: true }), [262]);
  assert(!tok.encode("<|endoftext|>").includes(262));
  assertStrictEquals(tok.decode(tok.encode("hello world\n\t🦙 ß")), "hello world\n\t🦙 ß");
  assert(tok.isEog(262));
});

test("special ids outside the vocabulary keep the model default", () => {
  const md = tinySpmMetadata();
  md.set("tokenizer.ggml.bos_token_id", 4294967295);
  md.set("tokenizer.ggml.padding_token_id", 4294967295);
  const tok = tokenizerFromMetadata(md);
  assertStrictEquals(tok.bos, 1);
  assertStrictEquals(tok.pad, undefined);
});

test("add_bos_token / add_eos_token metadata override the defaults", () => {
  const md = tinySpmMetadata();
  md.set("tokenizer.ggml.add_bos_token", false);
  md.set("tokenizer.ggml.add_eos_token", true);
  const tok = tokenizerFromMetadata(md);
  assertEquals(tok.encode("ab", { addSpecial: true }), [265, 2]);
  assertStrictEquals(tok.addEos, true);
});

test("malformed metadata throws TOKENIZER_BAD_METADATA", () => {
  const without = (md: Map<string, MetaValue>, k: string) => (md.delete(k), md);
  const withVal = (md: Map<string, MetaValue>, k: string, v: MetaValue) => (md.set(k, v), md);
  throwsCode(without(tinySpmMetadata(), "tokenizer.ggml.tokens"), "TOKENIZER_BAD_METADATA");
  throwsCode(without(tinySpmMetadata(), "tokenizer.ggml.model"), "TOKENIZER_BAD_METADATA");
  throwsCode(withVal(tinySpmMetadata(), "tokenizer.ggml.tokens", "abc"), "TOKENIZER_BAD_METADATA");
  throwsCode(withVal(tinySpmMetadata(), "tokenizer.ggml.tokens", []), "TOKENIZER_BAD_METADATA");
  throwsCode(
    withVal(tinySpmMetadata(), "tokenizer.ggml.tokens", ["a", 3]),
    "TOKENIZER_BAD_METADATA",
  );
  throwsCode(
    withVal(tinySpmMetadata(), "tokenizer.ggml.scores", [0, 1, 2]),
    "TOKENIZER_BAD_METADATA",
    "tokenizer.ggml.scores",
  );
  const md = tinySpmMetadata();
  const types = (md.get("tokenizer.ggml.token_type") as number[]).slice();
  types[5] = 1.5;
  throwsCode(withVal(md, "tokenizer.ggml.token_type", types), "TOKENIZER_BAD_METADATA");
  throwsCode(
    without(tinyBpeMetadata(BYTE_TO_CHAR), "tokenizer.ggml.merges"),
    "TOKENIZER_BAD_METADATA",
    "tokenizer.ggml.merges",
  );
  throwsCode(
    withVal(tinyBpeMetadata(BYTE_TO_CHAR), "tokenizer.ggml.merges", ["h e", "nospace"]),
    "TOKENIZER_BAD_METADATA",
    "tokenizer.ggml.merges",
  );
  throwsCode(
    withVal(tinyBpeMetadata(BYTE_TO_CHAR), "tokenizer.ggml.merges", ["h e", 7]),
    "TOKENIZER_BAD_METADATA",
  );
  throwsCode(
    withVal(tinySpmMetadata(), "tokenizer.ggml.add_bos_token", "yes"),
    "TOKENIZER_BAD_METADATA",
  );
});

test("unsupported models and pre-tokenizers throw TOKENIZER_UNSUPPORTED", () => {
  throwsCode(
    (() => {
      const md = tinySpmMetadata();
      md.set("tokenizer.ggml.model", "rwkv");
      return md;
    })(),
    "TOKENIZER_UNSUPPORTED",
  );
  const md = tinyBpeMetadata(BYTE_TO_CHAR);
  md.set("tokenizer.ggml.pre", "no-such-pre");
  throwsCode(md, "TOKENIZER_UNSUPPORTED", "tokenizer.ggml.pre");
});

test("bad token ids throw TOKENIZER_BAD_TOKEN", () => {
  const tok = tokenizerFromMetadata(tinySpmMetadata());
  for (const bad of [-1, 268, 1.5, NaN]) {
    assertThrows(
      () => tok.decode([bad]),
      (e: unknown) => e instanceof TokenizerError && e.code === "TOKENIZER_BAD_TOKEN",
    );
    assertThrows(() => tok.tokenBytes(bad), TokenizerError);
  }
  assertStrictEquals(tok.isEog(-1), false);
});

test("add_bos_token without any BOS token is rejected", () => {
  const md = tinyBpeMetadata(BYTE_TO_CHAR);
  md.delete("tokenizer.ggml.bos_token_id");
  md.set("tokenizer.ggml.tokens", (md.get("tokenizer.ggml.tokens") as string[]).slice(0, 10));
  md.set("tokenizer.ggml.token_type", new Array(10).fill(1));
  md.set("tokenizer.ggml.merges", ["a b"]);
  md.set("tokenizer.ggml.eos_token_id", 0);
  md.set("tokenizer.ggml.add_bos_token", true);
  throwsCode(md, "TOKENIZER_BAD_METADATA", "tokenizer.ggml.add_bos_token");
});
