import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { GrammarError } from "./errors.ts";
import { createGrammar } from "./grammar.ts";
import { prefixRules, unionGbnf } from "./compose.ts";
import { test } from "../../tests/harness.ts";

const G = `# a comment with root and item words
root ::= item ("," item){0,3} <[7]>?
item ::= "root \\" item" | [a-z\\]-] | thing-2
thing-2 ::= [^"\\n]+`;

test("compose: prefixRules renames rules only (literals, classes, counts, tokens, comments kept)", () => {
  assertEquals(
    prefixRules(G, "p-"),
    `# a comment with root and item words
p-root ::= p-item ("," p-item){0,3} <[7]>?
p-item ::= "root \\" item" | [a-z\\]-] | p-thing-2
p-thing-2 ::= [^"\\n]+`,
  );
  assertThrows(() => prefixRules("root ::= (", "p-"), GrammarError);
});

test("compose: a union matches what either grammar matches, nothing else", () => {
  const a = `root ::= "<call>" word "</call>"\nword ::= [a-z]+`;
  const b = `root ::= "{" word "}"\nword ::= [0-9]+`;
  const u = createGrammar(unionGbnf([a, b]));
  assert(u.matches("<call>abc</call>"));
  assert(u.matches("{42}"));
  assert(!u.matches("{abc}"), "each alternative keeps its own rules");
  assert(!u.matches("<call>42</call>"));
});
