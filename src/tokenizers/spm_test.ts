import { assert, assertEquals, assertStrictEquals } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { readTextFile } from "../runtime/host.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "../../tests/shared_data.ts";
import { ggufMetadata } from "./_test_vocab.ts";
import { tokenizerFromMetadata } from "./from_gguf.ts";

const shared = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };
const load = (...p: string[]) => tokenizerFromMetadata(ggufMetadata(sharedPath(...p)));

test("stories260K: every golden prompt encodes to llama.cpp's prompt_tokens", () => {
  const tok = load("models", "stories260K.gguf");
  assertEquals(tok.encode("Once upon a time", { addSpecial: true }), [1, 403, 407, 261, 378]);
  const lines = readTextFile(sharedPath("golden", "stories260K.jsonl")).trim().split("\n");
  assert(lines.length >= 3);
  for (const line of lines) {
    const g = JSON.parse(line) as { prompt: string; prompt_tokens: number[]; tokens: number[] };
    assertEquals(tok.encode(g.prompt, { addSpecial: true }), g.prompt_tokens, g.prompt);
    assertStrictEquals(tok.decode(g.prompt_tokens, { skipSpecial: true }), " " + g.prompt);
    assertStrictEquals(tok.decode(g.prompt_tokens.slice(1)), g.prompt);
  }
  assertStrictEquals(tok.bos, 1);
  assertStrictEquals(tok.eos, 2);
  assertStrictEquals(tok.unk, 0);
  assertStrictEquals(tok.pad, undefined); // stored as 0xFFFFFFFF
  assert(tok.addBos && !tok.addEos);
  assert(tok.isEog(2) && !tok.isEog(1));
}, shared);

test("SPM byte fallback: emoji becomes <0xF0>.. tokens; stream decoder holds partial bytes", () => {
  const tok = load("models", "stories260K.gguf");
  const ids = tok.encode("a 🦙!");
  const bytes = [0xf0, 0x9f, 0xa6, 0x99].map((b) => 3 + b); // <0x00> is token 3
  const at = ids.indexOf(bytes[0]);
  assert(at > 0, `expected byte tokens in ${ids}`);
  assertEquals(ids.slice(at, at + 4), bytes);
  assertStrictEquals(tok.decode(ids), "a 🦙!");
  const dec = tok.createStreamDecoder();
  let text = "";
  for (const id of ids) {
    const piece = dec.push(id);
    assert(!piece.includes("\uFFFD"), `broken character emitted for token ${id}`);
    text += piece;
  }
  text += dec.flush();
  assertStrictEquals(text, " a 🦙!"); // streamed pieces keep the SPM space prefix
  const partial = tok.createStreamDecoder();
  assertStrictEquals(partial.push(bytes[0]) + partial.push(bytes[1]), "");
  assertStrictEquals(partial.flush(), "\uFFFD");
}, shared);

test("SPM parseSpecial and phi-3 strip attributes", () => {
  const tok = load("models", "llama.cpp-vocab", "ggml-vocab-phi-3.gguf");
  const user = tok.encode("<|user|>\nHi<|end|>\n<|assistant|>", { parseSpecial: true });
  // RSTRIP on <|user|> and <|end|> swallows the newline after them (llama.cpp's phi-3 rule).
  assertEquals(user.filter((t) => t >= 32000), [32010, 32007, 32001]);
  assertStrictEquals(user[0], 32010);
  assertStrictEquals(user[user.length - 1], 32001);
  assert(!tok.encode("<|user|>").includes(32010));
  assertStrictEquals(tok.eos, 32000);
  assertStrictEquals(tok.eot, 32007);
  assert(tok.isEog(32000) && tok.isEog(32007) && !tok.isEog(32010));
  assertStrictEquals(tok.decode(user), "<|user|> Hi<|end|><|assistant|>");
  // As llama_detokenize: the hidden first token takes the leading-space removal.
  assertStrictEquals(tok.decode(user, { skipSpecial: true }), " Hi");
}, shared);

test("SPM 32k vocab: builds fast and round-trips text", () => {
  const md = ggufMetadata(sharedPath("models", "llama-2-tiny-random.gguf"));
  const t0 = performance.now();
  const tok = tokenizerFromMetadata(md);
  const buildMs = performance.now() - t0;
  assert(buildMs < 1000, `construction took ${buildMs.toFixed(0)} ms`);
  assertStrictEquals(tok.vocabSize, 32000);
  assertEquals(tok.encode("Hello world, this is a test", { addSpecial: true }), [
    1,
    15043,
    3186,
    29892,
    445,
    338,
    263,
    1243,
  ]);
  const text = "Ünïcödé  text\twith\nnewlines, 数字 123 and emoji 😀🦙 — done. ".repeat(200);
  const t1 = performance.now();
  const ids = tok.encode(text);
  const encMs = performance.now() - t1;
  assert(encMs < 2000, `encoding ${text.length} chars took ${encMs.toFixed(0)} ms`);
  assertStrictEquals(tok.decode(ids), text);
}, shared);
