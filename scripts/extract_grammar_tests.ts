/**
 * Turns llama.cpp's grammar tests into data: every `test_grammar(...)` / `test_schema(...)`
 * call of tests/test-grammar-integration.cpp (description, grammar or schema text, passing
 * and failing strings) and every `verify_parsing(...)` / `verify_failure(...)` call of
 * tests/test-grammar-parser.cpp (grammar, symbol ids, flat rule elements). The C++ source is
 * read with a small tokenizer (string, raw-string and char literals, braces, comments), so the
 * fixture is exactly the C++ test vectors.
 *
 * Usage: deno run -A scripts/extract_grammar_tests.ts [LLAMA_CPP_TREE]
 * (default tree: ~/.cache/rocmforge-ref/llama.cpp); writes tests/fixtures/llamacpp_grammar_tests.json.
 *
 * @module
 */
import { readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import process from "node:process";
import { CppReader, tokenize } from "./_cpp_tokens.ts";

class Reader extends CppReader {
  /**
   * A test input: string literals joined by `+`, where `token(N)` (the test's encoding of a
   * whole token) appears as the number N. Plain text stays a string; a mix becomes an array.
   */
  input(): string | (string | number)[] {
    const parts: (string | number)[] = [];
    for (;;) {
      const t = this.peek();
      if (t?.k === "id" && t.v === "token") {
        this.i++;
        this.punct("(");
        parts.push((this.t[this.i++] as { v: number }).v);
        this.punct(")");
      } else {
        parts.push(this.string());
      }
      const n = this.peek();
      if (n?.k === "p" && n.v === "+") this.i++;
      else break;
    }
    return parts.length === 1 && typeof parts[0] === "string" ? parts[0] : parts;
  }
  /** `{ "a", "b", }` */
  stringList(): (string | (string | number)[])[] {
    this.punct("{");
    const out: (string | (string | number)[])[] = [];
    while (!(this.peek()?.k === "p" && (this.peek() as { v: string }).v === "}")) {
      out.push(this.input());
      if ((this.peek() as { v: string }).v === ",") this.i++;
    }
    this.punct("}");
    return out;
  }
}

interface IntegrationCase {
  kind: "grammar" | "schema";
  description: string;
  text: string;
  /** Inputs: text, or text mixed with whole-token ids (numbers). */
  passing: (string | (string | number)[])[];
  failing: (string | (string | number)[])[];
}

function integration(src: string): IntegrationCase[] {
  const toks = tokenize(src);
  const cases: IntegrationCase[] = [];
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (t.k !== "id" || (t.v !== "test_grammar" && t.v !== "test_schema")) continue;
    const next = toks[i + 2];
    if (next?.k === "id" && next.v === "const") continue; // the definitions
    const r = new Reader(toks);
    r.i = i + 1;
    r.punct("(");
    const description = r.string();
    r.comma();
    const text = r.string();
    r.comma();
    const passing = r.stringList();
    r.comma();
    const failing = r.stringList();
    r.punct(")");
    cases.push({
      kind: t.v === "test_grammar" ? "grammar" : "schema",
      description,
      text,
      passing,
      failing,
    });
    i = r.i;
  }
  return cases;
}

const TYPES: Record<string, number> = {
  LLAMA_GRETYPE_END: 0,
  LLAMA_GRETYPE_ALT: 1,
  LLAMA_GRETYPE_RULE_REF: 2,
  LLAMA_GRETYPE_CHAR: 3,
  LLAMA_GRETYPE_CHAR_NOT: 4,
  LLAMA_GRETYPE_CHAR_RNG_UPPER: 5,
  LLAMA_GRETYPE_CHAR_ALT: 6,
  LLAMA_GRETYPE_CHAR_ANY: 7,
  LLAMA_GRETYPE_TOKEN: 8,
  LLAMA_GRETYPE_TOKEN_NOT: 9,
};

function parserCases(src: string) {
  const toks = tokenize(src);
  const parsing: { grammar: string; symbols: [string, number][]; elements: [number, number][] }[] =
    [];
  const failures: string[] = [];
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (t.k !== "id" || (t.v !== "verify_parsing" && t.v !== "verify_failure")) continue;
    if (toks[i + 2]?.k === "id") continue; // the definitions
    const r = new Reader(toks);
    r.i = i + 1;
    r.punct("(");
    const grammar = r.string();
    if (t.v === "verify_failure") {
      failures.push(grammar);
      r.punct(")");
      i = r.i;
      continue;
    }
    r.comma();
    const symbols: [string, number][] = [];
    r.punct("{");
    while ((r.peek() as { v: unknown }).v !== "}") {
      r.punct("{");
      const name = r.string();
      r.comma();
      const id = (r.t[r.i++] as { v: number }).v;
      r.punct("}");
      if ((r.peek() as { v: unknown }).v === ",") r.i++;
      symbols.push([name, id]);
    }
    r.punct("}");
    r.comma();
    const elements: [number, number][] = [];
    r.punct("{");
    while ((r.peek() as { v: unknown }).v !== "}") {
      r.punct("{");
      const type = TYPES[(r.t[r.i++] as { v: string }).v];
      r.comma();
      const v = r.t[r.i++] as { v: number };
      r.punct("}");
      if ((r.peek() as { v: unknown }).v === ",") r.i++;
      if (type === undefined) throw new Error(`unknown element type near token ${r.i}`);
      elements.push([type, v.v]);
    }
    r.punct("}");
    r.punct(")");
    parsing.push({ grammar, symbols, elements });
    i = r.i;
  }
  return { parsing, failures };
}

/** `test({ SUCCESS|FAILURE, name, schema, grammar })` and `run({...})` of test-json-schema-to-grammar.cpp. */
function schemaCases(src: string) {
  const toks = tokenize(src);
  const out: { status: "SUCCESS" | "FAILURE"; name: string; schema: string; grammar: string }[] =
    [];
  for (let i = 0; i < toks.length - 3; i++) {
    const t = toks[i], a = toks[i + 1], b = toks[i + 2], st = toks[i + 3];
    if (t.k !== "id" || (t.v !== "test" && t.v !== "run")) continue;
    if (a.k !== "p" || a.v !== "(" || b.k !== "p" || b.v !== "{") continue;
    if (st.k !== "id" || (st.v !== "SUCCESS" && st.v !== "FAILURE")) continue;
    const r = new Reader(toks);
    r.i = i + 4;
    r.comma();
    const name = r.string();
    r.comma();
    const schema = r.string();
    r.comma();
    const grammar = r.string();
    if ((r.peek() as { v: unknown }).v === ",") r.i++;
    r.punct("}");
    r.punct(")");
    out.push({ status: st.v, name, schema, grammar });
    i = r.i;
  }
  return out;
}

const tree = process.argv[2] ?? `${homedir()}/.cache/rocmforge-ref/llama.cpp`;
const read = (p: string) => readFileSync(`${tree}/${p}`, "utf8");
const fixture = {
  source: "llama.cpp tests/test-grammar-integration.cpp and tests/test-grammar-parser.cpp",
  command: "deno run -A scripts/extract_grammar_tests.ts [LLAMA_CPP_TREE]",
  integration: integration(read("tests/test-grammar-integration.cpp")),
  parser: parserCases(read("tests/test-grammar-parser.cpp")),
  /** test-json-schema-to-grammar.cpp: expected status and exact grammar text. */
  jsonSchema: schemaCases(read("tests/test-json-schema-to-grammar.cpp")),
};
const out = new URL("../tests/fixtures/llamacpp_grammar_tests.json", import.meta.url);
writeFileSync(out, JSON.stringify(fixture, null, 2) + "\n");
console.log(
  `${fixture.integration.length} integration cases, ${fixture.parser.parsing.length} parser cases, ` +
    `${fixture.parser.failures.length} parser failures, ${fixture.jsonSchema.length} schema cases -> ${out.pathname}`,
);
