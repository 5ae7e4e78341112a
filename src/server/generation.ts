/**
 * What the completion routes share: request fields -> generation options (sampling, stop,
 * capped max tokens, validated logit bias), prompt checks against the slot context, and a
 * slot-holding generation stream that updates the metrics and always frees its slot.
 *
 * @module
 */
import { generate, type GenerateChunk, type GenerateResult } from "../core/generate.ts";
import type { Session } from "../core/session.ts";
import type { SamplingParams } from "../samplers/params.ts";
import type { Tokenizer } from "../tokenizers/types.ts";
import type { Engine, ReadyEngine } from "./engine.ts";
import { ApiError } from "./errors.ts";
import type { CompletionRequest } from "./schemas.ts";
import type { Lease } from "./slots.ts";

/** Request fields both completion endpoints accept. */
export type CommonFields = Omit<CompletionRequest, "prompt" | "echo" | "logprobs">;

/** A generation ready to run in a slot. */
export interface GenerationJob {
  readonly prompt: readonly number[];
  readonly maxTokens: number;
  readonly sampling: SamplingParams;
  readonly stop: readonly string[];
  /** Top-N log-probabilities per token, or undefined for none. */
  readonly logprobs?: number;
  readonly ignoreEos: boolean;
}

/** 404 unless `model` is absent or names the loaded model (id, path or file name). */
export function checkModel(engine: Engine, ready: ReadyEngine, model: string | undefined): void {
  if (model === undefined || model === "") return;
  const path = ready.model.path;
  const file = path.split(/[\\/]/).pop();
  if (model === engine.modelId || model === path || model === file) return;
  throw new ApiError(
    404,
    "model_not_found",
    `model ${JSON.stringify(model)} does not exist; this server serves ${
      JSON.stringify(engine.modelId)
    }`,
    "model",
  );
}

/** Checks token ids against the vocabulary (400 naming `param[i]`). */
export function checkTokenIds(tokens: readonly number[], vocab: number, param: string): void {
  const bad = tokens.findIndex((t) => t >= vocab);
  if (bad >= 0) {
    throw new ApiError(
      400,
      "invalid_value",
      `${param}[${bad}] = ${tokens[bad]} is outside the vocabulary (0..${vocab - 1})`,
      `${param}[${bad}]`,
    );
  }
}

/**
 * 400 for an empty prompt; `context_length_exceeded` unless `reserve` positions (default 1,
 * for the completion) stay free.
 */
export function checkPromptFits(
  tokens: readonly number[],
  ctx: number,
  param: string,
  reserve = 1,
): void {
  if (tokens.length === 0) {
    throw new ApiError(400, "invalid_value", `${param} is empty (no tokens)`, param);
  }
  if (tokens.length + reserve > ctx) {
    throw new ApiError(
      400,
      "context_length_exceeded",
      `this model's context is ${ctx} tokens, but the ${param} has ${tokens.length}` +
        (reserve > 0 ? ` (at least ${reserve} position must stay free for the completion)` : ""),
      param,
      "invalid_request_error",
      { expected: ctx - reserve, actual: tokens.length },
    );
  }
}

/** Sampling parameters from the request (omitted fields keep the engine defaults). */
export function samplingFrom(body: CommonFields, vocab: number): SamplingParams {
  const p: SamplingParams = {};
  if (body.temperature != null) p.temperature = body.temperature;
  if (body.top_p != null) p.topP = body.top_p;
  if (body.top_k != null) p.topK = body.top_k;
  if (body.min_p != null) p.minP = body.min_p;
  if (body.typical_p != null) p.typicalP = body.typical_p;
  if (body.repeat_penalty != null) p.repeatPenalty = body.repeat_penalty;
  if (body.presence_penalty != null) p.presencePenalty = body.presence_penalty;
  if (body.frequency_penalty != null) p.frequencyPenalty = body.frequency_penalty;
  if (body.seed != null) p.seed = body.seed;
  if (body.logit_bias != null) {
    const bias: Record<number, number> = {};
    for (const [k, v] of Object.entries(body.logit_bias)) {
      const id = Number(k);
      if (id >= vocab) {
        throw new ApiError(
          400,
          "invalid_value",
          `logit_bias key ${k} is outside the vocabulary (0..${vocab - 1})`,
          `logit_bias.${k}`,
        );
      }
      bias[id] = v;
    }
    p.logitBias = bias;
  }
  return p;
}

/** Stop strings as a list (empty strings dropped). */
export function stopList(stop: string | readonly string[] | null | undefined): string[] {
  if (stop == null) return [];
  return (typeof stop === "string" ? [stop] : [...stop]).filter((s) => s !== "");
}

/** Max tokens: the request's (or `fallback`), capped by the context left after the prompt. */
export function capMaxTokens(
  requested: number | null | undefined,
  fallback: number,
  promptLength: number,
  ctx: number,
): number {
  return Math.max(0, Math.min(requested ?? fallback, ctx - promptLength));
}

/** Text and bytes of one token, for log-probability entries. */
export function tokenPiece(tok: Tokenizer, id: number): { text: string; bytes: number[] } {
  const b = tok.tokenBytes(id);
  return { text: new TextDecoder().decode(b), bytes: [...b] };
}

/** A generation holding a slot. */
export interface SlotGeneration {
  /** The chunks; its return value is the result. Ending it in any way frees the slot. */
  readonly stream: AsyncGenerator<GenerateChunk, GenerateResult>;
  /**
   * Ends the generation early: frees the slot now if the stream never started, else returns
   * the stream (its cleanup frees the slot once the current step ends). Idempotent.
   */
  close(): void;
}

/**
 * Takes a slot (waiting in the queue if needed: rejects with 429 when it is full), then
 * returns the generation stream. The slot is freed when the stream ends, fails, or is
 * returned early; a generation stopped by `signal` counts as cancelled.
 */
export async function startGeneration(
  engine: Engine,
  ready: ReadyEngine,
  job: GenerationJob,
  signal: AbortSignal,
): Promise<SlotGeneration> {
  const lease = await ready.slots.acquire(job.prompt, signal);
  const state = { started: false };
  const stream = run(engine, lease, job, signal, state);
  return {
    stream,
    close: () => {
      if (!state.started) lease.release();
      else stream.return(undefined as unknown as GenerateResult).catch(() => {});
    },
  };
}

async function* run(
  engine: Engine,
  lease: Lease<Session>,
  job: GenerationJob,
  signal: AbortSignal,
  state: { started: boolean },
): AsyncGenerator<GenerateChunk, GenerateResult> {
  state.started = true;
  const m = engine.metrics;
  let finished = false;
  let generated = 0;
  try {
    const it = generate(lease.session, job.prompt, {
      maxTokens: job.maxTokens,
      sampling: job.sampling,
      stop: job.stop,
      signal,
      logprobs: job.logprobs,
      ignoreEos: job.ignoreEos,
    });
    m.promptTokens += job.prompt.length;
    while (true) {
      const r = await it.next();
      if (r.done) {
        finished = true;
        m.generatedTokens += r.value.completionTokens - generated;
        if (r.value.finishReason === "abort") m.cancelled++;
        return r.value;
      }
      if (r.value.token >= 0) {
        generated++;
        m.generatedTokens++;
      }
      yield r.value;
    }
  } finally {
    if (!finished && signal.aborted) m.cancelled++;
    lease.release();
  }
}

/** Runs a generation to the end; returns its chunks and result. */
export async function collect(
  gen: SlotGeneration,
): Promise<{ chunks: GenerateChunk[]; result: GenerateResult }> {
  const chunks: GenerateChunk[] = [];
  try {
    while (true) {
      const r = await gen.stream.next();
      if (r.done) return { chunks, result: r.value };
      chunks.push(r.value);
    }
  } finally {
    gen.close();
  }
}

/** OpenAI finish_reason of a result ("abort" only happens for gone clients: "stop"). */
export function finishReason(r: GenerateResult): "stop" | "length" {
  return r.finishReason === "length" ? "length" : "stop";
}
