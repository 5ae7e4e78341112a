/**
 * HTTP errors in OpenAI's shape: `{ error: { message, type, param, code } }`. `ApiError`
 * carries the status; `toApiError` maps every engine error code (context overflow, invalid
 * argument, tokenizer, abort, ...) to one, and anything unknown to a 500.
 *
 * @module
 */
import { type ErrorFacts, RocmForgeError } from "../core/errors.ts";

/** OpenAI error `code` values this server sends. */
export type ApiErrorCode =
  | "invalid_json"
  | "invalid_value"
  | "invalid_type"
  | "missing_field"
  | "model_not_found"
  | "context_length_exceeded"
  | "request_too_large"
  | "queue_full"
  | "invalid_api_key"
  | "not_found"
  | "method_not_allowed"
  | "model_loading"
  | "shutting_down"
  | "request_cancelled"
  | "request_timeout"
  | "unsupported"
  | "cors_origin_not_allowed"
  | "internal_error";

/** OpenAI error `type` values. */
export type ApiErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "not_found_error"
  | "rate_limit_error"
  | "permission_error"
  | "server_error"
  | "unavailable_error";

/** An error that becomes an HTTP response. */
export class ApiError extends RocmForgeError<ApiErrorCode> {
  constructor(
    /** HTTP status. */
    readonly status: number,
    code: ApiErrorCode,
    message: string,
    /** The request field at fault, e.g. "messages[0].role", or null. */
    readonly param: string | null = null,
    readonly type: ApiErrorType = defaultType(status),
    facts: ErrorFacts = {},
  ) {
    super(code, message, facts);
  }
}

function defaultType(status: number): ApiErrorType {
  if (status === 401) return "authentication_error";
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  if (status === 503) return "unavailable_error";
  return status >= 500 ? "server_error" : "invalid_request_error";
}

/** The JSON body of an error response. */
export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** Sampling-parameter names of the engine (camelCase) as OpenAI request fields. */
const FIELD_NAMES: Readonly<Record<string, string>> = {
  temperature: "temperature",
  topK: "top_k",
  topP: "top_p",
  minP: "min_p",
  typicalP: "typical_p",
  repeatPenalty: "repeat_penalty",
  presencePenalty: "presence_penalty",
  frequencyPenalty: "frequency_penalty",
  penaltyLastN: "repeat_last_n",
  logitBias: "logit_bias",
  seed: "seed",
  maxTokens: "max_tokens",
};

function paramOf(facts: ErrorFacts): string | null {
  const f = facts.field;
  if (typeof f !== "string") return null;
  const base = /^[A-Za-z]+/.exec(f)?.[0] ?? f;
  return FIELD_NAMES[base] !== undefined ? FIELD_NAMES[base] + f.slice(base.length) : f;
}

/** Maps any thrown value to an ApiError. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof RocmForgeError) {
    switch (e.code) {
      case "CONTEXT_OVERFLOW":
        return new ApiError(400, "context_length_exceeded", e.message, null, undefined, e.facts);
      case "INVALID_ARGUMENT":
        return new ApiError(400, "invalid_value", e.message, paramOf(e.facts), undefined, e.facts);
      case "TOKENIZER_BAD_TOKEN":
        return new ApiError(400, "invalid_value", e.message, null, undefined, e.facts);
      case "CHAT_TEMPLATE_RENDER":
        return new ApiError(400, "invalid_value", e.message, "messages", undefined, e.facts);
      case "ABORTED":
        return new ApiError(499, "request_cancelled", e.message, null, "invalid_request_error");
    }
    return new ApiError(500, "internal_error", `${e.code}: ${e.message}`);
  }
  const msg = e instanceof Error ? e.message : String(e);
  return new ApiError(500, "internal_error", `internal error: ${msg}`);
}

/** The OpenAI-shaped body of an error. */
export function errorBody(e: ApiError): ErrorBody {
  return { error: { message: e.message, type: e.type, param: e.param, code: e.code } };
}

/** Seconds a client should wait before retrying a 429 or 503 (the `Retry-After` header). */
export const RETRY_AFTER_S = 1;

/** Headers every error response of `status` carries (`Retry-After` on 429 and 503). */
export function errorHeaders(status: number): Record<string, string> {
  return status === 429 || status === 503 ? { "retry-after": String(RETRY_AFTER_S) } : {};
}

/** A JSON response for an error (`body` reshapes it for llama.cpp or ollama routes). */
export function errorResponse(
  e: unknown,
  headers: Record<string, string> = {},
  body: (e: ApiError) => unknown = errorBody,
): Response {
  const err = toApiError(e);
  return new Response(JSON.stringify(body(err)), {
    status: err.status,
    headers: { "content-type": "application/json", ...errorHeaders(err.status), ...headers },
  });
}

/** An error as llama.cpp's server sends it: `{ error: { code: <status>, message, type } }`. */
export function llamaErrorBody(e: ApiError): unknown {
  const type = e.code === "context_length_exceeded"
    ? "exceed_context_size_error"
    : e.code === "unsupported"
    ? "not_supported_error"
    : e.type;
  const extra = e.code === "context_length_exceeded"
    ? { n_prompt_tokens: e.facts.actual, n_ctx: e.facts.expected }
    : {};
  return { error: { code: e.status, message: e.message, type, param: e.param, ...extra } };
}

/** An error as ollama sends it: `{ error: "message" }`. */
export function ollamaErrorBody(e: ApiError): unknown {
  return { error: e.param ? `${e.message} (field ${e.param})` : e.message };
}
