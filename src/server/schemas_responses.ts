/**
 * zod response schemas of the OpenAI routes and the shared ones (health, errors).
 *
 * @module
 */
import { z } from "../deps/zod.ts";
import { ChatContextUsed } from "./routes_vector_stores_schemas.ts";

/** Token counts. */
export const Usage = z.object({
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  total_tokens: z.number().int(),
  /** Prompt tokens whose keys and values came from the prompt cache. */
  prompt_tokens_details: z.object({ cached_tokens: z.number().int() }).optional(),
});
/** Token counts. */
export type Usage = z.infer<typeof Usage>;

const FinishReason = z.enum(["stop", "length"]).nullable();
/** A chat answer also ends with "tool_calls" when it calls functions. */
const ChatFinishReason = z.enum(["stop", "length", "tool_calls"]).nullable();

/** One call of an answer (`arguments`: JSON text). */
export const ToolCallOut = z.object({
  id: z.string(),
  type: z.literal("function"),
  function: z.object({ name: z.string(), arguments: z.string() }),
});

/** A streamed piece of a call: id, type and name first, then `arguments` text. */
export const ToolCallDelta = z.object({
  index: z.number().int(),
  id: z.string().optional(),
  type: z.literal("function").optional(),
  function: z.object({ name: z.string().optional(), arguments: z.string().optional() }),
});
/** A streamed piece of a call. */
export type ToolCallDelta = z.infer<typeof ToolCallDelta>;

/** Legacy completion log-probabilities (`logprobs: N`). */
export const CompletionLogprobs = z.object({
  tokens: z.array(z.string()),
  token_logprobs: z.array(z.number()),
  top_logprobs: z.array(z.record(z.string(), z.number())),
  text_offset: z.array(z.number().int()),
});
/** Legacy completion log-probabilities. */
export type CompletionLogprobs = z.infer<typeof CompletionLogprobs>;

/** One completion choice (also the shape of streamed chunks). */
export const CompletionChoice = z.object({
  index: z.number().int(),
  text: z.string(),
  logprobs: CompletionLogprobs.nullable(),
  finish_reason: FinishReason,
});

/** POST /v1/completions response, and each streamed chunk. */
export const CompletionResponse = z.object({
  id: z.string(),
  object: z.literal("text_completion"),
  created: z.number().int(),
  model: z.string(),
  system_fingerprint: z.string(),
  choices: z.array(CompletionChoice),
  usage: Usage.optional(),
});
/** POST /v1/completions response. */
export type CompletionResponse = z.infer<typeof CompletionResponse>;

/** One alternative token of chat log-probabilities. */
export const TopLogprob = z.object({
  token: z.string(),
  logprob: z.number(),
  bytes: z.array(z.number().int()).nullable(),
});

/** Chat log-probabilities of one generated token. */
export const TokenLogprob = TopLogprob.extend({ top_logprobs: z.array(TopLogprob) });
/** Chat log-probabilities of one generated token. */
export type TokenLogprob = z.infer<typeof TokenLogprob>;

/** Chat log-probabilities (`logprobs: true`). */
export const ChatLogprobs = z.object({ content: z.array(TokenLogprob) });

/** POST /v1/chat/completions response. */
export const ChatCompletionResponse = z.object({
  id: z.string(),
  object: z.literal("chat.completion"),
  created: z.number().int(),
  model: z.string(),
  system_fingerprint: z.string(),
  choices: z.array(z.object({
    index: z.number().int(),
    message: z.object({
      role: z.literal("assistant"),
      /** null when the answer is only tool calls. */
      content: z.string().nullable(),
      tool_calls: z.array(ToolCallOut).optional(),
    }),
    logprobs: ChatLogprobs.nullable(),
    finish_reason: ChatFinishReason,
  })),
  usage: Usage,
  context: ChatContextUsed.optional(),
});
/** POST /v1/chat/completions response. */
export type ChatCompletionResponse = z.infer<typeof ChatCompletionResponse>;

/** One streamed chat chunk (`data:` line of the SSE stream). */
export const ChatCompletionChunk = z.object({
  id: z.string(),
  object: z.literal("chat.completion.chunk"),
  created: z.number().int(),
  model: z.string(),
  system_fingerprint: z.string(),
  choices: z.array(z.object({
    index: z.number().int(),
    delta: z.object({
      role: z.literal("assistant").optional(),
      content: z.string().optional(),
      tool_calls: z.array(ToolCallDelta).optional(),
    }),
    logprobs: ChatLogprobs.nullable(),
    finish_reason: ChatFinishReason,
  })),
  usage: Usage.nullable().optional(),
  context: ChatContextUsed.optional(),
});
/** One streamed chat chunk. */
export type ChatCompletionChunk = z.infer<typeof ChatCompletionChunk>;

/** GET /v1/models response. */
export const ModelList = z.object({
  object: z.literal("list"),
  data: z.array(z.object({
    id: z.string(),
    object: z.literal("model"),
    created: z.number().int(),
    owned_by: z.string(),
    meta: z.object({
      context_length: z.number().int(),
      vocab_size: z.number().int(),
      embedding_length: z.number().int(),
    }),
  })),
});
/** GET /v1/models response. */
export type ModelList = z.infer<typeof ModelList>;

/** POST /v1/embeddings response. */
export const EmbeddingResponse = z.object({
  object: z.literal("list"),
  data: z.array(z.object({
    object: z.literal("embedding"),
    index: z.number().int(),
    embedding: z.union([z.array(z.number()), z.string()]),
  })),
  model: z.string(),
  usage: z.object({ prompt_tokens: z.number().int(), total_tokens: z.number().int() }),
});
/** POST /v1/embeddings response. */
export type EmbeddingResponse = z.infer<typeof EmbeddingResponse>;

/** POST /tokenize response. */
export const TokenizeResponse = z.object({
  tokens: z.union([
    z.array(z.number().int()),
    z.array(z.object({ id: z.number().int(), piece: z.string() })),
  ]),
});
/** POST /tokenize response. */
export type TokenizeResponse = z.infer<typeof TokenizeResponse>;

/** POST /detokenize response. */
export const DetokenizeResponse = z.object({ content: z.string() });

/** GET /health response. */
export const HealthResponse = z.object({
  status: z.enum(["ok", "loading", "error", "stopping"]),
  slots_idle: z.number().int().optional(),
  slots_processing: z.number().int().optional(),
});
/** GET /health response. */
export type HealthResponse = z.infer<typeof HealthResponse>;

/** Every error response. */
export const ErrorResponse = z.object({
  error: z.object({
    message: z.string(),
    type: z.string(),
    param: z.string().nullable(),
    code: z.string().nullable(),
  }),
});
