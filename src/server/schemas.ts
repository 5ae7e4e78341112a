/**
 * zod schemas: the single source of the server's request and response types (routes use the
 * inferred types; /openapi.json is generated from the same schemas). Requests accept the
 * OpenAI fields this engine honours plus a few llama.cpp extensions (top_k, min_p,
 * typical_p, repeat_penalty, ignore_eos); unknown fields are ignored.
 *
 * @module
 */
import { z } from "zod";

const TOKEN_KEY = /^(0|[1-9][0-9]{0,9})$/;

const nullish = <T extends z.ZodType>(t: T) => t.nullable().optional();

/** A token id. */
export const TokenId = z.number().int().min(0).max(0x7fffffff);

/** `stop`: one string or up to 16. */
export const Stop = z.union([z.string(), z.array(z.string()).max(16)]);

/** `logit_bias`: token id (decimal string) -> bias in [-100, 100]. */
export const LogitBias = z.record(
  z.string().regex(TOKEN_KEY, "keys must be token ids (decimal integers)"),
  z.number().min(-100).max(100),
);

/** Fields shared by /v1/completions and /v1/chat/completions. */
const samplingFields = {
  model: z.string().optional(),
  max_tokens: nullish(z.number().int().min(0)),
  temperature: nullish(z.number().min(0).max(2)),
  top_p: nullish(z.number().min(0).max(1)),
  top_k: nullish(z.number().int().min(0)),
  min_p: nullish(z.number().min(0).max(1)),
  typical_p: nullish(z.number().min(0).max(1)),
  repeat_penalty: nullish(z.number().positive()),
  presence_penalty: nullish(z.number().min(-2).max(2)),
  frequency_penalty: nullish(z.number().min(-2).max(2)),
  seed: nullish(z.number().int().min(-1).max(0xffffffff)),
  stop: nullish(Stop),
  stream: nullish(z.boolean()),
  stream_options: nullish(z.object({ include_usage: z.boolean().optional() })),
  logit_bias: nullish(LogitBias),
  n: nullish(z.number().int().min(1).max(1)),
  user: z.string().optional(),
  ignore_eos: z.boolean().optional(),
};

/** POST /v1/completions request. */
export const CompletionRequest = z.object({
  ...samplingFields,
  prompt: z.union([
    z.string(),
    z.array(z.string()).min(1).max(16),
    z.array(TokenId).min(1),
  ]),
  echo: nullish(z.boolean()),
  logprobs: nullish(z.number().int().min(0).max(20)),
});
/** POST /v1/completions request body. */
export type CompletionRequest = z.infer<typeof CompletionRequest>;

/** One part of a message's content (text only). */
export const TextPart = z.object({ type: z.literal("text"), text: z.string() });

/** A chat message. */
export const ChatMessage = z.object({
  role: z.enum(["system", "developer", "user", "assistant", "tool"]),
  content: z.union([z.string(), z.array(TextPart), z.null()]).optional(),
  name: z.string().optional(),
});
/** A chat message. */
export type ChatMessage = z.infer<typeof ChatMessage>;

/** POST /v1/chat/completions request. */
export const ChatCompletionRequest = z.object({
  ...samplingFields,
  messages: z.array(ChatMessage).min(1),
  max_completion_tokens: nullish(z.number().int().min(0)),
  logprobs: nullish(z.boolean()),
  top_logprobs: nullish(z.number().int().min(0).max(20)),
});
/** POST /v1/chat/completions request body. */
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequest>;

/** POST /v1/embeddings request. */
export const EmbeddingRequest = z.object({
  model: z.string().optional(),
  input: z.union([
    z.string(),
    z.array(z.string()).min(1).max(256),
    z.array(TokenId).min(1),
    z.array(z.array(TokenId).min(1)).min(1).max(256),
  ]),
  encoding_format: z.enum(["float", "base64"]).optional(),
  user: z.string().optional(),
});
/** POST /v1/embeddings request body. */
export type EmbeddingRequest = z.infer<typeof EmbeddingRequest>;

/** POST /tokenize request (llama.cpp server shape). */
export const TokenizeRequest = z.object({
  content: z.string(),
  add_special: z.boolean().optional(),
  parse_special: z.boolean().optional(),
  with_pieces: z.boolean().optional(),
});
/** POST /tokenize request body. */
export type TokenizeRequest = z.infer<typeof TokenizeRequest>;

/** POST /detokenize request (llama.cpp server shape). */
export const DetokenizeRequest = z.object({ tokens: z.array(TokenId) });
/** POST /detokenize request body. */
export type DetokenizeRequest = z.infer<typeof DetokenizeRequest>;

// ---------------------------------------------------------------- responses

/** Token counts. */
export const Usage = z.object({
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  total_tokens: z.number().int(),
});
/** Token counts. */
export type Usage = z.infer<typeof Usage>;

const FinishReason = z.enum(["stop", "length"]).nullable();

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
  choices: z.array(z.object({
    index: z.number().int(),
    message: z.object({ role: z.literal("assistant"), content: z.string() }),
    logprobs: ChatLogprobs.nullable(),
    finish_reason: FinishReason,
  })),
  usage: Usage,
});
/** POST /v1/chat/completions response. */
export type ChatCompletionResponse = z.infer<typeof ChatCompletionResponse>;

/** One streamed chat chunk (`data:` line of the SSE stream). */
export const ChatCompletionChunk = z.object({
  id: z.string(),
  object: z.literal("chat.completion.chunk"),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(z.object({
    index: z.number().int(),
    delta: z.object({ role: z.literal("assistant").optional(), content: z.string().optional() }),
    logprobs: ChatLogprobs.nullable(),
    finish_reason: FinishReason,
  })),
  usage: Usage.nullable().optional(),
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
