import { assert, assertEquals, assertStrictEquals } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { bpePreset, preTokenize } from "./pretokenize.ts";
import { Category, categoryClass, categoryOf, withLlamaCategories } from "./unicode_flags.ts";

test("llama.cpp's categories: ASCII, scripts, and its table's Unicode version", () => {
  assertStrictEquals(categoryOf(0x41), Category.LETTER);
  assertStrictEquals(categoryOf(0x20), Category.SEPARATOR);
  assertStrictEquals(categoryOf(0x0), Category.CONTROL);
  assertStrictEquals(categoryOf(0x30), Category.NUMBER);
  assertStrictEquals(categoryOf(0x21), Category.PUNCTUATION);
  assertStrictEquals(categoryOf(0x24), Category.SYMBOL);
  assertStrictEquals(categoryOf(0x301), Category.MARK);
  assertStrictEquals(categoryOf(0xd55c), Category.LETTER); // 한
  assertStrictEquals(categoryOf(0x378), Category.UNDEFINED);
  // U+1C89 (Cyrillic Tje) came with Unicode 16: a letter to newer engines, not to llama.cpp.
  assertStrictEquals(categoryOf(0x1c89), Category.UNDEFINED);
  assertStrictEquals(categoryOf(0x10ffff), Category.UNDEFINED);
  assertStrictEquals(categoryOf(0x110000), Category.UNDEFINED);
});

test("regex categories come from llama.cpp's table, inside and outside classes", () => {
  const src = withLlamaCategories("^(?:[^\\p{L}\\p{N}]+|\\p{L}+)$");
  assert(!src.includes("\\p{"), "every category was replaced");
  const re = new RegExp(src, "u");
  assert(re.test("abc") && re.test("!?") && !re.test("a!") && !re.test("1"));
  assert(categoryClass("L").startsWith("\\u{41}-\\u{5a}"));
  const split = (text: string) => preTokenize(text, bpePreset("gpt-2")!.regexes);
  assertEquals(split("a\u1C89b"), ["a", "\u1C89", "b"]); // as llama.cpp: U+1C89 is no letter
  assertEquals(split("a\u00E9b 12"), ["a\u00E9b", " 12"]);
});
