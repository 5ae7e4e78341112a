import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { GrammarError } from "./errors.ts";
import { ALT, CHAR, CHAR_ALT, CHAR_ANY, CHAR_NOT, CHAR_RNG_UPPER, END, RULE_REF } from "./ir.ts";
import { parseGbnf } from "./parser.ts";
import { test } from "../../tests/harness.ts";

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof GrammarError) return `${e.code}@${e.facts.offset ?? "-"}`;
    throw e;
  }
  return "ok";
}

test("parser: literals with escapes, classes, negation, any, comments", () => {
  const g = parseGbnf(`# c\nroot ::= "a\\n\\x41\\u00e9" [^x-z\\]] . # tail\n`);
  assertEquals(g.names, ["root"]);
  assertEquals(g.rules[0], [
    CHAR,
    97,
    CHAR,
    10,
    CHAR,
    0x41,
    CHAR,
    0xe9,
    CHAR_NOT,
    120,
    CHAR_RNG_UPPER,
    122,
    CHAR_ALT,
    93,
    CHAR_ANY,
    0,
    END,
    0,
  ]);
});

test("parser: groups and repetition become generated rules like llama.cpp", () => {
  const g = parseGbnf(`root ::= ("a" | "b")+ "c"?`);
  assertEquals(g.names, ["root", "root_1", "root_2", "root_3"]);
  assertEquals(g.rules[1], [CHAR, 97, ALT, 0, CHAR, 98, END, 0]);
  assertEquals(g.rules[0], [RULE_REF, 1, RULE_REF, 2, RULE_REF, 3, END, 0]);
  assertEquals(g.rules[2], [RULE_REF, 1, RULE_REF, 2, ALT, 0, END, 0]);
  assertEquals(g.rules[3], [CHAR, 99, ALT, 0, END, 0]);
});

test("parser: non-ASCII literals are code points (astral too)", () => {
  assertEquals(parseGbnf(`root ::= "日😀"`).rules[0], [CHAR, 0x65e5, CHAR, 0x1f600, END, 0]);
});

test("parser: errors carry the code and the offset", () => {
  assertEquals(code(() => parseGbnf(`root ::= "a`)), "GRAMMAR_SYNTAX@11");
  assertEquals(code(() => parseGbnf(`root ::= [a`)), "GRAMMAR_SYNTAX@11");
  assertEquals(code(() => parseGbnf(`root ::= "\\q"`)), "GRAMMAR_SYNTAX@10");
  assertEquals(code(() => parseGbnf(`root = "a"`)), "GRAMMAR_SYNTAX@5");
  assertEquals(code(() => parseGbnf(`root ::= ("a"`)), "GRAMMAR_SYNTAX@13");
  assertEquals(code(() => parseGbnf(`root ::= *`)), "GRAMMAR_SYNTAX@10");
  assertEquals(code(() => parseGbnf(`root ::= "a"{3,1}`)), "GRAMMAR_SYNTAX@17");
  assertEquals(code(() => parseGbnf(`root ::= "a"{5000}`)), "GRAMMAR_LIMIT@18");
  assertEquals(code(() => parseGbnf(`root ::= x`)), "GRAMMAR_UNDEFINED_RULE@-");
  assertEquals(code(() => parseGbnf(`root ::= <think>`)), "GRAMMAR_UNSUPPORTED@9");
  assertThrows(() => parseGbnf(42 as unknown as string), GrammarError);
});
