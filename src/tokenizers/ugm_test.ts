import { assertEquals, assertStrictEquals } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { tinyUgmMetadata } from "./_test_vocab.ts";
import { tokenizerFromMetadata } from "./from_gguf.ts";

const tok = (edit: (md: ReturnType<typeof tinyUgmMetadata>) => void = () => {}) => {
  const md = tinyUgmMetadata();
  edit(md);
  return tokenizerFromMetadata(md);
};

test("ugm: Viterbi takes the best score sum, not the longest match", () => {
  const t = tok();
  assertStrictEquals(t.name, "ugm");
  assertEquals(t.encode("ab"), [7, 5]); // ▁a + b (-2) beats ▁ab (-4) and ▁ + ab (-3.5)
  assertStrictEquals(t.decode([7, 5]), "ab");
  assertEquals(t.encode(""), []);
});

test("ugm: uncovered code points are the unknown token, consecutive ones merged", () => {
  const t = tok();
  assertEquals(t.encode("ab z"), [7, 5, 3, 2]);
  assertEquals(t.encode("zz\u{1F600}"), [3, 2]);
  assertEquals(t.encode("zab"), [3, 2, 6]);
});

test("ugm: user-defined tokens split the text; each fragment gets its space prefix", () => {
  assertEquals(tok().encode("a<u>b"), [7, 9, 3, 5]);
});

test("ugm: charsmap replacements, space escaping and remove_extra_whitespaces", () => {
  assertEquals(tok().encode("C"), [3, 10]); // "C" → "c" by the charsmap
  assertEquals(tok().encode("a  b"), [7, 3, 3, 5]);
  const merged = tok((md) => md.set("tokenizer.ggml.remove_extra_whitespaces", true));
  assertEquals(merged.encode("a   b "), [7, 3, 5]);
  const noPrefix = tok((md) => md.set("tokenizer.ggml.add_space_prefix", false));
  assertEquals(noPrefix.encode("ab"), [6]);
});

test("ugm: llama.cpp's defaults add EOS (id 1), no BOS", () => {
  const t = tok();
  assertStrictEquals(t.addBos, false);
  assertStrictEquals(t.eos, 1);
  assertStrictEquals(t.unk, 2);
  assertEquals(t.encode("a", { addSpecial: true }), [7, 1]);
});
