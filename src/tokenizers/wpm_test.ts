import { assert, assertEquals, assertStrictEquals } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "../../tests/shared_data.ts";
import { ggufMetadata } from "./_test_vocab.ts";
import { tokenizerFromMetadata } from "./from_gguf.ts";
import { wpmWords } from "./wpm.ts";

const shared = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };

test("WordPiece words: lowercase, accents stripped, punctuation and CJK split", () => {
  assertEquals(wpmWords("Führer, Cửa Việt!"), ["fuhrer", ",", "cua", "viet", "!"]);
  assertEquals(wpmWords("a$b 我想x"), ["a", "$", "b", "我", "想", "x"]);
  assertEquals(wpmWords(" \t\u200Bzero\u0000width "), ["zerowidth"]);
  assertEquals(wpmWords(""), []);
});

test("WordPiece normalization as llama.cpp: each code point becomes its NFD's first", () => {
  // Hangul syllables keep only their leading jamo (ᄒ ᄀ ᄋ), as llama.cpp's NFD table does.
  assertEquals(wpmWords("한국어 각"), ["\u1112\u1100\u110B", "\u1100"]);
  assertEquals(wpmWords("ǅ ΐ Ⅻ"), ["ǆ", "ι", "ⅻ"]);
  const keep = { lowercase: false, stripAccents: false };
  assertEquals(wpmWords("Café e\u0301", keep), ["Café", "e\u0301"]);
  assertEquals(wpmWords("Café", { lowercase: true, stripAccents: false }), ["café"]);
});

test("bert-bge: CLS/SEP with addSpecial, continuation pieces, unknown words", () => {
  const tok = tokenizerFromMetadata(
    ggufMetadata(sharedPath("models", "llama.cpp-vocab", "ggml-vocab-bert-bge.gguf")),
  );
  assertStrictEquals(tok.name, "wpm");
  assertEquals(tok.encode("Hello world", { addSpecial: true }), [101, 7592, 2088, 102]);
  assertEquals(tok.encode("Hello world"), [7592, 2088]);
  assertStrictEquals(tok.unk, 100);
  assertEquals(tok.encode("🦙"), [100]);
  const ids = tok.encode("tokenization");
  assert(ids.length > 1, "expected the word to be split into pieces");
  assertStrictEquals(tok.decode(ids), " tokenization");
  assertEquals(tok.encode("[SEP]", { parseSpecial: true }), [102]);
}, shared);
