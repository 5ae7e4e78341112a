/**
 * POST /v1/chat/completions: messages rendered with the model's chat template (GGUF
 * `tokenizer.chat_template`, else ChatML), tokenized with special-token text parsed (BOS
 * added unless the template already wrote it), then generated like a completion. Streams
 * `chat.completion.chunk` events (role first, then content deltas, then the finish reason,
 * then usage when `stream_options.include_usage`), or returns one `chat.completion`.
 *
 * @module
 */
import type { Hono } from "hono";
import type { GenerateChunk, GenerateResult } from "../core/generate.ts";
import { now } from "../runtime/host.ts";
import { renderChat } from "../tokenizers/chat_template.ts";
import { parseBody } from "./body.ts";
import type { Engine, ReadyEngine } from "./engine.ts";
import { ApiError } from "./errors.ts";
import {
  capMaxTokens,
  checkModel,
  checkPromptFits,
  collect,
  finishReason,
  type GenerationJob,
  samplingFrom,
  startGeneration,
  stopList,
  tokenPiece,
} from "./generation.ts";
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

/** Renders and tokenizes a conversation the way this route does. */
export function chatPromptTokens(
  ready: ReadyEngine,
  messages: readonly ChatMessage[],
  template: string | undefined,
): number[] {
  const tok = ready.model.tokenizer;
  const bosText = tok.bos !== undefined ? tok.tokenText(tok.bos) : "";
  const text = renderChat(messages.map((m) => ({ role: m.role, content: messageText(m) })), {
    template,
    bosToken: bosText,
    eosToken: tok.eos !== undefined ? tok.tokenText(tok.eos) : "",
    addGenerationPrompt: true,
  });
  const hasBos = bosText !== "" && text.startsWith(bosText);
  return tok.encode(text, { addSpecial: !hasBos, parseSpecial: true });
}

function prepare(engine: Engine, ready: ReadyEngine, body: ChatCompletionRequest): GenerationJob {
  checkModel(engine, ready, body.model);
  if (body.top_logprobs != null && body.logprobs !== true) {
    throw new ApiError(400, "invalid_value", "top_logprobs needs logprobs: true", "top_logprobs");
  }
  const prompt = chatPromptTokens(ready, body.messages, engine.chatTemplate);
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
  };
}

function chatLogprobs(ready: ReadyEngine, chunks: readonly GenerateChunk[]): TokenLogprob[] {
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

/** Registers POST /v1/chat/completions. */
export function registerChat(app: Hono, engine: Engine): void {
  app.post("/v1/chat/completions", async (c) => {
    const t0 = now();
    const ready = engine.ready();
    const body = await parseBody(c.req.raw, ChatCompletionRequest, engine.bodyLimit);
    const job = prepare(engine, ready, body);
    const head = {
      id: `chatcmpl-${crypto.randomUUID().replaceAll("-", "")}`,
      created: Math.floor(Date.now() / 1000),
      model: engine.modelId,
    };
    const wantLogprobs = job.logprobs !== undefined;
    if (body.stream) {
      const ac = new AbortController();
      const signal = engine.requestSignal(AbortSignal.any([c.req.raw.signal, ac.signal]));
      const gen = await startGeneration(engine, ready, job, signal);
      const includeUsage = body.stream_options?.include_usage === true;
      const chunk = (
        delta: ChatCompletionChunk["choices"][0]["delta"],
        fr: "stop" | "length" | null,
        lp: TokenLogprob[] | null = null,
      ): ChatCompletionChunk => ({
        ...head,
        object: "chat.completion.chunk",
        choices: [{ index: 0, delta, logprobs: lp ? { content: lp } : null, finish_reason: fr }],
      });
      const events = async function* (): AsyncGenerator<ChatCompletionChunk> {
        yield chunk({ role: "assistant", content: "" }, null);
        let r: IteratorResult<GenerateChunk, GenerateResult>;
        while (!(r = await gen.stream.next()).done) {
          const ch = r.value;
          if (ch.text === "" && !wantLogprobs) continue;
          yield chunk({ content: ch.text }, null, wantLogprobs ? chatLogprobs(ready, [ch]) : null);
        }
        yield chunk({}, finishReason(r.value));
        if (includeUsage) {
          const u = r.value;
          yield {
            ...head,
            object: "chat.completion.chunk",
            choices: [],
            usage: {
              prompt_tokens: u.promptTokens,
              completion_tokens: u.completionTokens,
              total_tokens: u.promptTokens + u.completionTokens,
            },
          };
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
    const { chunks, result } = await collect(await startGeneration(engine, ready, job, signal));
    const res: ChatCompletionResponse = {
      ...head,
      object: "chat.completion",
      choices: [{
        index: 0,
        message: { role: "assistant", content: result.text },
        logprobs: wantLogprobs ? { content: chatLogprobs(ready, chunks) } : null,
        finish_reason: finishReason(result),
      }],
      usage: {
        prompt_tokens: result.promptTokens,
        completion_tokens: result.completionTokens,
        total_tokens: result.promptTokens + result.completionTokens,
      },
    };
    return c.json(res);
  });
}
