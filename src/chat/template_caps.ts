/**
 * What a chat template can render, found by rendering probe conversations and looking for
 * marker strings in the output (as llama.cpp's common/jinja/caps.cpp does with usage
 * statistics): a system role, a `tools` list, assistant `tool_calls` (with object or JSON
 * string arguments, one or several), and `tool` messages. A probe that throws counts as "no".
 * {@link renderConversation} (render.ts) fills in what a template lacks.
 *
 * @module
 */
import {
  type ChatMessage,
  ChatTemplateError,
  renderChat,
  type RenderChatOptions,
} from "../tokenizers/chat_template.ts";

/** A chat template's capabilities. */
export interface TemplateCaps {
  /** A system message's content reaches the prompt. */
  systemRole: boolean;
  /** The `tools` list reaches the prompt (the template describes tools itself). */
  tools: boolean;
  /** Assistant `tool_calls` reach the prompt. */
  toolCalls: boolean;
  /** Calls' `arguments` are rendered from an object (else from a JSON string). */
  objectArguments: boolean;
  /** Two calls in one assistant message both reach the prompt. */
  parallelToolCalls: boolean;
  /** `tool` messages' content reaches the prompt. */
  toolResponses: boolean;
}

const MARK = "rfprobe";
const PROBE_TOOLS = [{
  type: "function",
  function: {
    name: `${MARK}_tool`,
    description: "Tool description",
    parameters: {
      type: "object",
      properties: { arg: { type: "string", description: "Arg description" } },
      required: ["arg"],
    },
  },
}];

/**
 * renderChat, and for a template written only for tool use (it loops over `tools` with no
 * guard, as Hermes' and Command R's tool_use templates do) a second try with `tools: []`
 * when no tools were given: templates that test `tools is not none` render unchanged.
 */
export function renderTemplate(messages: ChatMessage[], opts: RenderChatOptions): string {
  try {
    return renderChat(messages, opts);
  } catch (e) {
    if (!(e instanceof ChatTemplateError) || opts.tools || !opts.template) throw e;
    try {
      return renderChat(messages, { ...opts, tools: [] });
    } catch {
      throw e;
    }
  }
}

function tryRender(
  template: string | undefined,
  messages: ChatMessage[],
  tools?: readonly unknown[],
): string {
  try {
    return renderTemplate(messages, { template, tools, addGenerationPrompt: false });
  } catch {
    return "";
  }
}

function callConversation(names: string[], objectArgs: boolean): ChatMessage[] {
  const args = { arg: `${MARK}_value` };
  return [
    { role: "user", content: "User message" },
    {
      role: "assistant",
      content: "",
      tool_calls: names.map((name, i) => ({
        id: `call0000${i + 1}`,
        type: "function" as const,
        function: { name, arguments: objectArgs ? args : JSON.stringify(args) },
      })),
    },
    { role: "tool", content: `${MARK}_response`, tool_call_id: "call00001" },
    { role: "assistant", content: "The tool response was 'tool response'" },
    { role: "user", content: "User message" },
  ];
}

const cache = new Map<string, TemplateCaps>();

/** The capabilities of `template` (undefined: the ChatML default), computed once per text. */
export function templateCaps(template: string | undefined): TemplateCaps {
  const key = template ?? "";
  const hit = cache.get(key);
  if (hit) return hit;
  const system = tryRender(template, [
    { role: "system", content: `${MARK}_system` },
    { role: "user", content: "User message" },
  ]);
  const one = `${MARK}_call`;
  let objectArguments = true;
  let out = tryRender(template, callConversation([one], true), PROBE_TOOLS);
  if (!out.includes(`${MARK}_value`)) {
    const asString = tryRender(template, callConversation([one], false), PROBE_TOOLS);
    if (asString.includes(`${MARK}_value`) || (!out.includes(one) && asString.includes(one))) {
      objectArguments = false;
      out = asString;
    }
  }
  const two = [`${MARK}_first`, `${MARK}_second`];
  const parallel = tryRender(template, callConversation(two, objectArguments), PROBE_TOOLS);
  const caps: TemplateCaps = {
    systemRole: system.includes(`${MARK}_system`),
    tools: out.includes(`${MARK}_tool`) ||
      tryRender(template, [{ role: "user", content: "User message" }], PROBE_TOOLS)
        .includes(`${MARK}_tool`),
    toolCalls: out.includes(one),
    objectArguments,
    parallelToolCalls: two.every((n) => parallel.includes(n)),
    toolResponses: out.includes(`${MARK}_response`),
  };
  if (cache.size >= 16) cache.clear();
  cache.set(key, caps);
  return caps;
}
