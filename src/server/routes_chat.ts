/**
 * POST /v1/chat/completions (and /chat/completions): messages rendered with the model's chat template (GGUF
 * `tokenizer.chat_template`, else ChatML), tokenized with special-token text parsed (BOS
 * added unless the template already wrote it), then generated like a completion. Streams
 * `chat.completion.chunk` events (role first, then content deltas, then the finish reason,
 * then usage when `stream_options.include_usage`), or returns one `chat.completion`; `n`
 * choices share the prompt's KV cache, each with its own seed. With `tools` (see
 * chat_tools.ts) the functions go through the template, calls are constrained to their
 * schemas, and answers carry `tool_calls` (streamed as `delta.tool_calls`: id and name when
 * the name is written, then the arguments text as it is generated) with finish reason
 * "tool_calls". With `context` (routes_vector_stores_rag.ts) the top
 * chunks of a vector store are quoted in the last user message and listed in the response.
 *
 * @module
 */
import type { Context, Hono } from "../deps/hono.ts";
import type { GenerateChunk } from "../core/generate.ts";
import { type ConversationMessage, renderConversation } from "../chat/render.ts";
import type { ToolSpec } from "../chat/tool_grammar.ts";
import { now } from "../runtime/host.ts";
import {
  conversationOf,
  messageText,
  splitAnswer,
  ToolCallDeltas,
  type ToolPlan,
  toolPlan,
} from "./chat_tools.ts";
import type { Engine, ReadyEngine } from "./engine.ts";
import { ApiError } from "./errors.ts";
import {
  capMaxTokens,
  checkModel,
  checkPromptFits,
  constraintOf,
  expandChoices,
  type GenerationJob,
  samplingFrom,
  stopList,
  tokenPiece,
} from "./generation.ts";
import { collect, finishReason, startGeneration, usageOf } from "./slot_run.ts";
import {
  type ChatCompletionChunk,
  ChatCompletionRequest,
  type ChatCompletionResponse,
  type TokenLogprob,
} from "./schemas.ts";
import { sseResponse } from "./sse.ts";
import { chatContext } from "./routes_vector_stores_rag.ts";

export { messageText };

/** Renders a conversation with the chat template (BOS text included when the template writes it). */
export function chatPromptText(
  ready: ReadyEngine,
  messages: readonly ConversationMessage[],
  template: string | undefined,
  tools?: readonly ToolSpec[],
  context?: Readonly<Record<string, unknown>>,
): string {
  const tok = ready.model.tokenizer;
  return renderConversation(messages, {
    template,
    tools,
    context,
    bosToken: tok.bos !== undefined ? tok.tokenText(tok.bos) : "",
    eosToken: tok.eos !== undefined ? tok.tokenText(tok.eos) : "",
    addGenerationPrompt: true,
  });
}

/** Renders and tokenizes a conversation the way this route does. */
export function chatPromptTokens(
  ready: ReadyEngine,
  messages: readonly ConversationMessage[],
  template: string | undefined,
  tools?: readonly ToolSpec[],
  context?: Readonly<Record<string, unknown>>,
): number[] {
  const tok = ready.model.tokenizer;
  const bosText = tok.bos !== undefined ? tok.tokenText(tok.bos) : "";
  const text = chatPromptText(ready, messages, template, tools, context);
  const hasBos = bosText !== "" && text.startsWith(bosText);
  return tok.encode(text, { addSpecial: !hasBos, parseSpecial: true });
}

/** The job's grammar fields: a tool plan's, or the request's constraint. */
function grammarOf(body: ChatCompletionRequest, plan: ToolPlan | undefined, vocab: number) {
  if (!plan?.grammar) return constraintOf(body, vocab);
  if (body.grammar_lazy) {
    throw new ApiError(
      400,
      "invalid_value",
      'grammar_lazy applies to grammar or json_schema without tools (or with tool_choice "none")',
      "grammar_lazy",
    );
  }
  return { grammar: plan.grammar.grammar, grammarTriggers: plan.grammar.triggerWords };
}

function prepare(
  engine: Engine,
  ready: ReadyEngine,
  body: ChatCompletionRequest,
  messages = conversationOf(body.messages),
): { job: GenerationJob; plan: ToolPlan | undefined } {
  checkModel(engine, ready, body.model);
  if (body.top_logprobs != null && body.logprobs !== true) {
    throw new ApiError(400, "invalid_value", "top_logprobs needs logprobs: true", "top_logprobs");
  }
  const plan = toolPlan(body, engine.chatTemplate);
  const prompt = chatPromptTokens(
    ready,
    messages,
    engine.chatTemplate,
    plan?.tools,
    body.chat_template_kwargs ?? undefined,
  );
  const ctx = ready.contextLength;
  checkPromptFits(prompt, ctx, "messages");
  const requested = body.max_completion_tokens ?? body.max_tokens;
  const job: GenerationJob = {
    prompt,
    maxTokens: capMaxTokens(requested, ctx, prompt.length, ctx),
    sampling: samplingFrom(body, ready.model.config.vocabSize),
    stop: stopList(body.stop),
    logprobs: body.logprobs === true ? body.top_logprobs ?? 0 : undefined,
    ignoreEos: body.ignore_eos ?? false,
    cachePrompt: body.cache_prompt,
    ...grammarOf(body, plan, ready.model.config.vocabSize),
  };
  return { job, plan };
}

export function chatLogprobs(ready: ReadyEngine, chunks: readonly GenerateChunk[]): TokenLogprob[] {
  const tok = ready.model.tokenizer;
  const out: TokenLogprob[] = [];
  for (const c of chunks) {
    if (c.logprob === undefined) continue;
    const p = tokenPiece(tok, c.token);
    out.push({
      token: p.text,
      logprob: c.logprob,
      bytes: p.bytes,
      top_logprobs: (c.topLogprobs ?? []).map(([id, l]) => {
        const q = tokenPiece(tok, id);
        return { token: q.text, logprob: l, bytes: q.bytes };
      }),
    });
  }
  return out;
}

/** Registers POST /v1/chat/completions and /chat/completions. */
export function registerChat(app: Hono, engine: Engine): void {
  const handler = async (c: Context) => {
    const t0 = now();
    const ready = engine.ready();
    const body = await engine.parse(c.req.raw, ChatCompletionRequest);
    // Retrieval-augmented (`context`): the retrieved chunks go into the last user message.
    const rag = body.context
      ? await chatContext(
        engine,
        body.context,
        conversationOf(body.messages),
        engine.requestSignal(c.req.raw.signal),
      )
      : undefined;
    const used = rag ? { context: rag.used } : {};
    const { job, plan } = prepare(engine, ready, body, rag?.messages);
    const jobs = expandChoices(job, body.n ?? 1);
    // Calls are split out when the answer was constrained to the call format (unless the
    // request asks for the raw text with llama.cpp's parse_tool_calls: false).
    const family = plan?.grammar && body.parse_tool_calls !== false ? plan.family : undefined;
    const head = {
      id: `chatcmpl-${crypto.randomUUID().replaceAll("-", "")}`,
      created: Math.floor(Date.now() / 1000),
      model: engine.modelId,
      system_fingerprint: engine.fingerprint,
    };
    const wantLogprobs = jobs[0].logprobs !== undefined;
    const n = jobs.length;
    if (body.stream) {
      const ac = new AbortController();
      const signal = engine.requestSignal(AbortSignal.any([c.req.raw.signal, ac.signal]));
      const gen = await startGeneration(engine, ready, jobs, signal);
      const includeUsage = body.stream_options?.include_usage === true;
      type Delta = ChatCompletionChunk["choices"][0]["delta"];
      type Finish = ChatCompletionChunk["choices"][0]["finish_reason"];
      const chunk = (
        index: number,
        delta: Delta,
        fr: Finish,
        lp: TokenLogprob[] | null = null,
      ): ChatCompletionChunk => ({
        ...head,
        object: "chat.completion.chunk",
        choices: [{ index, delta, logprobs: lp ? { content: lp } : null, finish_reason: fr }],
      });
      const events = async function* (): AsyncGenerator<ChatCompletionChunk> {
        const ends = [];
        let started = -1;
        let split: ToolCallDeltas | undefined;
        for await (const ev of gen.events) {
          if (ev.index !== started) {
            started = ev.index;
            split = family ? new ToolCallDeltas(family) : undefined;
            yield { ...chunk(ev.index, { role: "assistant", content: "" }, null), ...used };
          }
          if (ev.kind === "end") {
            ends.push(ev);
            let fr: Finish = finishReason(ev.result);
            if (split) {
              const end = split.finish();
              if (end.content !== "") yield chunk(ev.index, { content: end.content }, null);
              for (const d of end.calls) yield chunk(ev.index, { tool_calls: [d] }, null);
              if (end.called && fr === "stop") fr = "tool_calls";
            }
            yield chunk(ev.index, {}, fr);
            continue;
          }
          const ch = ev.chunk;
          const { content: text, calls } = split
            ? split.push(ch.text)
            : { content: ch.text, calls: [] };
          if (text !== "" || wantLogprobs) {
            const lp = wantLogprobs ? chatLogprobs(ready, [ch]) : null;
            yield chunk(ev.index, { content: text }, null, lp);
          }
          for (const d of calls) yield chunk(ev.index, { tool_calls: [d] }, null);
        }
        if (includeUsage) {
          yield { ...head, object: "chat.completion.chunk", choices: [], usage: usageOf(ends, n) };
        }
      };
      return sseResponse(events(), {
        onCancel: () => ac.abort(),
        onEnd: () => {
          gen.close();
          engine.metrics.observeLatency("/v1/chat/completions", (now() - t0) / 1000);
        },
      });
    }
    const signal = engine.requestSignal(c.req.raw.signal);
    const done = await collect(await startGeneration(engine, ready, jobs, signal));
    const res: ChatCompletionResponse = {
      ...head,
      object: "chat.completion",
      choices: done.map(({ chunks, result }, index) => {
        const logprobs = wantLogprobs ? { content: chatLogprobs(ready, chunks) } : null;
        const fr = finishReason(result);
        if (!family) {
          return {
            index,
            message: { role: "assistant" as const, content: result.text },
            logprobs,
            finish_reason: fr,
          };
        }
        const { content, calls } = splitAnswer(result.text, family);
        return {
          index,
          message: {
            role: "assistant" as const,
            content,
            ...(calls.length > 0 ? { tool_calls: calls } : {}),
          },
          logprobs,
          finish_reason: calls.length > 0 && fr === "stop" ? "tool_calls" as const : fr,
        };
      }),
      usage: usageOf(done, n),
      ...used,
    };
    return c.json(res);
  };
  app.post("/v1/chat/completions", handler);
  app.post("/chat/completions", handler);
}
