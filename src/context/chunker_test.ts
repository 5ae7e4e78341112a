import { assertEquals, assertRejects } from "../../tests/assert.ts";
import { chunkPieces } from "./chunker.ts";
import { ContextError } from "./errors.ts";
import { test } from "../../tests/harness.ts";

/** Characters as tokens. */
const chars = {
  tokenize: (s: string) => [...s].map((c) => c.codePointAt(0)!),
  detokenize: (t: readonly number[]) => String.fromCodePoint(...t),
};

async function collect(pieces: string[], size: number, overlap: number): Promise<string[]> {
  const out: string[] = [];
  for await (const c of chunkPieces(pieces, chars, size, overlap)) out.push(c.text);
  return out;
}

test("chunkPieces: windows of size tokens sharing overlap, across piece boundaries", async () => {
  assertEquals(await collect(["abcdefghij"], 4, 1), ["abcd", "defg", "ghij"]);
  assertEquals(await collect(["abc", "defg", "hij"], 4, 1), ["abcd", "defg", "ghij"]);
  assertEquals(await collect(["abcdefghijk"], 4, 1), ["abcd", "defg", "ghij", "jk"]);
  assertEquals(await collect(["abcdefgh"], 4, 0), ["abcd", "efgh"]);
  assertEquals(await collect(["ab"], 4, 1), ["ab"]);
  assertEquals(
    await collect(["ab   ", "    "], 4, 0),
    ["ab  "],
    "whitespace-only windows are dropped",
  );
  assertEquals(await collect([], 4, 1), []);
});

test("chunkPieces: bad sizes are typed errors", async () => {
  await assertRejects(() => chunkPieces([], chars, 4, 4).next(), ContextError);
  await assertRejects(() => chunkPieces([], chars, 0, 0).next(), ContextError);
});
