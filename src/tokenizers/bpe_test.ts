import { assert, assertEquals, assertStrictEquals } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "../../tests/shared_data.ts";
import { readTextFile } from "../runtime/host.ts";
import { ggufMetadata, tinyGemma4Metadata } from "./_test_vocab.ts";
import { tokenizerFromMetadata } from "./from_gguf.ts";

const shared = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };
const vocab = (name: string) =>
  tokenizerFromMetadata(
    ggufMetadata(sharedPath("models", "llama.cpp-vocab", `ggml-vocab-${name}.gguf`)),
  );

test("qwen2-tiny64 (deepseek-coder BPE): golden prompt tokens with BOS", () => {
  const tok = tokenizerFromMetadata(
    ggufMetadata(sharedPath("models", "synthetic", "qwen2-tiny64-Q8_0.gguf")),
  );
  const g = JSON.parse(readTextFile(sharedPath("golden", "qwen2-tiny64.jsonl")).split("\n")[0]);
  assertEquals(tok.encode(g.prompt, { addSpecial: true }), g.prompt_tokens);
  assertStrictEquals(tok.name, "bpe:deepseek-coder");
  assertStrictEquals(tok.bos, 32013);
  assert(tok.addBos);
  assertStrictEquals(tok.decode(g.prompt_tokens, { skipSpecial: true }), g.prompt);
}, shared);

test("gpt-2: <|endoftext|> is parsed only with parseSpecial and ends generation", () => {
  const tok = vocab("gpt-2");
  assertEquals(tok.encode("a<|endoftext|>b", { parseSpecial: true }), [64, 50256, 65]);
  assert(!tok.encode("a<|endoftext|>b").includes(50256));
  assert(tok.isEog(50256) && tok.isSpecial(50256));
  assertStrictEquals(tok.decode([64, 50256, 65]), "a<|endoftext|>b");
  assertStrictEquals(tok.decode([64, 50256, 65], { skipSpecial: true }), "ab");
  assertStrictEquals(tok.addBos, false);
  assertEquals(tok.encode("Hello", { addSpecial: true }), tok.encode("Hello"));
}, shared);

test("gpt-2: clean_spaces decoding is opt-in", () => {
  const tok = vocab("gpt-2");
  const ids = tok.encode("Hello , world ! It 's fine .");
  assertStrictEquals(tok.decode(ids), "Hello , world ! It 's fine .");
  assertStrictEquals(tok.decode(ids, { cleanSpaces: true }), "Hello, world! It's fine.");
}, shared);

test("byte-level stream decoding never splits a character", () => {
  const tok = vocab("gpt-2");
  const text = "鼎 𝔘𝔫𝔦 🦙🚀 é";
  const ids = tok.encode(text);
  const multi = ids.filter((id) => {
    const b = tok.tokenBytes(id);
    return new TextDecoder().decode(b).includes("\uFFFD");
  });
  assert(multi.length > 0, "expected tokens holding partial UTF-8 sequences");
  const dec = tok.createStreamDecoder();
  let out = "";
  for (const id of ids) {
    const piece = dec.push(id);
    assert(!piece.includes("\uFFFD"), `token ${id} emitted a broken character`);
    out += piece;
  }
  assertStrictEquals(out + dec.flush(), text);
}, shared);

test("FIM pad and <|endoftext|> are end-of-generation for starcoder", () => {
  const tok = vocab("starcoder");
  assert(tok.isEog(0) && tok.isEog(4)); // <|endoftext|>, <fim_pad>
  assert(!tok.isEog(1)); // <fim_prefix>
  assertStrictEquals(tok.name, "bpe:starcoder");
  assertEquals(tok.encode("12345").length, 5); // starcoder splits digits one by one
}, shared);

test("BPE 50k vocab: large text encodes fast and round-trips", () => {
  const tok = vocab("gpt-2");
  const text = "The quick brown fox — jumps over 13 lazy dogs! 𝔘𝔫𝔦 코드\n\t  ".repeat(500);
  const t0 = performance.now();
  const ids = tok.encode(text);
  const ms = performance.now() - t0;
  assert(ms < 3000, `encoding ${text.length} chars took ${ms.toFixed(0)} ms`);
  assertStrictEquals(tok.decode(ids), text);
}, shared);

test("gemma4: spaces as ▁, raw code points, newline runs whole, <0xXX> byte fallback", () => {
  const tok = tokenizerFromMetadata(tinyGemma4Metadata());
  assertStrictEquals(tok.name, "bpe:gemma4");
  const [sp, a, b, spA, spAb, nl2, nl3] = [259, 260, 261, 263, 264, 265, 266];
  assertEquals(tok.encode(" ab a"), [spAb, spA]);
  assertEquals(tok.encode("b\n\n\n"), [b, nl3]); // a newline run that is a token stays whole
  assertEquals(tok.encode("\n\n\n\n"), [nl2, nl2]); // otherwise merged as usual
  assertEquals(tok.encode("aé"), [a, 3 + 0xc3, 3 + 0xa9]);
  assertEquals(tok.encode("  "), [sp, sp]);
  assertStrictEquals(tok.decode(tok.encode(" ab aé\n\n b")), " ab aé\n\n b");
  assert(tok.addBos, "llama.cpp forces add_bos for gemma4");
  assertEquals(tok.encode("a", { addSpecial: true }), [2, a]);
  assertStrictEquals(tok.unk, undefined); // no default special ids
});
