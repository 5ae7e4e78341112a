/**
 * Chat prompt rendering. A model's Jinja chat template (GGUF key `tokenizer.chat_template`)
 * is rendered with `@huggingface/jinja`, given `messages`, `bos_token`, `eos_token` and
 * `add_generation_prompt`, as Hugging Face transformers does (the library provides
 * `raise_exception(msg)`). Without a template the default is ChatML:
 *
 * ```text
 * <|im_start|>{role}\n{content}<|im_end|>\n      (for each message)
 * <|im_start|>assistant\n                        (when addGenerationPrompt)
 * ```
 *
 * A template that does not parse or fails while rendering throws
 * {@linkcode ChatTemplateError}.
 *
 * @module
 */
import { Template } from "../deps/jinja.ts";
import { InvalidArgumentError, RocmForgeError } from "../core/errors.ts";
import type { MetaValue } from "../gguf/gguf_file.ts";

/** One call in an assistant message, as chat templates read it (`arguments` an object). */
export interface TemplateToolCall {
  id?: string;
  type: "function";
  function: { name: string; arguments: unknown };
}

/** One chat message (the tool fields as OpenAI names them, for templates that read them). */
export interface ChatMessage {
  role: string;
  content: string;
  tool_calls?: readonly TemplateToolCall[];
  tool_call_id?: string;
  name?: string;
}

/** Options of {@linkcode renderChat}. */
export interface RenderChatOptions {
  /** Jinja chat template; absent or empty: the ChatML default. */
  template?: string | undefined;
  /** Value of `bos_token` in the template (default ""). */
  bosToken?: string;
  /** Value of `eos_token` in the template (default ""). */
  eosToken?: string;
  /** Append the opening of an assistant turn (default false). */
  addGenerationPrompt?: boolean;
  /** `tools` in the template (OpenAI's `tools` list); absent: undefined there. */
  tools?: readonly unknown[];
  /** More template variables (e.g. `date_string`); the ChatML default ignores them. */
  context?: Readonly<Record<string, unknown>>;
}

/** A chat template that cannot be parsed or rendered. */
export class ChatTemplateError extends RocmForgeError<
  "CHAT_TEMPLATE_PARSE" | "CHAT_TEMPLATE_RENDER"
> {}

/** The ChatML default, as a Jinja template (what {@linkcode renderChat} does without one). */
export const CHATML_TEMPLATE = "{% for message in messages %}" +
  "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}" +
  "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** The chat template stored in GGUF metadata, if any. */
export function chatTemplateFromMetadata(md: ReadonlyMap<string, MetaValue>): string | undefined {
  const t = md.get("tokenizer.chat_template");
  return typeof t === "string" && t !== "" ? t : undefined;
}

function checkMessages(messages: readonly ChatMessage[]): void {
  if (!Array.isArray(messages)) {
    throw new InvalidArgumentError("messages must be an array", {
      expected: "array",
      actual: typeof messages,
    });
  }
  messages.forEach((m, i) => {
    if (typeof m?.role !== "string" || typeof m?.content !== "string") {
      throw new InvalidArgumentError(`messages[${i}] needs string role and content`, {
        offset: i,
        expected: "{role: string, content: string}",
        actual: JSON.stringify(m)?.slice(0, 80),
      });
    }
  });
}

function renderChatML(messages: readonly ChatMessage[], addGenerationPrompt: boolean): string {
  let out = "";
  for (const m of messages) out += `<|im_start|>${m.role}\n${m.content}<|im_end|>\n`;
  if (addGenerationPrompt) out += "<|im_start|>assistant\n";
  return out;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

const parsed = new Map<string, Template>();

function compile(source: string): Template {
  let t = parsed.get(source);
  if (t === undefined) {
    try {
      t = new Template(source);
    } catch (e) {
      throw new ChatTemplateError(
        "CHAT_TEMPLATE_PARSE",
        `chat template does not parse: ${message(e)}`,
        { actual: source.slice(0, 80) },
        { cause: e },
      );
    }
    if (parsed.size >= 16) parsed.clear();
    parsed.set(source, t);
  }
  return t;
}

/** Renders a conversation to the prompt text the model expects. */
export function renderChat(messages: ChatMessage[], opts: RenderChatOptions = {}): string {
  checkMessages(messages);
  const addGenerationPrompt = opts.addGenerationPrompt ?? false;
  if (!opts.template) return renderChatML(messages, addGenerationPrompt);
  const template = compile(opts.template);
  try {
    return template.render({
      ...opts.context,
      messages: messages.map((m) => ({ ...m })),
      ...(opts.tools ? { tools: opts.tools } : {}),
      bos_token: opts.bosToken ?? "",
      eos_token: opts.eosToken ?? "",
      add_generation_prompt: addGenerationPrompt,
    });
  } catch (e) {
    throw new ChatTemplateError(
      "CHAT_TEMPLATE_RENDER",
      `chat template failed to render: ${message(e)}`,
      { actual: opts.template.slice(0, 80) },
      { cause: e },
    );
  }
}
