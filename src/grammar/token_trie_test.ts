import { assert, assertEquals } from "../../tests/assert.ts";
import { type GrammarVocab, tokenTrie } from "./token_trie.ts";
import { test } from "../../tests/harness.ts";

const enc = new TextEncoder();
const TEXTS = ["", "ab", "a", "abc", "b", "ab", "", "ba"];
const vocab: GrammarVocab = {
  vocabSize: TEXTS.length,
  tokenBytes: (id) => enc.encode(TEXTS[id]),
  isEog: (id) => id === 6,
};

test("token trie: preorder nodes, subtree ends, every token at its node", () => {
  const t = tokenTrie(vocab);
  assert(tokenTrie(vocab) === t, "cached per vocabulary");
  assertEquals(t.eog[6], 1);
  // Rebuild each node's bytes from the path and check the tokens ending there.
  const path: number[] = [];
  const seen: number[] = [];
  for (let i = 1; i < t.size; i++) {
    path.length = t.depth[i] - 1;
    path.push(t.byte[i]);
    assert(t.end[i] > i && t.end[i] <= t.size);
    for (let k = t.tokStart[i]; k < t.tokEnd[i]; k++) {
      const id = t.tokens[k];
      assertEquals(new TextDecoder().decode(Uint8Array.from(path)), TEXTS[id]);
      seen.push(id);
    }
  }
  assertEquals(seen.sort(), [1, 2, 3, 4, 5, 7]); // not the empty token nor EOG
  assertEquals(t.size, 1 + 4 + 1); // a, ab, abc, b, ba + root: "a" "b" "c" "b" "a"
});
