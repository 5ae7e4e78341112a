import { assert, assertEquals } from "../../tests/assert.ts";
import { renderConversation } from "./render.ts";
import { templateCaps } from "./template_caps.ts";
import { parseToolCalls, type ToolCall, type ToolCallFamily } from "./tool_calls.ts";
import { formatToolCalls } from "./tool_call_text.ts";
import { test } from "../../tests/harness.ts";

const TOOLS = [{
  name: "get_weather",
  description: "Weather now",
  parameters: { type: "object", properties: { city: { type: "string" } } },
}];
const CALLS: ToolCall[] = [{ id: "abc123XYZ", name: "get_weather", arguments: { city: "Paris" } }];
const TURNS = [
  { role: "developer", content: "Be brief." },
  { role: "user", content: "Weather?" },
  { role: "assistant", content: "", toolCalls: CALLS },
  { role: "tool", content: '{"t":21}', toolCallId: "abc123XYZ" },
];

/** Renders tools, calls (object arguments) and tool messages natively. */
const NATIVE =
  "{% if tools %}T:{% for t in tools %}{{ t.function.name }};{% endfor %}\n{% endif %}" +
  "{% for m in messages %}{{ m.role }}:{{ m.content }}" +
  "{% for c in m.tool_calls or [] %}[{{ c.id }} {{ c.function.name }}{{ c.function.arguments | tojson }}]" +
  "{% endfor %}{% if m.name %}({{ m.name }}){% endif %}\n{% endfor %}" +
  "{% if add_generation_prompt %}assistant:{% endif %}";

/** Refuses a system message and knows nothing of tools. */
const PLAIN =
  "{% for m in messages %}{% if m.role == 'system' %}{{ raise_exception('no system') }}" +
  "{% endif %}<{{ m.role }}>{{ m.content }}\n{% endfor %}";

test("caps: found by rendering probes", () => {
  assertEquals(templateCaps(NATIVE), {
    systemRole: true,
    tools: true,
    toolCalls: true,
    objectArguments: true,
    parallelToolCalls: true,
    toolResponses: true,
  });
  const plain = templateCaps(PLAIN);
  assertEquals([plain.systemRole, plain.tools, plain.toolCalls], [false, false, false]);
  assertEquals(plain.toolResponses, true);
  const chatml = templateCaps(undefined);
  assertEquals([chatml.systemRole, chatml.tools, chatml.toolCalls], [true, false, false]);
});

test("render: native tools, calls and tool results (name looked up from the call id)", () => {
  const text = renderConversation(TURNS, {
    template: NATIVE,
    tools: TOOLS,
    addGenerationPrompt: true,
  });
  // Templates render with trim_blocks, as transformers does: a newline after a tag goes.
  assertEquals(
    text,
    "T:get_weather;system:Be brief.user:Weather?" +
      'assistant:[abc123XYZ get_weather{"city": "Paris"}]tool:{"t":21}(get_weather)assistant:',
  );
});

test("render: polyfills for a template without system role or tools", () => {
  const text = renderConversation(TURNS, { template: PLAIN, tools: TOOLS });
  const [first, ...rest] = text.split("\n<");
  assert(first.startsWith("<user>Be brief.\n\nYou can call these tools:"), first);
  assert(first.includes('"name": "get_weather"'), first);
  assert(first.endsWith("\nWeather?"), first);
  assertEquals(
    rest[0],
    'assistant>{"tool_calls":[{"name":"get_weather","arguments":{"city":"Paris"}}]}',
  );
  assertEquals(rest[1], 'tool>{"t":21}\n');
});

test("render: ChatML default describes tools in the system message", () => {
  const text = renderConversation(TURNS.slice(0, 2), { tools: TOOLS, addGenerationPrompt: true });
  assert(text.startsWith("<|im_start|>system\nBe brief.\n\nYou can call these tools:"), text);
  assert(text.endsWith("<|im_start|>user\nWeather?<|im_end|>\n<|im_start|>assistant\n"), text);
});

test("call text: each family's text parses back to the calls", () => {
  const two: ToolCall[] = [...CALLS, { id: "def456UVW", name: "now", arguments: {} }];
  for (const family of ["hermes", "llama3", "mistral", "generic"] as ToolCallFamily[]) {
    const parsed = parseToolCalls(formatToolCalls(two, family), family);
    const keepId = family === "mistral";
    assertEquals(
      parsed.toolCalls,
      two.map((c) => keepId ? c : { name: c.name, arguments: c.arguments }),
      family,
    );
    assertEquals(parsed.content, "", family);
  }
});
