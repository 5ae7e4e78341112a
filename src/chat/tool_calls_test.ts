import { assertEquals } from "../../tests/assert.ts";
import { detectToolCallFamily, parseToolCalls } from "./tool_calls.ts";
import { test } from "../../tests/harness.ts";

test("detect: the family from template text", () => {
  assertEquals(detectToolCallFamily("{{'<tool_call>'}}"), "hermes");
  assertEquals(detectToolCallFamily("[TOOL_CALLS] ..."), "mistral");
  assertEquals(detectToolCallFamily("<|start_header_id|>ipython<|end_header_id|>"), "llama3");
  assertEquals(detectToolCallFamily("<|start_header_id|>user"), "generic");
  assertEquals(detectToolCallFamily(undefined), "generic");
});

test("hermes: several blocks, content kept, malformed block stays content", () => {
  const r = parseToolCalls(
    'Sure.\n<tool_call>\n{"name": "get", "arguments": {"city": "Paris"}}\n</tool_call>\n' +
      '<tool_call>{"name": "put", "arguments": "{\\"x\\": 1}"}</tool_call>',
    "hermes",
  );
  assertEquals(r, {
    content: "Sure.",
    toolCalls: [{ name: "get", arguments: { city: "Paris" } }, {
      name: "put",
      arguments: { x: 1 },
    }],
  });
  const bad = '<tool_call>{"name": "get", "arguments": {</tool_call>';
  assertEquals(parseToolCalls(bad, "hermes"), { content: bad, toolCalls: [] });
  assertEquals(parseToolCalls("no calls", "hermes"), { content: "no calls", toolCalls: [] });
});

test("llama3: JSON with parameters, ';'-separated, python_tag builtins", () => {
  assertEquals(
    parseToolCalls(
      '{"name": "f", "parameters": {"a": 1}}; {"name": "g", "parameters": {}}',
      "llama3",
    ),
    {
      content: "",
      toolCalls: [{ name: "f", arguments: { a: 1 } }, { name: "g", arguments: {} }],
    },
  );
  assertEquals(
    parseToolCalls('<|python_tag|>brave_search.call(query="a \\"b\\"", n=3)', "llama3"),
    {
      content: "",
      toolCalls: [{ name: "brave_search", arguments: { query: 'a "b"', n: 3 } }],
    },
  );
  assertEquals(parseToolCalls("Hello {there}", "llama3"), {
    content: "Hello {there}",
    toolCalls: [],
  });
});

test("mistral: JSON array with ids, and name[ARGS]{...}", () => {
  assertEquals(
    parseToolCalls(
      '[TOOL_CALLS][{"name": "f", "arguments": {"a": [1]}, "id": "abc123def"}]',
      "mistral",
    ),
    {
      content: "",
      toolCalls: [{ name: "f", arguments: { a: [1] }, id: "abc123def" }],
    },
  );
  assertEquals(parseToolCalls('[TOOL_CALLS]f[ARGS]{"a": 1}[TOOL_CALLS]g[ARGS]{}', "mistral"), {
    content: "",
    toolCalls: [{ name: "f", arguments: { a: 1 } }, { name: "g", arguments: {} }],
  });
});

test("generic: tool_call, tool_calls, response", () => {
  assertEquals(
    parseToolCalls('{"tool_call": {"name": "f", "arguments": {}}}', "generic").toolCalls,
    [
      { name: "f", arguments: {} },
    ],
  );
  assertEquals(
    parseToolCalls(
      '{"tool_calls": [{"name": "f", "arguments": {}}, {"name": "g", "arguments": {"x": 2}}]}',
      "generic",
    ).toolCalls.length,
    2,
  );
  assertEquals(parseToolCalls('{"response": "hi"}', "generic"), { content: "hi", toolCalls: [] });
  assertEquals(parseToolCalls("plain text", "generic"), { content: "plain text", toolCalls: [] });
});
