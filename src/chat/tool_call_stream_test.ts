import { assertEquals } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import type { ToolCallFamily } from "./tool_calls.ts";
import { ToolCallStream, toOpenAIToolCalls } from "./tool_call_stream.ts";

/** Feeds `text` in pieces of `n` characters; returns released content and the end. */
function run(family: ToolCallFamily, text: string, n: number) {
  const s = new ToolCallStream(family);
  let shown = "";
  for (let i = 0; i < text.length; i += n) shown += s.push(text.slice(i, i + n));
  const end = s.finish();
  return { shown, ...end };
}

test("stream: content is released at once, a call marker is held and parsed at the end", () => {
  const text = 'Let me check.<tool_call>{"name": "f", "arguments": {"a": 1}}</tool_call>';
  for (const n of [1, 3, 7, 100]) {
    const r = run("hermes", text, n);
    assertEquals(r.shown, "Let me check.", `pieces of ${n}`);
    assertEquals(r.toolCalls, [{ name: "f", arguments: { a: 1 } }]);
    assertEquals(r.rest, "");
  }
});

test("stream: a held marker prefix that is not a call comes back in rest", () => {
  for (const n of [1, 2, 50]) {
    const r = run("hermes", "a <tool_ca", n);
    assertEquals(r.shown + r.rest, "a <tool_ca", `pieces of ${n}`);
    assertEquals(r.toolCalls, []);
  }
  assertEquals(run("mistral", "plain [TOOL", 1).shown, "plain ");
});

test("stream: Llama 3 bare JSON and generic JSON calls are held whole", () => {
  const l = run("llama3", ' {"name": "f", "parameters": {}}', 2);
  assertEquals([l.shown, l.toolCalls.length], ["", 1]);
  assertEquals(run("llama3", "Hi there", 2).shown, "Hi there");
  const g = run("generic", '{"response": "hello"}', 100);
  assertEquals([g.shown, g.rest, g.toolCalls.length], ["hello", "", 0]);
  const c = run("generic", '{"tool_call": {"name": "f", "arguments": {"x": 2}}}', 5);
  assertEquals([c.shown, c.toolCalls.length], ["", 1]);
  assertEquals(run("generic", "just text", 3).shown, "just text");
});

test("OpenAI shape: arguments as a JSON string, ids kept or made", () => {
  assertEquals(
    toOpenAIToolCalls(
      [{ name: "f", arguments: { a: 1 } }, { name: "g", arguments: {}, id: "m1" }],
      "x",
    ),
    [
      { id: "call_x_0", type: "function", function: { name: "f", arguments: '{"a":1}' } },
      { id: "m1", type: "function", function: { name: "g", arguments: "{}" } },
    ],
  );
});

test('stream: a generic {"response"} answer\'s text is released as it arrives', () => {
  const text = '{ "response" : "caf\\u00e9 \\"ok\\"\\n\\ud83d\\ude00!" }';
  const want = 'caf\u00e9 "ok"\n\u{1F600}!';
  for (const n of [1, 2, 5, 100]) {
    const s = new ToolCallStream("generic");
    const pieces: string[] = [];
    for (let i = 0; i < text.length; i += n) pieces.push(s.push(text.slice(i, i + n)));
    const end = s.finish();
    assertEquals(pieces.join("") + end.rest, want, `pieces of ${n}`);
    assertEquals(end.toolCalls, []);
    if (n === 1) assertEquals(pieces.filter((p) => p !== "").length > 5, true);
  }
  // Cut short (the answer hit its token limit): what was decodable, no raw JSON.
  const cut = run("generic", '{"response": "half a sent\\u00', 3);
  assertEquals(cut.shown + cut.rest, "half a sent");
});

test("stream: calls' names and arguments text come out as they are written", () => {
  const cases: [ToolCallFamily, string, [string, string][]][] = [
    [
      "hermes",
      'Ok.<tool_call>\n{"name": "f", "arguments": {"a": [1, "}"]}}\n</tool_call>\n' +
      '<tool_call>\n{"name": "g", "arguments": {}}\n</tool_call>',
      [["f", '{"a": [1, "}"]}'], ["g", "{}"]],
    ],
    ["llama3", '{"name": "f", "parameters": { "x" : "y\\"z" }}', [["f", '{ "x" : "y\\"z" }']]],
    [
      "mistral",
      '[TOOL_CALLS][{"name": "f", "arguments": {"b": true}}, {"name": "h", "arguments": {}}]',
      [
        ["f", '{"b": true}'],
        ["h", "{}"],
      ],
    ],
    ["generic", '{"tool_calls": [{"name": "f", "arguments": {"n": 2}}]}', [["f", '{"n": 2}']]],
  ];
  for (const [family, text, want] of cases) {
    for (const n of [1, 4, 1000]) {
      const s = new ToolCallStream(family);
      const calls: [string, string][] = [];
      for (let i = 0; i < text.length; i += n) {
        s.push(text.slice(i, i + n));
        for (const d of s.callDeltas()) {
          if (d.name !== undefined) calls[d.index] = [d.name, ""];
          calls[d.index][1] += d.arguments;
        }
      }
      assertEquals(calls, want, `${family}, pieces of ${n}`);
      assertEquals(s.callsStarted, want.length);
      assertEquals(s.finish().toolCalls.length, want.length);
    }
  }
  // A plain answer has no call deltas.
  const plain = new ToolCallStream("hermes");
  plain.push('He said "name": "x", "arguments": {}');
  assertEquals(plain.callDeltas(), []);
});
