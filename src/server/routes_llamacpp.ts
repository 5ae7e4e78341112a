/**
 * llama.cpp's native server API (tools/server/README.md of llama.cpp): POST /completion
 * (`prompt`, `n_predict`, `stream`, `cache_prompt`, `n_probs`, `id_slot`, `return_tokens`,
 * `n_cmpl`, `grammar`, `json_schema`, sampling fields; `timings` in every final result), GET
 * /props, GET /slots and POST /apply-template (messages with tool calls and results, and
 * `tools`, rendered as /v1/chat/completions renders them). Errors on these routes have
 * llama.cpp's shape (`code` is the HTTP status, `type` e.g. `exceed_context_size_error`); see
 * errors.ts.
 *
 * @module
 */
import type { Hono } from "../deps/hono.ts";
import type { GenerateResult } from "../core/generate.ts";
import { now } from "../runtime/host.ts";
import { DEFAULT_SAMPLING_PARAMS } from "../samplers/params.ts";
import type { Engine, ReadyEngine } from "./engine.ts";
import { ApiError, llamaErrorBody } from "./errors.ts";
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
import { conversationOf, toolPlan } from "./chat_tools.ts";
import { chatPromptText } from "./routes_chat.ts";
import {
  ApplyTemplateRequest,
  LlamaCompletionRequest,
  type LlamaCompletionResponse,
  type PropsResponse,
} from "./schemas.ts";
import { type ChoiceEvent, startGeneration } from "./slot_run.ts";
import { sseResponse } from "./sse.ts";
import { SERVER_VERSION } from "./version.ts";

interface Prepared {
  readonly texts: string[];
  readonly jobs: GenerationJob[];
}

function prepare(engine: Engine, ready: ReadyEngine, body: LlamaCompletionRequest): Prepared {
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
  const bias = Array.isArray(body.logit_bias)
    ? Object.fromEntries(body.logit_bias.map(([id, b]) => [String(id), b === false ? -100 : b]))
    : body.logit_bias;
  const sampling = samplingFrom({ ...body, logit_bias: bias }, vocab);
  const n = body.n_cmpl ?? 1;
  const constraint = constraintOf(body, vocab);
  const texts: string[] = [];
  const jobs = prompts.flatMap((p, i) => {
    const param = prompts.length > 1 ? `prompt[${i}]` : "prompt";
    let tokens: number[];
    if (typeof p === "string") tokens = tok.encode(p, { addSpecial: true, parseSpecial: true });
    else {
      checkTokenIds(p, vocab, "prompt");
      tokens = p;
    }
    checkPromptFits(tokens, ctx, param);
    const predict = body.n_predict == null || body.n_predict < 0 ? undefined : body.n_predict;
    const job: GenerationJob = {
      prompt: tokens,
      maxTokens: capMaxTokens(predict, ctx, tokens.length, ctx),
      sampling,
      stop: stopList(body.stop),
      logprobs: body.n_probs ? body.n_probs : undefined,
      ignoreEos: body.ignore_eos ?? false,
      cachePrompt: body.cache_prompt,
      ...constraint,
    };
    for (let k = 0; k < n; k++) texts.push(tok.decode(tokens));
    return expandChoices(job, n);
  });
  return { texts, jobs };
}

function stopType(ready: ReadyEngine, r: GenerateResult): "eos" | "limit" | "word" {
  if (r.finishReason === "length") return "limit";
  const last = r.tokens[r.tokens.length - 1];
  return last !== undefined && ready.model.tokenizer.isEog(last) ? "eos" : "word";
}

function probs(ready: ReadyEngine, token: number, logprob: number, top: [number, number][]) {
  const tok = ready.model.tokenizer;
  const entry = (id: number, lp: number) => {
    const p = tokenPiece(tok, id);
    return { id, logprob: lp, token: p.text, bytes: p.bytes };
  };
  return { ...entry(token, logprob), top_logprobs: top.map(([id, lp]) => entry(id, lp)) };
}

/** Times one choice: prompt phase until its first event, then generation. */
class ChoiceClock {
  private t0 = now();
  private first: number | undefined;
  mark(): void {
    this.first ??= now();
  }
  timings(cached: number, r: GenerateResult) {
    const end = now();
    const first = this.first ?? end;
    const promptN = Math.max(0, r.promptTokens - cached);
    const promptMs = first - this.t0;
    const predMs = end - first;
    const n = r.completionTokens;
    this.t0 = end;
    this.first = undefined;
    return {
      cache_n: cached,
      prompt_n: promptN,
      prompt_ms: promptMs,
      prompt_per_token_ms: promptN ? promptMs / promptN : 0,
      prompt_per_second: promptMs > 0 ? (promptN * 1000) / promptMs : 0,
      predicted_n: n,
      predicted_ms: predMs,
      predicted_per_token_ms: n ? predMs / n : 0,
      predicted_per_second: predMs > 0 ? (n * 1000) / predMs : 0,
    };
  }
}

/** Registers /completion, /props, /slots and /apply-template. */
export function registerLlamaCpp(app: Hono, engine: Engine): void {
  app.post("/completion", async (c) => {
    const ready = engine.ready();
    const body = await engine.parse(c.req.raw, LlamaCompletionRequest);
    const { texts, jobs } = prepare(engine, ready, body);
    const ac = new AbortController();
    const signal = engine.requestSignal(AbortSignal.any([c.req.raw.signal, ac.signal]));
    const slot = body.id_slot == null || body.id_slot < 0 ? undefined : body.id_slot;
    const gen = await startGeneration(engine, ready, jobs, signal, slot);
    const clock = new ChoiceClock();
    const returnTokens = body.return_tokens === true;
    const settings = { n_ctx: ready.contextLength, model: engine.modelId };
    const final = (
      ev: Extract<ChoiceEvent, { kind: "end" }>,
      content: string,
      probsOf: unknown[],
    ) => {
      const r = ev.result;
      const res: LlamaCompletionResponse = {
        index: ev.index,
        content,
        tokens: returnTokens ? r.tokens : [],
        id_slot: gen.slot,
        stop: true,
        model: engine.modelId,
        stop_type: stopType(ready, r),
        stopping_word: "",
        tokens_predicted: r.completionTokens,
        tokens_evaluated: r.promptTokens,
        tokens_cached: ev.cachedTokens,
        truncated: false,
        prompt: texts[ev.index],
        generation_settings: { ...settings, n_predict: jobs[ev.index].maxTokens },
        timings: clock.timings(ev.cachedTokens, r),
      };
      if (jobs[ev.index].logprobs !== undefined) {
        res.completion_probabilities =
          probsOf as LlamaCompletionResponse["completion_probabilities"];
      }
      return res;
    };
    if (body.stream) {
      const events = async function* () {
        for await (const ev of gen.events) {
          clock.mark();
          if (ev.kind === "end") {
            yield final(ev, "", []);
            continue;
          }
          const ch = ev.chunk;
          const out: Record<string, unknown> = {
            index: ev.index,
            content: ch.text,
            tokens: ch.token >= 0 ? [ch.token] : [],
            stop: false,
            id_slot: gen.slot,
          };
          if (ch.logprob !== undefined) {
            out.completion_probabilities = [
              probs(ready, ch.token, ch.logprob, ch.topLogprobs ?? []),
            ];
          }
          yield out;
        }
      };
      return sseResponse(events(), {
        done: false,
        errorBody: llamaErrorBody,
        onCancel: () => ac.abort(),
        onEnd: () => gen.close(),
      });
    }
    const results: LlamaCompletionResponse[] = [];
    try {
      let probsOf: unknown[] = [];
      for await (const ev of gen.events) {
        clock.mark();
        if (ev.kind === "end") {
          results.push(final(ev, ev.result.text, probsOf));
          probsOf = [];
        } else if (ev.chunk.logprob !== undefined) {
          const ch = ev.chunk;
          probsOf.push(probs(ready, ch.token, ch.logprob!, ch.topLogprobs ?? []));
        }
      }
    } finally {
      gen.close();
    }
    return c.json(results.length === 1 ? results[0] : results);
  });

  app.post("/apply-template", async (c) => {
    const ready = engine.ready();
    const body = await engine.parse(c.req.raw, ApplyTemplateRequest);
    const plan = toolPlan({ tools: body.tools, tool_choice: "none" }, engine.chatTemplate);
    const messages = conversationOf(body.messages);
    const kwargs = body.chat_template_kwargs ?? undefined;
    const prompt = chatPromptText(ready, messages, engine.chatTemplate, plan?.tools, kwargs);
    return c.json({ prompt });
  });

  app.get("/props", (c) => {
    const ready = engine.ready();
    const d = DEFAULT_SAMPLING_PARAMS;
    const body: PropsResponse = {
      default_generation_settings: {
        n_ctx: ready.contextLength,
        params: {
          n_predict: -1,
          seed: -1,
          temperature: d.temperature,
          top_k: d.topK,
          top_p: d.topP,
          min_p: d.minP,
          typical_p: d.typicalP,
          repeat_last_n: d.penaltyLastN,
          repeat_penalty: d.repeatPenalty,
          presence_penalty: d.presencePenalty,
          frequency_penalty: d.frequencyPenalty,
          min_keep: d.minKeep,
          n_probs: 0,
          ignore_eos: false,
          stop: [],
        },
      },
      total_slots: ready.slots.size,
      model_path: ready.model.path,
      model_alias: engine.modelId,
      chat_template: engine.chatTemplate ?? "",
      modalities: { vision: false, audio: false },
      build_info: `rocmforge-${SERVER_VERSION}`,
      is_sleeping: false,
    };
    return c.json(body);
  });

  app.get("/slots", (c) => {
    const ready = engine.ready();
    const slots = ready.slots.describe().map((s) => ({
      id: s.id,
      n_ctx: ready.contextLength,
      is_processing: s.busy,
      n_cached: s.cachedTokens,
    }));
    const fail = c.req.query("fail_on_no_slot");
    if (fail !== undefined && fail !== "0" && slots.every((s) => s.is_processing)) {
      throw new ApiError(503, "queue_full", "no slot is available", null, "unavailable_error");
    }
    return c.json(slots);
  });
}
