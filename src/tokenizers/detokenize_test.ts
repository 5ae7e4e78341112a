import { assert, assertEquals, assertStrictEquals } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { tinySpmMetadata } from "./_test_vocab.ts";
import { cleanSpaces } from "./detokenize.ts";
import { tokenizerFromMetadata } from "./from_gguf.ts";
import { BYTE_TO_CHAR, byteDecode, byteEncode, CHAR_TO_BYTE } from "./unicode.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

test("clean_spaces passes match llama.cpp", () => {
  assertStrictEquals(dec(cleanSpaces(enc("a , b . c ? d !"))), "a, b. c? d!");
  assertStrictEquals(dec(cleanSpaces(enc("it 's I 'm we 're you 've"))), "it's I'm we're you've");
  assertStrictEquals(dec(cleanSpaces(enc("don 't I 'd we 'll ' x"))), "don 't I 'd we 'll ' x");
  assertStrictEquals(dec(cleanSpaces(enc(""))), "");
});

test("GPT-2 byte alphabet is a bijection of 256 printable characters", () => {
  assertStrictEquals(new Set(BYTE_TO_CHAR).size, 256);
  assertStrictEquals(CHAR_TO_BYTE.size, 256);
  assertStrictEquals(BYTE_TO_CHAR[0x20], "\u0120"); // Ġ
  assertStrictEquals(BYTE_TO_CHAR[0x0a], "\u010A"); // Ċ
  assertStrictEquals(BYTE_TO_CHAR[0x41], "A");
  const text = "héllo 🦙\n\u0000";
  assertStrictEquals(dec(byteDecode(byteEncode(text))), text);
});

test("stream decoder emits each character once, complete, in order", () => {
  const tok = tokenizerFromMetadata(tinySpmMetadata());
  const ids = tok.encode("a😀bé");
  const d = tok.createStreamDecoder();
  const pieces = ids.map((id) => d.push(id));
  assert(pieces.every((p) => !p.includes("\uFFFD")));
  assertEquals(pieces.filter((p) => p.includes("😀")).length, 1);
  assertStrictEquals(pieces.join("") + d.flush(), " a😀bé");
  // An invalid byte sequence is reported as U+FFFD instead of being held forever.
  const bad = tok.createStreamDecoder();
  const cont = 3 + 0x80; // <0x80>: a continuation byte with no lead byte
  assertStrictEquals(bad.push(cont) + bad.flush(), "\uFFFD");
});

test("stream decoder can hide control tokens", () => {
  const tok = tokenizerFromMetadata(tinySpmMetadata());
  const ids = tok.encode("ab<|im_end|>", { addSpecial: true, parseSpecial: true });
  const shown = tok.createStreamDecoder();
  assertStrictEquals(ids.map((id) => shown.push(id)).join(""), "<s> ab<|im_end|>");
  const hidden = tok.createStreamDecoder({ skipSpecial: true });
  assertStrictEquals(ids.map((id) => hidden.push(id)).join(""), " ab");
});
