/**
 * POST /v1/chat/completions (and /chat/completions): messages rendered with the model's chat template (GGUF
 * `tokenizer.chat_template`, else ChatML), tokenized with special-token text parsed (BOS
 * added unless the template already wrote it), then generated like a completion. Streams
 * `chat.completion.chunk` events (role first, then content deltas, then the finish reason,
 * then usage when `stream_options.include_usage`), or returns one `chat.completion`; `n`
 * choices share the prompt's KV cache, each with its own seed.
 *
 * @module
 */
import type { Context, Hono } from "../deps/hono.ts";
import type { GenerateChunk } from "../core/generate.ts";
import { now } from "../runtime/host.ts";
import { renderChat } from "../tokenizers/chat_template.ts";
import type { Engine, ReadyEngine } from "./engine.ts";
import { ApiError } from "./errors.ts";
import {
  capMaxTokens,
  checkModel,
  checkPromptFits,
  expandChoices,
  type GenerationJob,
  responseGrammar,
  samplingFrom,
  stopList,
  tokenPiece,
} from "./generation.ts";
import { collect, finishReason, startGeneration, usageOf } from "./slot_run.ts";
import {
  type ChatCompletionChunk,
  ChatCompletionRequest,
  type ChatCompletionResponse,
  type ChatMessage,
  type TokenLogprob,
} from "./schemas.ts";
import { sseResponse } from "./sse.ts";

/** Message content as plain text (text parts joined). */
export function messageText(m: ChatMessage): string {
  if (m.content == null) return "";
  return typeof m.content === "string" ? m.content : m.content.map((p) => p.text).join("");
}

/** Renders a conversation with the chat template (BOS text included when the template writes it). */
export function chatPromptText(
  ready: ReadyEngine,
  messages: readonly { role: string; content: string }[],
  template: string | undefined,
): string {
  const tok = ready.model.tokenizer;
  return renderChat(messages.map((m) => ({ role: m.role, content: m.content })), {
    template,
    bosToken: tok.bos !== undefined ? tok.tokenText(tok.bos) : "",
    eosToken: tok.eos !== undefined ? tok.tokenText(tok.eos) : "",
    addGenerationPrompt: true,
  });
}

/** Renders and tokenizes a conversation the way this route does. */
export function chatPromptTokens(
  ready: ReadyEngine,
  messages: readonly { role: string; content: string }[],
  template: string | undefined,
): number[] {
  const tok = ready.model.tokenizer;
  const bosText = tok.bos !== undefined ? tok.tokenText(tok.bos) : "";
  const text = chatPromptText(ready, messages, template);
  const hasBos = bosText !== "" && text.startsWith(bosText);
  return tok.encode(text, { addSpecial: !hasBos, parseSpecial: true });
}

/** The job's grammar field, present only with a constraining response_format. */
function grammarOf(body: ChatCompletionRequest): Pick<GenerationJob, "grammar"> {
  const grammar = responseGrammar(body.response_format);
  return grammar ? { grammar } : {};
}

function prepare(engine: Engine, ready: ReadyEngine, body: ChatCompletionRequest): GenerationJob {
  checkModel(engine, ready, body.model);
  if (body.top_logprobs != null && body.logprobs !== true) {
    throw new ApiError(400, "invalid_value", "top_logprobs needs logprobs: true", "top_logprobs");
  }
  const messages = body.messages.map((m) => ({ role: m.role, content: messageText(m) }));
  const prompt = chatPromptTokens(ready, messages, engine.chatTemplate);
  const ctx = ready.contextLength;
  checkPromptFits(prompt, ctx, "messages");
  const requested = body.max_completion_tokens ?? body.max_tokens;
  return {
    prompt,
    maxTokens: capMaxTokens(requested, ctx, prompt.length, ctx),
    sampling: samplingFrom(body, ready.model.config.vocabSize),
    stop: stopList(body.stop),
    logprobs: body.logprobs === true ? body.top_logprobs ?? 0 : undefined,
    ignoreEos: body.ignore_eos ?? false,
    cachePrompt: body.cache_prompt,
    ...grammarOf(body),
  };
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
    const jobs = expandChoices(prepare(engine, ready, body), body.n ?? 1);
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
      const chunk = (
        index: number,
        delta: ChatCompletionChunk["choices"][0]["delta"],
        fr: "stop" | "length" | null,
        lp: TokenLogprob[] | null = null,
      ): ChatCompletionChunk => ({
        ...head,
        object: "chat.completion.chunk",
        choices: [{ index, delta, logprobs: lp ? { content: lp } : null, finish_reason: fr }],
      });
      const events = async function* (): AsyncGenerator<ChatCompletionChunk> {
        const ends = [];
        let started = -1;
        for await (const ev of gen.events) {
          if (ev.index !== started) {
            started = ev.index;
            yield chunk(ev.index, { role: "assistant", content: "" }, null);
          }
          if (ev.kind === "end") {
            ends.push(ev);
            yield chunk(ev.index, {}, finishReason(ev.result));
            continue;
          }
          const ch = ev.chunk;
          if (ch.text === "" && !wantLogprobs) continue;
          const lp = wantLogprobs ? chatLogprobs(ready, [ch]) : null;
          yield chunk(ev.index, { content: ch.text }, null, lp);
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
      choices: done.map(({ chunks, result }, index) => ({
        index,
        message: { role: "assistant", content: result.text },
        logprobs: wantLogprobs ? { content: chatLogprobs(ready, chunks) } : null,
        finish_reason: finishReason(result),
      })),
      usage: usageOf(done, n),
    };
    return c.json(res);
  };
  app.post("/v1/chat/completions", handler);
  app.post("/chat/completions", handler);
}
