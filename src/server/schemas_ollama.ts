/**
 * zod schemas of ollama's API: /api/generate, /api/chat (NDJSON streaming by default),
 * /api/embed, /api/tags, /api/show, /api/ps, /api/version, with `options` (num_ctx,
 * num_predict, temperature, seed, top_k, top_p, min_p, typical_p, repeat_penalty,
 * repeat_last_n, presence_penalty, frequency_penalty, stop), `format` ("json" or a JSON
 * Schema) on both and `tools` on /api/chat. Anything else is a 400 `unsupported` naming the
 * field.
 *
 * @module
 */
import { z } from "../deps/zod.ts";
import { Tool } from "./schemas_common.ts";

/** `options` of a generating request. */
export const OllamaOptions = z.strictObject({
  num_ctx: z.number().int().min(1).optional(),
  num_predict: z.number().int().min(-2).optional(),
  temperature: z.number().min(0).max(2).optional(),
  seed: z.number().int().min(-1).max(0xffffffff).optional(),
  top_k: z.number().int().min(0).optional(),
  top_p: z.number().min(0).max(1).optional(),
  min_p: z.number().min(0).max(1).optional(),
  typical_p: z.number().min(0).max(1).optional(),
  repeat_penalty: z.number().positive().optional(),
  repeat_last_n: z.number().int().min(-1).optional(),
  presence_penalty: z.number().min(-2).max(2).optional(),
  frequency_penalty: z.number().min(-2).max(2).optional(),
  stop: z.array(z.string()).max(16).optional(),
});
/** `options`. */
export type OllamaOptions = z.infer<typeof OllamaOptions>;

/** `keep_alive`: accepted for compatibility; the served model always stays loaded. */
const KeepAlive = z.union([z.string(), z.number()]).optional();

/** `format`: any JSON ("json") or JSON matching a schema. */
export const OllamaFormat = z.union([z.literal("json"), z.record(z.string(), z.unknown())]);
/** `format`. */
export type OllamaFormat = z.infer<typeof OllamaFormat>;

/** One call in an assistant message (arguments as an object). */
export const OllamaToolCall = z.strictObject({
  function: z.strictObject({
    name: z.string().min(1),
    arguments: z.record(z.string(), z.unknown()),
    index: z.number().int().min(0).optional(),
  }),
});

/** POST /api/generate request. */
export const OllamaGenerateRequest = z.strictObject({
  model: z.string(),
  prompt: z.string().optional(),
  system: z.string().optional(),
  raw: z.boolean().optional(),
  stream: z.boolean().optional(),
  options: OllamaOptions.optional(),
  format: OllamaFormat.optional().describe('"json" or a JSON Schema the answer matches'),
  keep_alive: KeepAlive,
});
/** POST /api/generate request body. */
export type OllamaGenerateRequest = z.infer<typeof OllamaGenerateRequest>;

/** An ollama chat message. */
export const OllamaMessage = z.strictObject({
  role: z.enum(["system", "user", "assistant", "tool"]),
  content: z.string(),
  tool_calls: z.array(OllamaToolCall).optional(),
  /** A tool message: the function whose result this is. */
  tool_name: z.string().optional(),
});

/** POST /api/chat request. */
export const OllamaChatRequest = z.strictObject({
  model: z.string(),
  messages: z.array(OllamaMessage),
  stream: z.boolean().optional(),
  options: OllamaOptions.optional(),
  format: OllamaFormat.optional().describe('"json" or a JSON Schema the answer matches'),
  /** Functions the model may call (as OpenAI's `tools`; the model chooses, as ollama does). */
  tools: z.array(Tool).max(128).optional().describe(
    "functions the model may call; calls come back in message.tool_calls",
  ),
  keep_alive: KeepAlive,
});
/** POST /api/chat request body. */
export type OllamaChatRequest = z.infer<typeof OllamaChatRequest>;

/** POST /api/embed request. */
export const OllamaEmbedRequest = z.strictObject({
  model: z.string(),
  input: z.union([z.string(), z.array(z.string()).min(1).max(256)]),
  truncate: z.boolean().optional(),
  keep_alive: KeepAlive,
});
/** POST /api/embed request body. */
export type OllamaEmbedRequest = z.infer<typeof OllamaEmbedRequest>;

/** POST /api/show request. */
export const OllamaShowRequest = z.strictObject({
  model: z.string().optional(),
  name: z.string().optional(),
  verbose: z.boolean().optional(),
});

/** Timing and count fields of a final generate/chat object (durations in ns). */
const OllamaStats = {
  total_duration: z.number().int().optional(),
  load_duration: z.number().int().optional(),
  prompt_eval_count: z.number().int().optional(),
  prompt_eval_duration: z.number().int().optional(),
  eval_count: z.number().int().optional(),
  eval_duration: z.number().int().optional(),
  done_reason: z.enum(["stop", "length", "load"]).optional(),
};

/** POST /api/generate response, and each NDJSON line. */
export const OllamaGenerateResponse = z.object({
  model: z.string(),
  created_at: z.string(),
  response: z.string(),
  done: z.boolean(),
  ...OllamaStats,
});

/** POST /api/chat response, and each NDJSON line. */
export const OllamaChatResponse = z.object({
  model: z.string(),
  created_at: z.string(),
  message: z.object({
    role: z.literal("assistant"),
    content: z.string(),
    tool_calls: z.array(OllamaToolCall).optional(),
  }),
  done: z.boolean(),
  ...OllamaStats,
});

/** POST /api/embed response. */
export const OllamaEmbedResponse = z.object({
  model: z.string(),
  embeddings: z.array(z.array(z.number())),
  total_duration: z.number().int(),
  prompt_eval_count: z.number().int(),
});

const ModelDetails = z.object({
  format: z.literal("gguf"),
  family: z.string(),
  families: z.array(z.string()),
  parameter_size: z.string(),
  quantization_level: z.string(),
});

/** One model of /api/tags and /api/ps. */
export const OllamaModel = z.object({
  name: z.string(),
  model: z.string(),
  modified_at: z.string(),
  size: z.number().int(),
  digest: z.string(),
  details: ModelDetails,
  expires_at: z.string().optional(),
  size_vram: z.number().int().optional(),
});

/** GET /api/tags and /api/ps response. */
export const OllamaModelList = z.object({ models: z.array(OllamaModel) });

/** POST /api/show response. */
export const OllamaShowResponse = z.object({
  modelfile: z.string(),
  parameters: z.string(),
  template: z.string(),
  details: ModelDetails,
  model_info: z.record(z.string(), z.unknown()),
  capabilities: z.array(z.string()),
});

/** GET /api/version response. */
export const OllamaVersionResponse = z.object({ version: z.string() });
