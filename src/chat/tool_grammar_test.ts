import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { JsonSchemaError } from "../grammar/errors.ts";
import { parseToolCalls, type ToolCallFamily } from "./tool_calls.ts";
import { toolCallGrammar, type ToolSpec } from "./tool_grammar.ts";
import { test } from "../../tests/harness.ts";

const TOOLS: ToolSpec[] = [
  {
    name: "get_weather",
    parameters: {
      type: "object",
      properties: { city: { type: "string" }, unit: { enum: ["c", "f"] } },
      required: ["city"],
      additionalProperties: false,
    },
  },
  { name: "now" },
];

const SAMPLES: Record<ToolCallFamily, [string, string]> = {
  hermes: [
    '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo", "unit": "c"}}\n</tool_call>',
    '<tool_call>\n{"name": "get_weather", "arguments": {"unit": "c"}}\n</tool_call>',
  ],
  llama3: [
    '<|python_tag|>{"name": "now", "parameters": {}}',
    '{"name": "now", "arguments": {}}',
  ],
  mistral: [
    '[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Rome"}}]',
    '[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": 3}}]',
  ],
  generic: [
    '{"tool_call": {"name": "now", "arguments": {}}}',
    '{"tool_call": {"name": "later", "arguments": {}}}',
  ],
};

test("tool grammar: accepts well-formed calls of each family and rejects bad arguments", () => {
  for (
    const [family, [good, bad]] of Object.entries(SAMPLES) as [ToolCallFamily, [string, string]][]
  ) {
    const tg = toolCallGrammar(TOOLS, family, { choice: "required" })!;
    assertEquals(tg.triggerWords, []);
    assert(tg.grammar.matches(good), `${family}: ${good}\n${tg.gbnf}`);
    assert(!tg.grammar.matches(bad), `${family}: ${bad}`);
    assertEquals(parseToolCalls(good, family).toolCalls.length, 1, family);
  }
});

test("tool grammar: auto is lazy with the family trigger; generic auto allows a response", () => {
  assertEquals(toolCallGrammar(TOOLS, "hermes")!.triggerWords, ["<tool_call>"]);
  assertEquals(toolCallGrammar(TOOLS, "mistral")!.triggerWords, ["[TOOL_CALLS]"]);
  const g = toolCallGrammar(TOOLS, "generic")!;
  assert(g.grammar.matches('{"response": "hello"}'));
  assertEquals(toolCallGrammar(TOOLS, "hermes", { choice: "none" }), undefined);
});

test("tool grammar: parallel calls, named choice, errors", () => {
  const two =
    '<tool_call>\n{"name": "now", "arguments": {}}\n</tool_call>\n<tool_call>\n{"name": "now", "arguments": {}}\n</tool_call>';
  assert(
    toolCallGrammar(TOOLS, "hermes", { choice: "required", parallel: true })!.grammar.matches(two),
  );
  assert(!toolCallGrammar(TOOLS, "hermes", { choice: "required" })!.grammar.matches(two));
  const named = toolCallGrammar(TOOLS, "llama3", { choice: { name: "now" } })!;
  assert(named.grammar.matches('{"name": "now", "parameters": {}}'));
  assert(!named.grammar.matches('{"name": "get_weather", "parameters": {"city": "x"}}'));
  assertThrows(
    () => toolCallGrammar(TOOLS, "hermes", { choice: { name: "nope" } }),
    JsonSchemaError,
  );
  assertThrows(() => toolCallGrammar([], "hermes", { choice: "required" }), JsonSchemaError);
  assertThrows(
    () => toolCallGrammar([{ name: "x", parameters: { type: "number", minimum: 2 } }], "hermes"),
    (e: unknown) => e instanceof JsonSchemaError && e.facts.keyword === "minimum",
  );
});
