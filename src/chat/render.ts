/**
 * A conversation with tools, rendered through the model's chat template the way llama.cpp's
 * common chat layer does: what the template renders natively (a `tools` list, assistant
 * `tool_calls`, `tool` messages, a system role; see template_caps.ts) goes to it as OpenAI
 * names it, and what it lacks is filled in: tools described in the system message, calls
 * written as the family's call text, tool results as a user message
 * `{"tool_response": {"tool": name, "content": ...}}`, and a system message merged into the
 * next user message (`system + "\n" + user`). `developer` messages are system messages.
 *
 * @module
 */
import {
  type ChatMessage,
  ChatTemplateError,
  type TemplateToolCall,
} from "../tokenizers/chat_template.ts";
import { renderTemplate, templateCaps } from "./template_caps.ts";
import { detectToolCallFamily, type ToolCall } from "./tool_calls.ts";
import { formatToolCalls, toolInstructions } from "./tool_call_text.ts";
import type { ToolSpec } from "./tool_grammar.ts";

/** One message of a conversation (tool calls with parsed arguments). */
export interface ConversationMessage {
  role: string;
  content: string;
  /** An assistant message's calls. */
  toolCalls?: readonly ToolCall[];
  /** A tool message: the id of the call it answers. */
  toolCallId?: string;
  /** A tool message: the function's name (else looked up from the call id). */
  name?: string;
}

/** Options of {@link renderConversation}. */
export interface RenderConversationOptions {
  /** Jinja chat template (absent: ChatML). */
  template?: string | undefined;
  /** Functions the model may call (rendered by the template or described in the system text). */
  tools?: readonly ToolSpec[];
  bosToken?: string;
  eosToken?: string;
  addGenerationPrompt?: boolean;
  /** More template variables. */
  context?: Readonly<Record<string, unknown>>;
}

function templateCall(c: ToolCall, i: number, objectArgs: boolean): TemplateToolCall {
  return {
    id: c.id ?? `call_${i}`,
    type: "function",
    function: { name: c.name, arguments: objectArgs ? c.arguments : JSON.stringify(c.arguments) },
  };
}

/** The conversation as the template's prompt text. */
export function renderConversation(
  messages: readonly ConversationMessage[],
  opts: RenderConversationOptions = {},
): string {
  const caps = templateCaps(opts.template);
  const family = detectToolCallFamily(opts.template);
  const tools = opts.tools ?? [];
  const names = new Map<string, string>();
  const out: ChatMessage[] = [];
  for (const m of messages) {
    const role = m.role === "developer" ? "system" : m.role;
    if (role === "assistant" && m.toolCalls?.length) {
      m.toolCalls.forEach((c, i) => names.set(c.id ?? `call_${i}`, c.name));
      if (caps.toolCalls) {
        const calls = m.toolCalls.map((c, i) => templateCall(c, i, caps.objectArguments));
        out.push({ role, content: m.content, tool_calls: calls });
      } else {
        const text = formatToolCalls(m.toolCalls, family);
        out.push({ role, content: m.content ? `${m.content}\n${text}` : text });
      }
    } else if (role === "tool") {
      const name = m.name ?? (m.toolCallId !== undefined ? names.get(m.toolCallId) : undefined);
      if (caps.toolResponses) {
        out.push({
          role,
          content: m.content,
          ...(m.toolCallId !== undefined ? { tool_call_id: m.toolCallId } : {}),
          ...(name !== undefined ? { name } : {}),
        });
      } else {
        const response = { tool: name ?? "", content: m.content };
        out.push({ role: "user", content: JSON.stringify({ tool_response: response }) });
      }
    } else out.push({ role, content: m.content });
  }
  const render = (native: boolean) => {
    let list = out;
    if (tools.length > 0 && !native) {
      const note = toolInstructions(tools, family);
      list = [...out];
      if (list[0]?.role === "system") {
        list[0] = { ...list[0], content: `${list[0].content}\n\n${note}` };
      } else list.unshift({ role: "system", content: note });
    }
    return renderTemplate(caps.systemRole ? list : mergeSystem(list), {
      template: opts.template,
      bosToken: opts.bosToken,
      eosToken: opts.eosToken,
      addGenerationPrompt: opts.addGenerationPrompt,
      context: opts.context,
      tools: native ? tools.map(openAITool) : undefined,
    });
  };
  if (tools.length === 0 || !caps.tools) return render(false);
  try {
    return render(true);
  } catch (e) {
    // A template that renders tools but fails on these (e.g. Hermes' `param.description|trim`
    // on a parameter without a description) gets them described in the system text instead.
    if (e instanceof ChatTemplateError) return render(false);
    throw e;
  }
}

function openAITool(t: ToolSpec) {
  return {
    type: "function",
    function: {
      name: t.name,
      ...(t.description !== undefined ? { description: t.description } : {}),
      parameters: t.parameters ?? { type: "object", properties: {} },
    },
  };
}

/** System messages folded into the next user message (or kept as one when none follows). */
function mergeSystem(messages: ChatMessage[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  let pending: string | undefined;
  for (const m of messages) {
    if (m.role === "system") {
      pending = pending === undefined ? m.content : `${pending}\n${m.content}`;
    } else if (m.role === "user" && pending !== undefined) {
      out.push({ ...m, content: `${pending}\n${m.content}` });
      pending = undefined;
    } else out.push(m);
  }
  if (pending !== undefined) out.push({ role: "user", content: pending });
  return out;
}
