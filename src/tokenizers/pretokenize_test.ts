import { assert, assertEquals } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { bpePreset, knownPreTokenizers, preTokenize } from "./pretokenize.ts";

const split = (pre: string, text: string) => preTokenize(text, bpePreset(pre)!.regexes);

test("gpt-2: words keep one leading space; a whitespace run leaves its last space", () => {
  assertEquals(split("gpt-2", "Hello world"), ["Hello", " world"]);
  assertEquals(split("gpt-2", "a   b"), ["a", "  ", " b"]);
  assertEquals(split("gpt-2", "a\n\nb"), ["a", "\n", "\n", "b"]);
  assertEquals(split("gpt-2", "x  "), ["x", "  "]);
  assertEquals(split("gpt-2", "I'm 12 'RE"), ["I", "'m", " 12", " '", "RE"]);
  assertEquals(split("gpt-2", "3.14!!"), ["3", ".", "14", "!!"]);
});

test("llama3: case-insensitive contractions, digits in threes, newline runs", () => {
  assertEquals(split("llama-bpe", "I'M 1234567"), ["I", "'M", " ", "123", "456", "7"]);
  assertEquals(split("llama-bpe", "a\n\n b"), ["a", "\n\n", " b"]);
  assertEquals(split("llama-bpe", "hi!\n\nok"), ["hi", "!\n\n", "ok"]);
  assertEquals(split("llama-bpe", "(word"), ["(word"]);
});

test("qwen2 splits digits one by one; deepseek-coder splits newlines and CJK", () => {
  assertEquals(split("qwen2", "x123"), ["x", "1", "2", "3"]);
  assertEquals(split("deepseek-coder", "a\nb 我想12"), ["a", "\n", "b", " ", "我想", "1", "2"]);
});

test("qwen35 keeps combining marks in letter runs; qwen2 splits them off", () => {
  assertEquals(split("qwen35", "e\u0301x \u0915\u093F"), ["e\u0301x", " \u0915\u093F"]);
  assertEquals(split("qwen2", "e\u0301x"), ["e", "\u0301x"]);
  assertEquals(split("qwen35", "a+\u0301!"), ["a", "+\u0301", "!"]);
});

test("superbpe's empty lookahead matches split digit runs into threes from the right", () => {
  assertEquals(split("superbpe", "x1234567 123456"), ["x", "1", "234", "567", " ", "123", "456"]);
});

test("gemma4 splits only newline runs", () => {
  assertEquals(split("gemma4", "a b\n\nc\n"), ["a b", "\n\n", "c", "\n"]);
  assert(!bpePreset("gemma4")!.byteLevel && bpePreset("gpt-2")!.byteLevel);
});

test("llama.cpp's whitespace set: U+0085 is whitespace, U+FEFF is not", () => {
  assertEquals(split("gpt-2", "a\u0085\u0085b"), ["a", "\u0085", "\u0085", "b"]);
  assertEquals(split("gpt-2", "a\uFEFFb"), ["a", "\uFEFF", "b"]);
});

test("falcon and default pre-tokenizers split punctuation runs first", () => {
  assertEquals(split("falcon", "a+=b 12345"), ["a", "+=", "b", " ", "123", "45"]);
  assertEquals(split("default", "x<=y"), ["x", "<=", "y"]);
});

test("every known pre-tokenizer compiles and splits text losslessly", () => {
  const text = "Hello, y'all! 我想在apple工作1314151天～ \n\t  ╔═ 🦙 ÉCOLE école IMGIMGABZ";
  const names = knownPreTokenizers();
  assert(names.length >= 30);
  for (const name of names) {
    const words = split(name, text);
    assertEquals(words.join(""), text, name);
    assert(words.every((w) => w.length > 0), name);
  }
  assertEquals(bpePreset("no-such"), undefined);
});
