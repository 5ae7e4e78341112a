/**
 * A chat over a {@link Session}: the history rendered through the model's chat template on
 * every turn (the session's KV cache keeps the common prefix, so only the new turn is
 * evaluated), structured answers (`responseFormat`: JSON object, JSON Schema or GBNF, enforced
 * by the grammar sampler and returned parsed), and functions the model may call: their calls
 * are constrained by a lazy grammar to each function's parameter schema, the handlers run, and
 * their results go back into the history until the model answers (as node-llama-cpp's
 * `defineChatSessionFunction`).
 *
 * Tools, calls and results go through the template natively where it renders them, else as
 * llama.cpp fills them in (see render.ts).
 *
 * @module
 */
import { InvalidArgumentError } from "../core/errors.ts";
import { generate, type GenerateResult } from "../core/generate.ts";
import type { Session } from "../core/session.ts";
import { plainMetadata } from "../gguf/gguf_file.ts";
import { GrammarError } from "../grammar/errors.ts";
import { createSamplerChain, type SamplingParams } from "../samplers/params.ts";
import type { Sampler } from "../samplers/types.ts";
import { chatTemplateFromMetadata } from "../tokenizers/chat_template.ts";
import { type ConversationMessage, renderConversation } from "./render.ts";
import {
  detectToolCallFamily,
  parseToolCalls,
  type ToolCall,
  type ToolCallFamily,
} from "./tool_calls.ts";
import { toolCallGrammar, type ToolSpec } from "./tool_grammar.ts";
import { type ResponseFormat, responseFormatGrammar, withGrammar } from "./constrain.ts";

/** A function the model may call; `handler` gets the parsed, schema-constrained arguments. */
export interface ChatFunction {
  description?: string;
  parameters?: Record<string, unknown>;
  handler: (args: unknown) => unknown | Promise<unknown>;
}

/** Options of {@link ChatSession}. */
export interface ChatSessionOptions {
  systemPrompt?: string;
  /** Jinja chat template (default: the model's `tokenizer.chat_template`, else ChatML). */
  template?: string;
}

/** Options of one turn. */
export interface ChatPromptOptions {
  responseFormat?: ResponseFormat;
  functions?: Record<string, ChatFunction>;
  sampling?: SamplingParams;
  maxTokens?: number;
  signal?: AbortSignal;
  /** Receives the answer's text as it streams (tool-call rounds included). */
  onToken?: (text: string) => void;
  /** Most function-call rounds before giving up (default 8). */
  maxCallRounds?: number;
}

/** Result of {@link ChatSession.stream}. */
export interface ChatAnswer {
  text: string;
  /** The parsed value for JSON response formats. */
  value?: unknown;
  /** The function calls made on the way, in order. */
  calls: ToolCall[];
  finishReason: GenerateResult["finishReason"];
}

const PROMPT_KEYS = new Set([
  "responseFormat",
  "functions",
  "sampling",
  "maxTokens",
  "signal",
  "onToken",
  "maxCallRounds",
]);

/** A conversation with a model. */
export class ChatSession {
  readonly session: Session;
  readonly template: string | undefined;
  readonly family: ToolCallFamily;
  #system: string | undefined;
  #history: ConversationMessage[] = [];

  constructor(session: Session, options: ChatSessionOptions = {}) {
    this.session = session;
    this.template = options.template ?? chatTemplateFromMetadata(plainMetadata(session.model.file));
    this.family = detectToolCallFamily(this.template);
    this.#system = options.systemPrompt;
  }

  /** The conversation so far (system prompt first, when set). */
  get history(): readonly ConversationMessage[] {
    return this.#system === undefined
      ? this.#history
      : [{ role: "system", content: this.#system }, ...this.#history];
  }

  /** The system prompt (undefined: none). */
  get systemPrompt(): string | undefined {
    return this.#system;
  }

  /** Sets the system prompt for the next turns; the conversation so far stays. */
  set systemPrompt(text: string | undefined) {
    this.#system = text;
  }

  /** Forgets the conversation (and optionally sets a new system prompt). */
  reset(systemPrompt: string | undefined = this.#system): void {
    this.#history = [];
    this.#system = systemPrompt;
  }

  /**
   * One turn; resolves to the answer text, or the parsed value for JSON formats (GrammarError
   * GRAMMAR_INCOMPLETE when `maxTokens` cuts a constrained answer short).
   */
  async prompt(text: string, options: ChatPromptOptions = {}): Promise<unknown> {
    const it = this.stream(text, options);
    let r = await it.next();
    while (!r.done) r = await it.next();
    return r.value.value ?? r.value.text;
  }

  /** One turn, streaming the answer's text; returns the full {@link ChatAnswer}. */
  async *stream(text: string, options: ChatPromptOptions = {}): AsyncGenerator<string, ChatAnswer> {
    for (const k of Object.keys(options)) {
      if (!PROMPT_KEYS.has(k)) {
        throw new InvalidArgumentError(`unknown chat prompt option '${k}'`, {
          field: k,
          expected: [...PROMPT_KEYS],
        });
      }
    }
    const fns = options.functions ?? {};
    const format = responseFormatGrammar(options.responseFormat);
    const mark = this.#history.length;
    this.#history.push({ role: "user", content: text });
    try {
      const calls: ToolCall[] = [];
      const rounds = options.maxCallRounds ?? 8;
      for (let round = 0;; round++) {
        const tools = Object.entries(fns).map(([name, f]) => ({
          name,
          description: f.description,
          parameters: f.parameters,
        }));
        const toolGrammar = tools.length > 0 && round < rounds
          ? toolCallGrammar(tools, this.family, { choice: "auto" })
          : undefined;
        // A JSON/grammar format applies to the final answer; with functions, calls come first.
        const base = createSamplerChain(options.sampling ?? {});
        const tok = this.session.model.tokenizer;
        const sampler: Sampler = toolGrammar
          ? withGrammar(base, toolGrammar.grammar, tok, {
            triggerWords: toolGrammar.triggerWords.length ? toolGrammar.triggerWords : undefined,
          })
          : format
          ? withGrammar(base, format, tok)
          : base;
        const prompt = this.#render(tools);
        const bos = tok.bos !== undefined ? tok.tokenText(tok.bos) : "";
        let answer = "";
        const gen = generate(this.session, prompt, {
          maxTokens: options.maxTokens,
          sampler,
          signal: options.signal,
          parseSpecial: true,
          // BOS once: from the template when it writes bos_token, else added here.
          addSpecial: bos === "" || !prompt.startsWith(bos),
        });
        let r = await gen.next();
        while (!r.done) {
          answer += r.value.text;
          options.onToken?.(r.value.text);
          yield r.value.text;
          r = await gen.next();
        }
        const parsed = toolGrammar
          ? parseToolCalls(answer, this.family)
          : { content: answer, toolCalls: [] };
        if (parsed.toolCalls.length === 0 || r.value.finishReason !== "stop") {
          this.#history.push({ role: "assistant", content: answer });
          const json = format !== undefined && options.responseFormat?.type !== "grammar";
          if (format && !toolGrammar && r.value.finishReason === "length") {
            throw new GrammarError(
              "GRAMMAR_INCOMPLETE",
              `the answer hit maxTokens before completing its ${options.responseFormat?.type} format`,
              { actual: answer },
            );
          }
          const value = json && r.value.finishReason === "stop" ? JSON.parse(answer) : undefined;
          return { text: answer, value, calls, finishReason: r.value.finishReason };
        }
        const made = parsed.toolCalls.map((c, i) => ({ ...c, id: c.id ?? `call_${round}_${i}` }));
        this.#history.push({ role: "assistant", content: parsed.content, toolCalls: made });
        for (const call of made) {
          const fn = fns[call.name];
          calls.push(call);
          const result = fn
            ? await fn.handler(call.arguments)
            : { error: `unknown function ${call.name}` };
          this.#history.push({
            role: "tool",
            content: typeof result === "string" ? result : JSON.stringify(result),
            toolCallId: call.id,
            name: call.name,
          });
        }
      }
    } catch (e) {
      this.#history.length = mark; // a failed turn leaves no trace in the history
      throw e;
    }
  }

  #render(tools: ToolSpec[]): string {
    const tok = this.session.model.tokenizer;
    return renderConversation(this.history, {
      template: this.template,
      tools,
      bosToken: tok.bos !== undefined ? tok.tokenText(tok.bos) : "",
      eosToken: tok.eos !== undefined ? tok.tokenText(tok.eos) : "",
      addGenerationPrompt: true,
    });
  }
}
