/**
 * zod schemas of llama.cpp's native server API: POST /completion, POST /apply-template,
 * GET /props and GET /slots (field names and shapes as tools/server/README.md of llama.cpp
 * documents them; fields this server does not implement are a 400 `unsupported`).
 *
 * @module
 */
import { z } from "../deps/zod.ts";
import {
  ChatMessage,
  ChatTemplateKwargs,
  LogitBias,
  MAX_CHOICES,
  nullish,
  samplerFields,
  TokenId,
  Tool,
} from "./schemas_common.ts";

/** llama.cpp's `logit_bias`: `[[id, bias | false], ...]` or OpenAI's object form. */
export const LlamaLogitBias = z.union([
  LogitBias,
  z.array(z.tuple([TokenId, z.union([z.number().min(-100).max(100), z.literal(false)])])),
]);

/** POST /completion request. */
export const LlamaCompletionRequest = z.strictObject({
  ...samplerFields,
  prompt: z.union([z.string(), z.array(TokenId).min(1), z.array(z.string()).min(1).max(16)]),
  model: z.string().optional(),
  n_predict: nullish(z.number().int().min(-1)),
  stream: nullish(z.boolean()),
  n_probs: nullish(z.number().int().min(0).max(20)),
  id_slot: nullish(z.number().int().min(-1)),
  return_tokens: z.boolean().optional(),
  timings_per_token: z.boolean().optional(),
  n_cmpl: nullish(z.number().int().min(1).max(MAX_CHOICES)),
  logit_bias: nullish(LlamaLogitBias),
});
/** POST /completion request body. */
export type LlamaCompletionRequest = z.infer<typeof LlamaCompletionRequest>;

/** One token's probabilities (`n_probs`). */
export const LlamaTokenProb = z.object({
  id: z.number().int(),
  logprob: z.number(),
  token: z.string(),
  bytes: z.array(z.number().int()),
});

/** Timings of one completion (milliseconds and tokens per second). */
export const LlamaTimings = z.object({
  cache_n: z.number().int(),
  prompt_n: z.number().int(),
  prompt_ms: z.number(),
  prompt_per_token_ms: z.number(),
  prompt_per_second: z.number(),
  predicted_n: z.number().int(),
  predicted_ms: z.number(),
  predicted_per_token_ms: z.number(),
  predicted_per_second: z.number(),
});

/** POST /completion response (one per prompt and choice), and each streamed event. */
export const LlamaCompletionResponse = z.object({
  index: z.number().int(),
  content: z.string(),
  tokens: z.array(z.number().int()),
  id_slot: z.number().int(),
  stop: z.boolean(),
  model: z.string(),
  stop_type: z.enum(["none", "eos", "limit", "word"]).optional(),
  stopping_word: z.string().optional(),
  tokens_predicted: z.number().int().optional(),
  tokens_evaluated: z.number().int().optional(),
  tokens_cached: z.number().int().optional(),
  truncated: z.boolean().optional(),
  prompt: z.string().optional(),
  generation_settings: z.record(z.string(), z.unknown()).optional(),
  timings: LlamaTimings.optional(),
  completion_probabilities: z.array(
    LlamaTokenProb.extend({ top_logprobs: z.array(LlamaTokenProb) }),
  )
    .optional(),
});
/** POST /completion response. */
export type LlamaCompletionResponse = z.infer<typeof LlamaCompletionResponse>;

/** POST /apply-template request. */
export const ApplyTemplateRequest = z.strictObject({
  messages: z.array(ChatMessage).min(1),
  tools: nullish(z.array(Tool).min(1).max(128)),
  chat_template_kwargs: nullish(ChatTemplateKwargs),
});
/** POST /apply-template request body. */
export type ApplyTemplateRequest = z.infer<typeof ApplyTemplateRequest>;

/** POST /apply-template response. */
export const ApplyTemplateResponse = z.object({ prompt: z.string() });

/** One slot in GET /slots. */
export const SlotInfo = z.object({
  id: z.number().int(),
  n_ctx: z.number().int(),
  is_processing: z.boolean(),
  /** Tokens whose KV the slot holds (its prompt cache). */
  n_cached: z.number().int(),
});
/** GET /slots response. */
export const SlotsResponse = z.array(SlotInfo);

/** GET /props response. */
export const PropsResponse = z.object({
  default_generation_settings: z.object({
    n_ctx: z.number().int(),
    params: z.record(z.string(), z.unknown()),
  }),
  total_slots: z.number().int(),
  model_path: z.string(),
  model_alias: z.string(),
  chat_template: z.string(),
  modalities: z.object({ vision: z.boolean(), audio: z.boolean() }),
  build_info: z.string(),
  is_sleeping: z.boolean(),
});
/** GET /props response. */
export type PropsResponse = z.infer<typeof PropsResponse>;
