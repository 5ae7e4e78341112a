/**
 * Turns llama.cpp's chat-template tests into data: the conversation and every `TestCase` of
 * tests/test-chat-template.cpp (name, template, the expected output of llama.cpp's built-in
 * formatter and of its Jinja path, bos/eos tokens, whether the Jinja path runs it, extra
 * messages), read with the C++ literal reader of _cpp_tokens.ts so the fixture is exactly the
 * C++ test data.
 *
 * Usage: deno run -A scripts/extract_chat_template_tests.ts [LLAMA_CPP_TREE]
 * (default tree: ~/.cache/rocmforge-ref/llama.cpp); writes
 * tests/fixtures/chat_template_llamacpp.json.
 *
 * @module
 */
import { readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import process from "node:process";
import { CppReader, tokenize } from "./_cpp_tokens.ts";

/** A C++ brace initializer: strings, identifiers (true/false) and nested lists. */
type Value = string | boolean | Value[];

class Reader extends CppReader {
  value(): Value {
    const t = this.peek();
    if (t?.k === "str") return this.string();
    if (t?.k === "id" && t.v === "U8C") { // the test's u8-literal macro
      this.i++;
      this.punct("(");
      const s = this.string();
      this.punct(")");
      return s;
    }
    if (t?.k === "id" && (t.v === "true" || t.v === "false")) {
      this.i++;
      return t.v === "true";
    }
    this.punct("{");
    const out: Value[] = [];
    while (!(this.peek()?.k === "p" && (this.peek() as { v: string }).v === "}")) {
      out.push(this.value());
      const n = this.peek();
      if (n?.k === "p" && n.v === ",") this.i++;
    }
    this.punct("}");
    return out;
  }
}

/** The list initialized after `marker` (e.g. `conversation`). */
function listAfter(src: string, marker: string): Value[] {
  const toks = tokenize(src.slice(src.indexOf(marker) + marker.length));
  const v = new Reader(toks).value();
  if (!Array.isArray(v)) throw new Error(`no list after ${marker}`);
  return v;
}

/** One chat-template test case (test-chat-template.cpp's TestCase). */
export interface ChatTemplateCase {
  name: string;
  template: string;
  /** llama_chat_apply_template's output (llama.cpp's built-in formatter). */
  expected: string;
  /** The Jinja path's output (common_chat_templates_apply); "" means the same as expected. */
  expectedJinja: string;
  bos: string;
  eos: string;
  supportedWithJinja: boolean;
  /** Messages appended to the conversation, [role, content]. */
  extra: [string, string][];
}

const pairs = (v: Value | undefined) => ((v ?? []) as string[][]).map(([r, c]) => [r, c]);

const tree = process.argv[2] ?? `${homedir()}/.cache/rocmforge-ref/llama.cpp`;
const src = readFileSync(`${tree}/tests/test-chat-template.cpp`, "utf8");
const main = src.slice(src.indexOf("int main_automated_tests(void)"));
const conversation = pairs(listAfter(main, "std::vector<llama_chat_message> conversation"));
const cases: ChatTemplateCase[] = listAfter(main, "std::vector<TestCase> test_cases").map((v) => {
  const f = v as Value[];
  return {
    name: f[0] as string,
    template: f[1] as string,
    expected: f[2] as string,
    expectedJinja: (f[3] as string | undefined) ?? "",
    bos: (f[4] as string | undefined) ?? "",
    eos: (f[5] as string | undefined) ?? "",
    supportedWithJinja: (f[6] as boolean | undefined) ?? true,
    extra: pairs(f[7]) as [string, string][],
  };
});
const out = new URL("../tests/fixtures/chat_template_llamacpp.json", import.meta.url);
writeFileSync(out, JSON.stringify({ conversation, cases }, null, 2) + "\n");
console.log(`${conversation.length} messages, ${cases.length} cases -> ${out.pathname}`);
