import { assertEquals, assertStrictEquals, assertThrows } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { TokenizerError } from "../core/errors.ts";
import { oneRuleCharsmap } from "./_test_vocab.ts";
import { Charsmap } from "./ugm_charsmap.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

test("charsmap: the longest mapped prefix and its replacement", () => {
  const cm = new Charsmap(oneRuleCharsmap(0x41, "xy"));
  const m = cm.match(bytes("zAb"), 1)!;
  assertStrictEquals(m.consumed, 1);
  assertEquals(Array.from(m.replacement), Array.from(bytes("xy")));
  assertStrictEquals(cm.match(bytes("b"), 0), undefined);
  assertStrictEquals(cm.match(bytes("\0A"), 0), undefined); // NUL ends the walk
});

test("charsmap: malformed blobs are TOKENIZER_BAD_METADATA, never a crash", () => {
  const isBad = (e: unknown) => e instanceof TokenizerError && e.code === "TOKENIZER_BAD_METADATA";
  assertThrows(() => new Charsmap(new Uint8Array(3)), isBad);
  const huge = new Uint8Array(16);
  new DataView(huge.buffer).setUint32(0, 0xfffffff0, true);
  assertThrows(() => new Charsmap(huge), isBad);
  // Walks outside the array and replacement offsets outside the strings.
  const small = oneRuleCharsmap(0x41, "x").slice();
  new DataView(small.buffer).setUint32(4, 0xffffffff, true); // root base far out of range
  assertThrows(() => new Charsmap(small).match(bytes("A"), 0), isBad);
  const noNul = oneRuleCharsmap(0x41, "x");
  const cut = noNul.subarray(0, noNul.length - 1); // drop the NUL terminator
  assertThrows(() => new Charsmap(cut).match(bytes("A"), 0), isBad);
});
