/**
 * llama.cpp's own grammar tests as data (tests/fixtures/llamacpp_grammar_tests.json, made by
 * scripts/extract_grammar_tests.ts from test-grammar-integration.cpp and
 * test-grammar-parser.cpp): every grammar/schema with its passing and failing strings, the
 * parser's expected rule ids and elements, its expected failures, the left-recursion and
 * missing-rule cases of test-grammar-integration.cpp, and every grammars/*.gbnf of the tree.
 *
 * @module
 */
import { readdirSync, readFileSync } from "node:fs";
import { GrammarError, JsonSchemaError } from "../src/grammar/errors.ts";
import { createGrammar, type Grammar } from "../src/grammar/grammar.ts";
import { createGrammarForJsonSchema } from "../src/grammar/json_schema.ts";
import { parseGbnf } from "../src/grammar/parser.ts";
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { LLAMACPP_TREE, llamacppPath, NO_LLAMACPP_REASON } from "./llamacpp_tree.ts";
import { test } from "./harness.ts";
import { readFixture } from "./_fixture.ts";

type Input = string | (string | number)[];
interface Fixture {
  integration: {
    kind: "grammar" | "schema";
    description: string;
    text: string;
    passing: Input[];
    failing: Input[];
  }[];
  parser: {
    parsing: { grammar: string; symbols: [string, number][]; elements: [number, number][] }[];
    failures: string[];
  };
}

const fixture: Fixture = JSON.parse(
  readFixture("llamacpp_grammar_tests.json"),
);

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof GrammarError) return e.code;
    throw e;
  }
  return "no error";
}

/**
 * llama.cpp's match_string: each code point of text is fed as token 0 with that character as
 * its piece, and `token(N)` as token N with piece "<[N]>".
 */
function matches(g: Grammar, input: Input): boolean {
  const m = g.matcher();
  const enc = new TextEncoder();
  for (const part of typeof input === "string" ? [input] : input) {
    if (typeof part === "number") {
      if (!m.acceptToken(part, enc.encode(`<[${part}]>`))) return false;
      continue;
    }
    for (const ch of part) if (!m.acceptToken(0, enc.encode(ch))) return false;
  }
  return m.accepting;
}

test("llama.cpp integration cases: every passing string matches, every failing one does not", () => {
  let checked = 0, tokenCases = 0;
  for (const c of fixture.integration) {
    if ([...c.passing, ...c.failing].some((s) => typeof s !== "string")) tokenCases++;
    // Schemas convert with llama.cpp's semantics (strict: false); strict mode is checked below.
    const g: Grammar = c.kind === "grammar"
      ? createGrammar(c.text)
      : createGrammarForJsonSchema(JSON.parse(c.text), { strict: false });
    for (const s of c.passing) {
      assert(matches(g, s), `${c.description}: should match ${JSON.stringify(s)}`);
      checked++;
    }
    for (const s of c.failing) {
      assert(!matches(g, s), `${c.description}: should reject ${JSON.stringify(s)}`);
      checked++;
    }
  }
  assert(fixture.integration.length >= 40, "fixture has the llama.cpp cases");
  assertEquals(tokenCases, 2);
  assert(checked > 300, `checked ${checked} strings`);
});

test("strict JSON Schema conversion names each keyword llama.cpp would ignore", () => {
  const refused: string[] = [];
  for (const c of fixture.integration) {
    if (c.kind !== "schema") continue;
    try {
      createGrammarForJsonSchema(JSON.parse(c.text));
    } catch (e) {
      if (!(e instanceof JsonSchemaError) || e.code !== "SCHEMA_UNSUPPORTED") throw e;
      refused.push(`${c.description}: ${e.facts.keyword}`);
    }
  }
  assertEquals(refused, ["required props: exclusiveMinimum"]);
});

test("llama.cpp parser cases: same rule ids and elements", () => {
  for (const c of fixture.parser.parsing) {
    const g = parseGbnf(c.grammar);
    for (const [name, id] of c.symbols) assertEquals(g.names[id], name, c.grammar);
    assertEquals(g.names.length, c.symbols.length, c.grammar);
    const flat: [number, number][] = [];
    for (const r of g.rules) for (let k = 0; k < r.length; k += 2) flat.push([r[k], r[k + 1]]);
    assertEquals(flat, c.elements, c.grammar);
  }
  assert(fixture.parser.parsing.length >= 15);
});

test("llama.cpp parser failures are typed errors", () => {
  for (const g of fixture.parser.failures) {
    const c = code(() => createGrammar(g));
    assert(c === "GRAMMAR_SYNTAX" || c === "GRAMMAR_LIMIT", `${g}: ${c}`);
  }
});

test("left recursion, missing rules and missing roots (test-grammar-integration.cpp)", () => {
  for (
    const g of [
      `root ::= "a" | root "a"`,
      `root ::= asdf\nasdf ::= "a" | asdf "a"\n`,
      `root ::= asdf\nasdf ::= "a" | foo "b"\nfoo ::= "c" | asdf "d" | "e"`,
      `root ::= asdf\nasdf ::= "a" | foo "b"\nfoo ::= "c" | empty asdf "d" | "e"\nempty ::= "blah" | `,
    ]
  ) assertEquals(code(() => createGrammar(g)), "GRAMMAR_LEFT_RECURSION", g);
  assertEquals(
    code(() => createGrammar(`rot ::= expr\nexpr ::= term ("+" term)*\nterm ::= [0-9]+`)),
    "GRAMMAR_NO_ROOT",
  );
  assertEquals(
    code(() => createGrammar(`root ::= expr\nexpr ::= term ("+" term)*\nterm ::= numero`)),
    "GRAMMAR_UNDEFINED_RULE",
  );
  assertEquals(
    code(() => createGrammar(`root ::= "foobar"`, { root: "nonexistent" })),
    "GRAMMAR_NO_ROOT",
  );
  assert(createGrammar(`foobar ::= "foobar"`, { root: "foobar" }).matches("foobar"));
  assertThrows(
    () => createGrammar(`root ::= "a" @`),
    (e: unknown) =>
      e instanceof GrammarError && e.code === "GRAMMAR_SYNTAX" && e.facts.offset === 13,
  );
});

test("every grammars/*.gbnf of llama.cpp parses and matches a sample", () => {
  const dir = llamacppPath("grammars");
  const files = readdirSync(dir).filter((f) => f.endsWith(".gbnf"));
  assert(files.length >= 8);
  const grammars = new Map(
    files.map((f) => [f, createGrammar(readFileSync(`${dir}/${f}`, "utf8"))]),
  );
  const samples: [string, string][] = [
    ["json.gbnf", `{"a": [1, -2.5e3, true, null], "b": {"c": "d\\n"}}`],
    ["json_arr.gbnf", `[\n{"a": 1}\n]`],
    ["arithmetic.gbnf", "(1+2)*3= x\n"],
    ["list.gbnf", "- a\n- b\n"],
    ["chess.gbnf", "1. e4 e5\n2. Nf3 Nc6\n"],
  ];
  for (const [f, s] of samples) assert(grammars.get(f)!.matches(s), `${f} should match ${s}`);
  assert(!grammars.get("json.gbnf")!.matches(`{"a": }`));
}, { ignore: !LLAMACPP_TREE, reason: NO_LLAMACPP_REASON });
