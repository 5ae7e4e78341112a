/**
 * What the completion routes share: request fields -> generation options (sampling, stop,
 * capped max tokens, validated logit bias), prompt and model checks, and the choices of a
 * request expanded for `n` (choice i > 0 samples with seed + i).
 *
 * @module
 */
import { responseFormatGrammar } from "../chat/constrain.ts";
import type { Grammar } from "../grammar/grammar.ts";
import { GrammarError, JsonSchemaError } from "../grammar/errors.ts";
import type { SamplingParams } from "../samplers/params.ts";
import type { Tokenizer } from "../tokenizers/types.ts";
import type { Engine, ReadyEngine } from "./engine.ts";
import { ApiError } from "./errors.ts";
import type { CompletionRequest, GrammarTrigger, ResponseFormat } from "./schemas.ts";

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
  /** Reuse a cached prompt prefix (default true); false evaluates the prompt afresh. */
  readonly cachePrompt?: boolean;
  /** Constrains the answer (see constraintGrammar); the grammar sampler runs before `sampling`. */
  readonly grammar?: Grammar;
  /** With `grammar`: it stays inactive until one of these strings appears (lazy, for tools). */
  readonly grammarTriggers?: readonly string[];
  /** Lazy: ... or one of these regular expressions matches the output (llama.cpp's patterns). */
  readonly grammarTriggerPatterns?: readonly string[];
  /** Lazy: ... or one of these tokens is generated. */
  readonly grammarTriggerTokens?: readonly number[];
}

/** The fields that constrain an answer: OpenAI's `response_format`, llama.cpp's two. */
export interface ConstraintFields {
  response_format?: ResponseFormat | null;
  grammar?: string | null;
  json_schema?: Record<string, unknown> | null;
}

/** ConstraintFields plus llama.cpp's lazy grammar. */
export interface LazyConstraintFields extends ConstraintFields {
  grammar_lazy?: boolean;
  grammar_triggers?: readonly GrammarTrigger[] | null;
}

/** The job fields of a request's constraint (constraintGrammar), lazy as llama.cpp's server. */
export function constraintOf(
  body: LazyConstraintFields,
  vocab: number,
): Pick<
  GenerationJob,
  "grammar" | "grammarTriggers" | "grammarTriggerPatterns" | "grammarTriggerTokens"
> {
  const grammar = constraintGrammar(body);
  const triggers = body.grammar_triggers ?? [];
  if (!body.grammar_lazy) {
    if (triggers.length > 0) {
      throw new ApiError(
        400,
        "invalid_value",
        "grammar_triggers need grammar_lazy: true",
        "grammar_triggers",
      );
    }
    return grammar ? { grammar } : {};
  }
  if (!grammar) {
    throw new ApiError(
      400,
      "invalid_value",
      "grammar_lazy needs grammar or json_schema",
      "grammar_lazy",
    );
  }
  if (triggers.length === 0) {
    throw new ApiError(
      400,
      "invalid_value",
      "no triggers set for lazy grammar",
      "grammar_triggers",
    );
  }
  const words: string[] = [], patterns: string[] = [], tokens: number[] = [];
  triggers.forEach((t, i) => {
    const param = `grammar_triggers[${i}]`;
    if (t.type === 0) {
      checkTokenIds([t.token!], vocab, `${param}.token`);
      tokens.push(t.token!);
      return;
    }
    if (t.value === "") {
      throw new ApiError(400, "invalid_value", `${param}.value is empty`, `${param}.value`);
    }
    if (t.type === 1) return void words.push(t.value);
    // A whole-output pattern is anchored at both ends, as llama.cpp anchors it.
    const p = t.type === 2
      ? t.value
      : `${t.value.startsWith("^") ? "" : "^"}${t.value}${t.value.endsWith("$") ? "" : "$"}`;
    try {
      new RegExp(p);
    } catch (e) {
      throw new ApiError(
        400,
        "invalid_value",
        `${param}.value: ${(e as Error).message}`,
        `${param}.value`,
      );
    }
    patterns.push(p);
  });
  return {
    grammar,
    grammarTriggers: words,
    grammarTriggerPatterns: patterns,
    grammarTriggerTokens: tokens,
  };
}

/** 400 naming `param` for a schema or grammar the engine cannot enforce. */
function invalid(e: unknown, param: string): never {
  if (e instanceof JsonSchemaError || e instanceof GrammarError) {
    throw new ApiError(400, "invalid_value", `${param}: ${e.message}`, param);
  }
  throw e;
}

/**
 * The grammar of a request's constraint (none without one, or for response_format "text"):
 * `response_format`, llama.cpp's `json_schema` or its GBNF `grammar`, at most one of them. A
 * schema the converter cannot enforce or a grammar that does not parse is a 400 naming it.
 */
export function constraintGrammar(body: ConstraintFields): Grammar | undefined {
  const given = (["response_format", "json_schema", "grammar"] as const).filter((k) =>
    body[k] != null && !(k === "response_format" && body.response_format?.type === "text")
  );
  if (given.length > 1) {
    throw new ApiError(
      400,
      "invalid_value",
      `${given.join(" and ")} both constrain the answer: give one`,
      given[1],
    );
  }
  const format = body.response_format;
  try {
    if (body.grammar != null) {
      return responseFormatGrammar({ type: "grammar", grammar: body.grammar });
    }
  } catch (e) {
    invalid(e, "grammar");
  }
  try {
    if (body.json_schema != null) {
      return responseFormatGrammar({ type: "json_schema", schema: body.json_schema });
    }
  } catch (e) {
    invalid(e, "json_schema");
  }
  if (!format || format.type === "text") return undefined;
  if (
    format.type === "json_schema" &&
    (format.json_schema === undefined) === (format.schema === undefined)
  ) {
    throw new ApiError(
      400,
      "invalid_value",
      "response_format json_schema needs json_schema: {name, schema} or (llama.cpp's) schema, one of them",
      "response_format.json_schema",
    );
  }
  try {
    if (format.type === "json_object") {
      return format.schema === undefined
        ? responseFormatGrammar({ type: "json_object" })
        : responseFormatGrammar({ type: "json_schema", schema: format.schema });
    }
    const js = format.json_schema;
    return responseFormatGrammar(
      { type: "json_schema", schema: js?.schema ?? format.schema ?? {} },
      { strict: js?.strict !== false },
    );
  } catch (e) {
    invalid(e, "response_format");
  }
}

/**
 * The `n` choices of one prompt: the same job, choice i > 0 with seed + i when a seed is
 * given (else each draws its own random seed). Run in one slot one after another, they share
 * the prompt's KV cache: every choice after the first evaluates only the last prompt token.
 */
export function expandChoices(job: GenerationJob, n: number): GenerationJob[] {
  return Array.from({ length: n }, (_, i) => {
    const seed = job.sampling.seed;
    if (i === 0 || seed === undefined || seed < 0) return job;
    return { ...job, sampling: { ...job.sampling, seed: (seed + i) % 0x1_0000_0000 } };
  });
}

/**
 * Any model name is served unless the engine is strict (`--strict-model`): then 404 unless
 * `model` is absent or names the loaded model (id, path or file name).
 */
export function checkModel(engine: Engine, ready: ReadyEngine, model: string | undefined): void {
  if (model === undefined || model === "" || !engine.opts.strictModel) return;
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

/** The sampling fields of a request, in OpenAI / llama.cpp names. */
export type SamplerFields = Partial<
  Pick<
    CommonFields,
    | "temperature"
    | "top_p"
    | "top_k"
    | "min_p"
    | "typical_p"
    | "repeat_penalty"
    | "repeat_last_n"
    | "presence_penalty"
    | "frequency_penalty"
    | "seed"
    | "logit_bias"
  >
>;

/** Sampling parameters from the request (omitted fields keep the engine defaults). */
export function samplingFrom(body: SamplerFields, vocab: number): SamplingParams {
  const p: SamplingParams = {};
  if (body.temperature != null) p.temperature = body.temperature;
  if (body.top_p != null) p.topP = body.top_p;
  if (body.top_k != null) p.topK = body.top_k;
  if (body.min_p != null) p.minP = body.min_p;
  if (body.typical_p != null) p.typicalP = body.typical_p;
  if (body.repeat_penalty != null) p.repeatPenalty = body.repeat_penalty;
  if (body.repeat_last_n != null) p.penaltyLastN = body.repeat_last_n;
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
