/**
 * POST /v1/completions (and /completions): OpenAI's legacy text completions, streamed (SSE
 * chunks ending in `data: [DONE]`) or not, with usage counts (cached prompt tokens
 * included), stop strings, sampling fields, `echo`, `n` choices per prompt, and legacy
 * log-probabilities (`logprobs: N`). A prompt is a string, a list of strings or a list of
 * token ids; choice `p * n + i` is prompt p's i-th. Text prompts are tokenized like
 * `generate()` does: with BOS per the model, special-token text not parsed.
 *
 * @module
 */
import type { Context, Hono } from "../deps/hono.ts";
import type { GenerateChunk } from "../core/generate.ts";
import { now } from "../runtime/host.ts";
import type { Engine, ReadyEngine } from "./engine.ts";
import {
  capMaxTokens,
  checkModel,
  checkPromptFits,
  checkTokenIds,
  constraintOf,
  expandChoices,
  type GenerationJob,
  samplingFrom,
  stopList,
  tokenPiece,
} from "./generation.ts";
import { collect, finishReason, startGeneration, usageOf } from "./slot_run.ts";
import { type CompletionLogprobs, CompletionRequest, type CompletionResponse } from "./schemas.ts";
import { sseResponse } from "./sse.ts";

/** OpenAI's default max_tokens for legacy completions. */
export const DEFAULT_COMPLETION_MAX_TOKENS = 16;

interface Prepared {
  /** Prompt text of each choice (for echo). */
  readonly texts: string[];
  /** One job per choice. */
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
  const constraint = constraintOf(body, vocab);
  const texts: string[] = [];
  const n = body.n ?? 1;
  const perPrompt = prompts.map((p, i) => {
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
      cachePrompt: body.cache_prompt,
      ...constraint,
    };
  });
  return {
    texts: texts.flatMap((t) => Array(n).fill(t)),
    jobs: perPrompt.flatMap((j) => expandChoices(j, n)),
  };
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

/** Registers POST /v1/completions and /completions. */
export function registerCompletions(app: Hono, engine: Engine): void {
  const handler = async (c: Context) => {
    const t0 = now();
    const ready = engine.ready();
    const body = await engine.parse(c.req.raw, CompletionRequest);
    const { texts, jobs } = prepare(engine, ready, body);
    const n = body.n ?? 1;
    const head = {
      id: `cmpl-${crypto.randomUUID().replaceAll("-", "")}`,
      object: "text_completion" as const,
      created: Math.floor(Date.now() / 1000),
      model: engine.modelId,
      system_fingerprint: engine.fingerprint,
    };
    const echo = body.echo === true;
    const wantLogprobs = body.logprobs != null;
    if (body.stream) {
      const ac = new AbortController();
      const signal = engine.requestSignal(AbortSignal.any([c.req.raw.signal, ac.signal]));
      const gen = await startGeneration(engine, ready, jobs, signal);
      const includeUsage = body.stream_options?.include_usage === true;
      const events = async function* (): AsyncGenerator<CompletionResponse> {
        const ends = [];
        let offset = 0;
        let started = -1;
        for await (const ev of gen.events) {
          const i = ev.index;
          if (echo && started !== i) {
            started = i;
            offset = texts[i].length;
            yield {
              ...head,
              choices: [{ index: i, text: texts[i], logprobs: null, finish_reason: null }],
            };
          } else if (started !== i) {
            started = i;
            offset = 0;
          }
          if (ev.kind === "end") {
            ends.push(ev);
            const fr = finishReason(ev.result);
            yield { ...head, choices: [{ index: i, text: "", logprobs: null, finish_reason: fr }] };
            continue;
          }
          const ch = ev.chunk;
          if (ch.text === "" && !wantLogprobs) continue;
          const logprobs = wantLogprobs ? legacyLogprobs(ready, [ch], offset) : null;
          offset += ch.text.length;
          yield { ...head, choices: [{ index: i, text: ch.text, logprobs, finish_reason: null }] };
        }
        if (includeUsage) yield { ...head, choices: [], usage: usageOf(ends, n) };
      };
      return sseResponse(events(), {
        onCancel: () => ac.abort(),
        onEnd: () => {
          gen.close();
          engine.metrics.observeLatency("/v1/completions", (now() - t0) / 1000);
        },
      });
    }
    const signal = engine.requestSignal(c.req.raw.signal);
    const done = await collect(await startGeneration(engine, ready, jobs, signal));
    const choices: CompletionResponse["choices"] = done.map(({ chunks, result }, i) => {
      const pre = echo ? texts[i] : "";
      return {
        index: i,
        text: pre + result.text,
        logprobs: wantLogprobs ? legacyLogprobs(ready, chunks, pre.length) : null,
        finish_reason: finishReason(result),
      };
    });
    const res: CompletionResponse = { ...head, choices, usage: usageOf(done, n) };
    return c.json(res);
  };
  app.post("/v1/completions", handler);
  app.post("/completions", handler);
}
