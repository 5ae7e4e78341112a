/**
 * Tool calls written back as the text a model of each family produces (the inverse of
 * parseToolCalls in tool_calls.ts), for templates that cannot render `tool_calls` themselves,
 * and the instructions that describe tools to a model whose template does not render `tools`.
 *
 * @module
 */
import type { ToolCall, ToolCallFamily } from "./tool_calls.ts";
import type { ToolSpec } from "./tool_grammar.ts";

/** The calls as `family`'s output text; `parseToolCalls(text, family)` gives them back. */
export function formatToolCalls(calls: readonly ToolCall[], family: ToolCallFamily): string {
  switch (family) {
    case "hermes":
      return calls.map((c) =>
        `<tool_call>\n${JSON.stringify({ name: c.name, arguments: c.arguments })}\n</tool_call>`
      ).join("\n");
    case "llama3":
      return calls.map((c) => JSON.stringify({ name: c.name, parameters: c.arguments })).join(
        "; ",
      );
    case "mistral":
      return "[TOOL_CALLS]" + JSON.stringify(calls.map((c) => ({
        name: c.name,
        arguments: c.arguments,
        ...(c.id !== undefined ? { id: c.id } : {}),
      })));
    case "generic":
      return JSON.stringify({
        tool_calls: calls.map((c) => ({ name: c.name, arguments: c.arguments })),
      });
  }
}

const FORMAT: Record<ToolCallFamily, string> = {
  hermes: 'For each call, answer <tool_call>{"name": <function name>, "arguments": ' +
    "<arguments object>}</tool_call>.",
  llama3: 'To call a function, answer {"name": <function name>, "parameters": ' +
    "<arguments object>}.",
  mistral: 'To call functions, answer [TOOL_CALLS][{"name": <function name>, "arguments": ' +
    "<arguments object>}].",
  generic: 'Respond in JSON format, either with "tool_call" (a request to call a tool: ' +
    '{"tool_call": {"name": <function name>, "arguments": <arguments object>}}) or with ' +
    '"response" (your reply to the user: {"response": <text>}).',
};

/** The system text that describes `tools` to a model whose template does not render them. */
export function toolInstructions(tools: readonly ToolSpec[], family: ToolCallFamily): string {
  const list = tools.map((t) => ({
    type: "function",
    function: {
      name: t.name,
      ...(t.description !== undefined ? { description: t.description } : {}),
      parameters: t.parameters ?? { type: "object" },
    },
  }));
  return `You can call these tools:\n${JSON.stringify(list, null, 2)}\n\n${FORMAT[family]}`;
}
