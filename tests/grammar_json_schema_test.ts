/**
 * llama.cpp's test-json-schema-to-grammar.cpp as data (tests/fixtures/llamacpp_grammar_tests.json,
 * `jsonSchema`, made by scripts/extract_grammar_tests.ts): with llama.cpp's semantics
 * (strict: false) every SUCCESS case produces the same grammar text and every FAILURE case is
 * a JsonSchemaError; in strict mode every case either converts identically or names the
 * keyword it refuses.
 *
 * @module
 */
import { JsonSchemaError } from "../src/grammar/errors.ts";
import { createGrammar } from "../src/grammar/grammar.ts";
import { jsonSchemaToGbnf } from "../src/grammar/json_schema.ts";
import { assert, assertEquals } from "./assert.ts";
import { test } from "./harness.ts";
import { readFixture } from "./_fixture.ts";

interface Case {
  status: "SUCCESS" | "FAILURE";
  name: string;
  schema: string;
  grammar: string;
}
const cases: Case[] = JSON.parse(
  readFixture("llamacpp_grammar_tests.json"),
).jsonSchema;

/** The C++ test's trim(): outer whitespace, and leading blanks of every line. */
function trim(s: string): string {
  return s.trim().replace(/(^|\n)[ \t]+/g, "$1");
}

test("llama.cpp schema cases: same grammar text, same failures", () => {
  assert(cases.length >= 70, `only ${cases.length} cases`);
  for (const c of cases) {
    let out: string | JsonSchemaError;
    try {
      out = jsonSchemaToGbnf(JSON.parse(c.schema), { strict: false });
    } catch (e) {
      if (!(e instanceof JsonSchemaError) && !(e instanceof SyntaxError)) throw e;
      out = e as JsonSchemaError;
    }
    if (c.status === "FAILURE") {
      assert(typeof out !== "string", `${c.name}: should fail, got\n${out}`);
      continue;
    }
    assert(typeof out === "string", `${c.name}: ${(out as Error).message}`);
    assertEquals(trim(out), trim(c.grammar), c.name);
    createGrammar(out); // and it compiles
  }
});

test("strict mode converts the same or names the refused keyword", () => {
  const refused: string[] = [];
  for (const c of cases.filter((c) => c.status === "SUCCESS")) {
    try {
      assertEquals(trim(jsonSchemaToGbnf(JSON.parse(c.schema))), trim(c.grammar), c.name);
    } catch (e) {
      if (!(e instanceof JsonSchemaError)) throw e;
      assertEquals(e.code, "SCHEMA_UNSUPPORTED", c.name);
      assert(typeof e.facts.keyword === "string");
      refused.push(`${c.name}: ${e.facts.keyword}`);
    }
  }
  // What llama.cpp drops silently: an ignored prefixItems, patterns it degrades to any string.
  assertEquals(refused, [
    "array with empty items and prefixItems: prefixItems",
    "unanchored regexp: pattern",
    "regexp with unsupported shorthand: pattern",
    "unsupported regexp in a property: pattern",
  ]);
});
