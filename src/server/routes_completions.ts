/**
 * POST /v1/completions: OpenAI's legacy text completions, streamed (SSE chunks ending in
 * `data: [DONE]`) or not, with usage counts, stop strings, sampling fields, `echo`, and
 * legacy log-probabilities (`logprobs: N`). A prompt is a string, a list of strings (one
 * choice each, generated in turn) or a list of token ids. Text prompts are tokenized like
 * `generate()` does: with BOS per the model, special-token text not parsed.
 *
 * @module
 */
import type { Hono } from "hono";
import type { GenerateChunk, GenerateResult } from "../core/generate.ts";
import { now } from "../runtime/host.ts";
import { parseBody } from "./body.ts";
import type { Engine, ReadyEngine } from "./engine.ts";
import {
  capMaxTokens,
  checkModel,
  checkPromptFits,
  checkTokenIds,
  collect,
  finishReason,
  type GenerationJob,
  samplingFrom,
  startGeneration,
  stopList,
  tokenPiece,
} from "./generation.ts";
import { type CompletionLogprobs, CompletionRequest, type CompletionResponse } from "./schemas.ts";
import { sseResponse } from "./sse.ts";

/** OpenAI's default max_tokens for legacy completions. */
export const DEFAULT_COMPLETION_MAX_TOKENS = 16;

interface Prepared {
  readonly texts: string[];
  readonly jobs: GenerationJob[];
}

function prepare(engine: Engine, ready: ReadyEngine, body: CompletionRequest): Prepared {
  checkModel(engine, ready, body.model);
  const tok = ready.model.tokenizer;
  const vocab = ready.model.config.vocabSize;
  const ctx = ready.contextLength;
  const raw = body.prompt;
  const prompts: (string | number[])[] = typeof raw === "string"
    ? [raw]
    : raw.every((x) => typeof x === "number")
    ? [raw as number[]]
    : (raw as string[]);
  const sampling = samplingFrom(body, vocab);
  const stop = stopList(body.stop);
  const texts: string[] = [];
  const jobs = prompts.map((p, i) => {
    const param = prompts.length > 1 ? `prompt[${i}]` : "prompt";
    let tokens: number[];
    if (typeof p === "string") {
      tokens = tok.encode(p, { addSpecial: true, parseSpecial: false });
      texts.push(p);
    } else {
      checkTokenIds(p, vocab, "prompt");
      tokens = p;
      texts.push(tok.decode(p, { skipSpecial: true }));
    }
    checkPromptFits(tokens, ctx, param);
    return {
      prompt: tokens,
      maxTokens: capMaxTokens(body.max_tokens, DEFAULT_COMPLETION_MAX_TOKENS, tokens.length, ctx),
      sampling,
      stop,
      logprobs: body.logprobs ?? undefined,
      ignoreEos: body.ignore_eos ?? false,
    };
  });
  return { texts, jobs };
}

/** Legacy log-probabilities of chunks; `offset0` is where generated text starts. */
function legacyLogprobs(
  ready: ReadyEngine,
  chunks: readonly GenerateChunk[],
  offset0: number,
): CompletionLogprobs {
  const tok = ready.model.tokenizer;
  const lp: CompletionLogprobs = {
    tokens: [],
    token_logprobs: [],
    top_logprobs: [],
    text_offset: [],
  };
  let offset = offset0;
  for (const c of chunks) {
    if (c.logprob !== undefined) {
      lp.tokens.push(tokenPiece(tok, c.token).text);
      lp.token_logprobs.push(c.logprob);
      const top: Record<string, number> = {};
      for (const [id, l] of c.topLogprobs ?? []) top[tokenPiece(tok, id).text] ??= l;
      lp.top_logprobs.push(top);
      lp.text_offset.push(offset);
    }
    offset += c.text.length;
  }
  return lp;
}

/** Registers POST /v1/completions. */
export function registerCompletions(app: Hono, engine: Engine): void {
  app.post("/v1/completions", async (c) => {
    const t0 = now();
    const ready = engine.ready();
    const body = await parseBody(c.req.raw, CompletionRequest, engine.bodyLimit);
    const { texts, jobs } = prepare(engine, ready, body);
    const signal = engine.requestSignal(c.req.raw.signal);
    const head = {
      id: `cmpl-${crypto.randomUUID().replaceAll("-", "")}`,
      object: "text_completion" as const,
      created: Math.floor(Date.now() / 1000),
      model: engine.modelId,
    };
    const echo = body.echo === true;
    const wantLogprobs = body.logprobs != null;
    if (body.stream) {
      const ac = new AbortController();
      const sig = AbortSignal.any([signal, ac.signal]);
      const first = await startGeneration(engine, ready, jobs[0], sig);
      const includeUsage = body.stream_options?.include_usage === true;
      let current = first;
      const events = async function* (): AsyncGenerator<CompletionResponse> {
        let promptTokens = 0;
        let completionTokens = 0;
        for (let i = 0; i < jobs.length; i++) {
          if (i > 0) current = await startGeneration(engine, ready, jobs[i], sig);
          const gen = current.stream;
          let offset = 0;
          if (echo) {
            offset = texts[i].length;
            yield {
              ...head,
              choices: [{ index: i, text: texts[i], logprobs: null, finish_reason: null }],
            };
          }
          let r: IteratorResult<GenerateChunk, GenerateResult>;
          while (!(r = await gen.next()).done) {
            const ch = r.value;
            if (ch.text === "" && !wantLogprobs) continue;
            const logprobs = wantLogprobs ? legacyLogprobs(ready, [ch], offset) : null;
            offset += ch.text.length;
            yield {
              ...head,
              choices: [{ index: i, text: ch.text, logprobs, finish_reason: null }],
            };
          }
          promptTokens += r.value.promptTokens;
          completionTokens += r.value.completionTokens;
          const fr = finishReason(r.value);
          yield { ...head, choices: [{ index: i, text: "", logprobs: null, finish_reason: fr }] };
        }
        if (includeUsage) {
          yield {
            ...head,
            choices: [],
            usage: {
              prompt_tokens: promptTokens,
              completion_tokens: completionTokens,
              total_tokens: promptTokens + completionTokens,
            },
          };
        }
      };
      return sseResponse(events(), {
        onCancel: () => ac.abort(),
        onEnd: () => {
          current.close();
          engine.metrics.observeLatency("/v1/completions", (now() - t0) / 1000);
        },
      });
    }
    const choices: CompletionResponse["choices"] = [];
    let promptTokens = 0;
    let completionTokens = 0;
    for (let i = 0; i < jobs.length; i++) {
      const { chunks, result } = await collect(
        await startGeneration(engine, ready, jobs[i], signal),
      );
      const pre = echo ? texts[i] : "";
      choices.push({
        index: i,
        text: pre + result.text,
        logprobs: wantLogprobs ? legacyLogprobs(ready, chunks, pre.length) : null,
        finish_reason: finishReason(result),
      });
      promptTokens += result.promptTokens;
      completionTokens += result.completionTokens;
    }
    const res: CompletionResponse = {
      ...head,
      choices,
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
      },
    };
    return c.json(res);
  });
}
