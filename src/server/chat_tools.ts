/**
 * Tool calling on /v1/chat/completions: the request's `tools`, `tool_choice` and
 * `parallel_tool_calls` checked and turned into a plan (the functions for the prompt, the
 * template's call family, the grammar constraining calls: lazy for "auto", from the first
 * token for "required" or a named function, none for "none"), the request's messages as a
 * conversation (assistant `tool_calls` with parsed arguments, `tool` results), and answers
 * split into content and calls in OpenAI's shape. With "auto", a response format (`response_format`,
 * `json_schema` or `grammar`) shapes the answer when it is not a call: the grammar is then a call
 * or an answer in that format, from the first token. Several calls in one answer are allowed
 * when the request allows them (default true) and the template can render them back.
 *
 * @module
 */
import type { ConversationMessage } from "../chat/render.ts";
import { templateCaps } from "../chat/template_caps.ts";
import {
  type OpenAIToolCall,
  ToolCallStream,
  toOpenAIToolCalls,
} from "../chat/tool_call_stream.ts";
import { detectToolCallFamily, type ToolCall, type ToolCallFamily } from "../chat/tool_calls.ts";
import { toolCallGrammar, type ToolGrammar, type ToolSpec } from "../chat/tool_grammar.ts";
import { JsonSchemaError } from "../grammar/errors.ts";
import { jsonSchemaToGbnf } from "../grammar/json_schema.ts";
import { ApiError } from "./errors.ts";
import { constraintGrammar } from "./generation.ts";
import type { ChatCompletionRequest, ChatMessage, ToolCallDelta } from "./schemas.ts";

/** How a request's tools run. */
export interface ToolPlan {
  /** The functions, for the prompt. */
  readonly tools: ToolSpec[];
  readonly family: ToolCallFamily;
  /** Constrains calls; absent for tool_choice "none" (the answer is then plain content). */
  readonly grammar?: ToolGrammar;
}

function bad(message: string, param: string): ApiError {
  return new ApiError(400, "invalid_value", message, param);
}

/** The request fields a tool plan reads. */
export type ToolFields = Partial<
  Pick<
    ChatCompletionRequest,
    "tools" | "tool_choice" | "parallel_tool_calls" | "response_format" | "json_schema" | "grammar"
  >
>;

/** The request's tool plan, or undefined without tools (400s name the offending field). */
export function toolPlan(body: ToolFields, template: string | undefined): ToolPlan | undefined {
  const list = body.tools ?? [];
  const choice = body.tool_choice ?? "auto";
  if (list.length === 0) {
    if (body.tool_choice != null && choice !== "none" && choice !== "auto") {
      throw bad("tool_choice needs tools", "tool_choice");
    }
    return undefined;
  }
  const seen = new Set<string>();
  const tools = list.map((t, i): ToolSpec => {
    const f = t.function;
    if (seen.has(f.name)) {
      throw bad(`two tools are named '${f.name}'`, `tools[${i}].function.name`);
    }
    seen.add(f.name);
    if (f.parameters !== undefined) {
      try {
        jsonSchemaToGbnf(f.parameters);
      } catch (e) {
        if (e instanceof JsonSchemaError) {
          const param = `tools[${i}].function.parameters`;
          throw bad(`${param}: ${e.message}`, param);
        }
        throw e;
      }
    }
    return { name: f.name, description: f.description, parameters: f.parameters };
  });
  const family = detectToolCallFamily(template);
  if (choice === "none") return { tools, family };
  // A response format shapes the answer when it is not a call (checked even when unused).
  const format = constraintGrammar(body)?.source;
  const named = typeof choice === "object" ? { name: choice.function.name } : undefined;
  if (named && !seen.has(named.name)) {
    throw bad(`tool_choice names '${named.name}', which is not in tools`, "tool_choice");
  }
  const caps = templateCaps(template);
  const parallel = (body.parallel_tool_calls ?? true) &&
    (!caps.toolCalls || caps.parallelToolCalls);
  const grammar = toolCallGrammar(tools, family, {
    choice: named ?? (choice as "auto" | "required"),
    parallel,
    format,
  });
  return { tools, family, grammar };
}

/** Message content as plain text (text parts joined). */
export function messageText(m: ChatMessage): string {
  if (m.content == null) return "";
  return typeof m.content === "string" ? m.content : m.content.map((p) => p.text).join("");
}

/** The request's messages as a conversation (a call's `arguments` must be JSON). */
export function conversationOf(messages: readonly ChatMessage[]): ConversationMessage[] {
  return messages.map((m, i) => {
    if (m.tool_calls != null && m.role !== "assistant") {
      throw bad(`only assistant messages carry tool_calls`, `messages[${i}].tool_calls`);
    }
    if (m.tool_call_id !== undefined && m.role !== "tool") {
      throw bad(`only tool messages carry tool_call_id`, `messages[${i}].tool_call_id`);
    }
    const out: ConversationMessage = { role: m.role, content: messageText(m) };
    if (m.name !== undefined) out.name = m.name;
    if (m.tool_call_id !== undefined) out.toolCallId = m.tool_call_id;
    if (m.tool_calls?.length) {
      out.toolCalls = m.tool_calls.map((c, j): ToolCall => {
        try {
          return { id: c.id, name: c.function.name, arguments: JSON.parse(c.function.arguments) };
        } catch {
          const param = `messages[${i}].tool_calls[${j}].function.arguments`;
          throw bad(`${param} is not JSON`, param);
        }
      });
    }
    return out;
  });
}

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function randomAlnum(n: number): string {
  const b = crypto.getRandomValues(new Uint8Array(n));
  return Array.from(b, (x) => ALNUM[x % ALNUM.length]).join("");
}

/** A new call id: Mistral templates want 9 letters and digits, others get `call_<24>`. */
export function newToolCallId(family: ToolCallFamily): string {
  return family === "mistral" ? randomAlnum(9) : `call_${randomAlnum(24)}`;
}

/** The answer's calls in OpenAI's shape (the model's ids kept, others made). */
export function openAICalls(calls: readonly ToolCall[], family: ToolCallFamily): OpenAIToolCall[] {
  return toOpenAIToolCalls(calls.map((c) => ({ ...c, id: c.id ?? newToolCallId(family) })), "");
}

/**
 * One streamed answer split into content and `delta.tool_calls`: a call's id, type and name
 * as soon as the name is written, then pieces of its arguments text as they are generated;
 * a call the scanner could not follow (Llama 3's `<|python_tag|>name.call(...)`) comes whole
 * when the answer ends.
 */
export class ToolCallDeltas {
  readonly #split: ToolCallStream;
  readonly #family: ToolCallFamily;

  constructor(family: ToolCallFamily) {
    this.#family = family;
    this.#split = new ToolCallStream(family);
  }

  /** Adds generated text: the content now safe to show and the calls' new pieces. */
  push(text: string): { content: string; calls: ToolCallDelta[] } {
    const content = this.#split.push(text);
    const calls = this.#split.callDeltas().map((d): ToolCallDelta =>
      d.name !== undefined
        ? {
          index: d.index,
          id: newToolCallId(this.#family),
          type: "function",
          function: { name: d.name, arguments: d.arguments },
        }
        : { index: d.index, function: { arguments: d.arguments } }
    );
    return { content, calls };
  }

  /** Ends the answer: content still held, the calls not streamed yet, whether it called. */
  finish(): { content: string; calls: ToolCallDelta[]; called: boolean } {
    const started = this.#split.callsStarted;
    const end = this.#split.finish();
    const late = openAICalls(end.toolCalls.slice(started), this.#family);
    const calls = late.flatMap((c, i): ToolCallDelta[] => [
      {
        index: started + i,
        id: c.id,
        type: "function",
        function: { name: c.function.name, arguments: "" },
      },
      { index: started + i, function: { arguments: c.function.arguments } },
    ]);
    return { content: end.rest, calls, called: end.toolCalls.length > 0 };
  }
}

/** A whole answer split into content (null when empty) and calls. */
export function splitAnswer(
  text: string,
  family: ToolCallFamily,
): { content: string | null; calls: OpenAIToolCall[] } {
  const s = new ToolCallStream(family);
  const shown = s.push(text);
  const end = s.finish();
  const content = (shown + end.rest).trim();
  return { content: content === "" ? null : content, calls: openAICalls(end.toolCalls, family) };
}
