/**
 * zod request schemas of the OpenAI routes and the pieces the llama.cpp and ollama schemas
 * share. Objects are strict: a field this server does not implement is a 400 `unsupported`
 * naming it (see `UNSUPPORTED` for the reason given for well-known ones), never ignored.
 *
 * @module
 */
import { z } from "../deps/zod.ts";
import { ChatContextRequest } from "./routes_vector_stores_schemas.ts";

const TOKEN_KEY = /^(0|[1-9][0-9]{0,9})$/;

/** `.nullable().optional()`: OpenAI clients send null for "not set". */
export const nullish = <T extends z.ZodType>(t: T) => t.nullable().optional();

/** Known request fields this server refuses, with the reason the 400 gives. */
export const UNSUPPORTED: Readonly<Record<string, string>> = {
  functions: "the deprecated function calling fields are not supported: use tools",
  function_call: "the deprecated function calling fields are not supported: use tool_choice",
  suffix: "fill-in-the-middle is not supported",
  best_of: "best_of is not supported",
  images: "images are not supported",
  lora: "LoRA adapters are not supported",
};

/** A token id. */
export const TokenId = z.number().int().min(0).max(0x7fffffff);

/** `stop`: one string or up to 16. */
export const Stop = z.union([z.string(), z.array(z.string()).max(16)]);

/** `logit_bias`: token id (decimal string) -> bias in [-100, 100]. */
export const LogitBias = z.record(
  z.string().regex(TOKEN_KEY, "keys must be token ids (decimal integers)"),
  z.number().min(-100).max(100),
);

/** Most choices per prompt (`n`). */
export const MAX_CHOICES = 16;

/** A lazy grammar trigger as llama.cpp's server reads it (`token` only for type 0). */
export const GrammarTrigger = z.strictObject({
  type: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]),
  value: z.string(),
  token: TokenId.optional(),
}).refine((t) => (t.type === 0) === (t.token !== undefined), {
  message: "type 0 (token) triggers need token; the others take value only",
});
/** A lazy grammar trigger. */
export type GrammarTrigger = z.infer<typeof GrammarTrigger>;

/** Sampling fields shared by every generating route (OpenAI and llama.cpp names). */
export const samplerFields = {
  temperature: nullish(z.number().min(0).max(2)),
  top_p: nullish(z.number().min(0).max(1)),
  top_k: nullish(z.number().int().min(0)),
  min_p: nullish(z.number().min(0).max(1)),
  typical_p: nullish(z.number().min(0).max(1)),
  repeat_penalty: nullish(z.number().positive()),
  repeat_last_n: nullish(z.number().int().min(-1)),
  presence_penalty: nullish(z.number().min(-2).max(2)),
  frequency_penalty: nullish(z.number().min(-2).max(2)),
  seed: nullish(z.number().int().min(-1).max(0xffffffff)),
  stop: nullish(Stop),
  ignore_eos: z.boolean().optional(),
  cache_prompt: z.boolean().optional(),
  /** llama.cpp's GBNF grammar constraining the answer. */
  grammar: nullish(z.string()).describe(
    "llama.cpp's GBNF grammar: the answer follows it (400 with param grammar if it does not parse)",
  ),
  /** llama.cpp's lazy grammar: `grammar` / `json_schema` applies from a trigger on. */
  grammar_lazy: z.boolean().optional().describe(
    "llama.cpp's lazy grammar: grammar or json_schema constrains from the first trigger on",
  ),
  /** llama.cpp's triggers: type 0 token (`token`), 1 word, 2 pattern, 3 whole-output pattern. */
  grammar_triggers: nullish(z.array(GrammarTrigger).max(64)).describe(
    "llama.cpp's lazy grammar triggers: {type: 0, token} a token id, {type: 1, value} a word, " +
      "{type: 2, value} a regular expression (constrained from its first capture group), " +
      "{type: 3, value} a regular expression matching the whole output",
  ),
  /** llama.cpp's JSON Schema constraining the answer (`{}`: any JSON value). */
  json_schema: nullish(z.record(z.string(), z.unknown())).describe(
    "llama.cpp's JSON Schema: the answer is JSON matching it ({}: any JSON value); at most one of " +
      "response_format, json_schema and grammar",
  ),
};

/** A JSON Schema object (as request data). */
const SchemaObject = z.record(z.string(), z.unknown());

/**
 * OpenAI's `response_format`: free text, any JSON object, or JSON matching a schema; plus
 * llama.cpp's spellings: `{"type": "json_object", "schema": S}` and
 * `{"type": "json_schema", "schema": S}` (schema at the top level).
 */
export const ResponseFormat = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("text") }),
  z.strictObject({ type: z.literal("json_object"), schema: SchemaObject.optional() }),
  z.strictObject({
    type: z.literal("json_schema"),
    json_schema: z.strictObject({
      // name (OpenAI requires it) and description label the format; the grammar comes from
      // `schema` alone, as in llama.cpp's server.
      name: z.string().min(1).max(64),
      description: z.string().optional(),
      schema: SchemaObject.optional(),
      /** true (default here): a keyword the grammar cannot enforce is a 400. */
      strict: nullish(z.boolean()),
    }).optional(),
    /** llama.cpp's spelling: the schema beside `type` instead of in `json_schema`. */
    schema: SchemaObject.optional(),
  }),
]);
/** OpenAI's `response_format`. */
export type ResponseFormat = z.infer<typeof ResponseFormat>;

/** Fields shared by /v1/completions and /v1/chat/completions. */
const samplingFields = {
  response_format: nullish(ResponseFormat),
  ...samplerFields,
  model: z.string().optional(),
  max_tokens: nullish(z.number().int().min(0)),
  stream: nullish(z.boolean()),
  stream_options: nullish(z.strictObject({ include_usage: z.boolean().optional() })),
  logit_bias: nullish(LogitBias),
  n: nullish(z.number().int().min(1).max(MAX_CHOICES)),
  user: z.string().optional(),
};

/** POST /v1/completions request. */
export const CompletionRequest = z.strictObject({
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
export const TextPart = z.strictObject({ type: z.literal("text"), text: z.string() });

/** A function name as OpenAI allows it. */
export const FunctionName = z.string().regex(
  /^[A-Za-z0-9_-]{1,64}$/,
  "function names are 1 to 64 letters, digits, '_' or '-'",
);

/** One call of an assistant message (`arguments`: the JSON text of an object). */
export const MessageToolCall = z.strictObject({
  id: z.string().min(1),
  type: z.literal("function"),
  function: z.strictObject({ name: z.string().min(1), arguments: z.string() }),
});
/** One call of an assistant message. */
export type MessageToolCall = z.infer<typeof MessageToolCall>;

/** A chat message (an assistant's `tool_calls`; a tool result's `tool_call_id`). */
export const ChatMessage = z.strictObject({
  role: z.enum(["system", "developer", "user", "assistant", "tool"]),
  content: z.union([z.string(), z.array(TextPart), z.null()]).optional(),
  name: z.string().optional(),
  tool_calls: nullish(z.array(MessageToolCall)),
  tool_call_id: z.string().optional(),
  /** An assistant message's refusal, as the openai client sends it back (null: none). */
  refusal: z.null().optional(),
});
/** A chat message. */
export type ChatMessage = z.infer<typeof ChatMessage>;

/** A function the model may call (OpenAI's `tools[]`). */
export const Tool = z.strictObject({
  type: z.literal("function"),
  function: z.strictObject({
    name: FunctionName,
    description: z.string().optional(),
    /** JSON Schema of the arguments object; the call's arguments are constrained to it. */
    parameters: z.record(z.string(), z.unknown()).optional(),
    /** Accepted: arguments always follow `parameters` here. */
    strict: nullish(z.boolean()),
  }),
});
/** A function the model may call. */
export type Tool = z.infer<typeof Tool>;

/** OpenAI's `tool_choice`. */
export const ToolChoice = z.union([
  z.enum(["none", "auto", "required"]),
  z.strictObject({ type: z.literal("function"), function: z.strictObject({ name: z.string() }) }),
]);
/** OpenAI's `tool_choice`. */
export type ToolChoice = z.infer<typeof ToolChoice>;

/** Template variables a chat template must keep as the server sets them. */
export const RESERVED_TEMPLATE_VARIABLES = [
  "messages",
  "tools",
  "bos_token",
  "eos_token",
  "add_generation_prompt",
] as const;

/** llama.cpp's `chat_template_kwargs`: more variables for the chat template. */
export const ChatTemplateKwargs = z.record(z.string(), z.unknown()).refine(
  (o) => !RESERVED_TEMPLATE_VARIABLES.some((k) => k in o),
  { message: `the server sets ${RESERVED_TEMPLATE_VARIABLES.join(", ")} itself` },
).describe(
  'more chat template variables, as llama.cpp\'s server takes them (e.g. {"enable_thinking": false})',
);

/** POST /v1/chat/completions request. */
export const ChatCompletionRequest = z.strictObject({
  ...samplingFields,
  messages: z.array(ChatMessage).min(1),
  max_completion_tokens: nullish(z.number().int().min(0)),
  logprobs: nullish(z.boolean()),
  top_logprobs: nullish(z.number().int().min(0).max(20)),
  chat_template_kwargs: nullish(ChatTemplateKwargs),
  tools: nullish(z.array(Tool).min(1).max(128)).describe(
    "functions the model may call: rendered through the chat template (or described in the " +
      "system message when it cannot), calls constrained to each function's parameters schema",
  ),
  tool_choice: nullish(ToolChoice).describe(
    '"auto" (default: a lazy grammar starts at the call marker), "none", "required" or a named ' +
      "function (constrained from the first token)",
  ),
  /** Several calls in one answer (default true, as OpenAI) where the template allows it. */
  parallel_tool_calls: nullish(z.boolean()).describe(
    "several calls in one answer (default true) where the chat template can render them",
  ),
  /** llama.cpp's: false leaves calls in the content as the model wrote them (default true). */
  parse_tool_calls: nullish(z.boolean()).describe(
    "false: the answer's calls stay in content as the model wrote them (default true)",
  ),
  context: nullish(ChatContextRequest),
});
/** POST /v1/chat/completions request body. */
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequest>;

/** Embedding input: a string, token ids, or a list of either. */
export const EmbeddingInput = z.union([
  z.string(),
  z.array(z.string()).min(1).max(256),
  z.array(TokenId).min(1),
  z.array(z.array(TokenId).min(1)).min(1).max(256),
]);

/** POST /v1/embeddings request. */
export const EmbeddingRequest = z.strictObject({
  model: z.string().optional(),
  input: EmbeddingInput,
  encoding_format: z.enum(["float", "base64"]).optional(),
  /** Must equal the model's embedding size when given (no truncation is done). */
  dimensions: nullish(z.number().int().min(1)),
  user: z.string().optional(),
});
/** POST /v1/embeddings request body. */
export type EmbeddingRequest = z.infer<typeof EmbeddingRequest>;

/** POST /tokenize request (llama.cpp server shape). */
export const TokenizeRequest = z.strictObject({
  content: z.string(),
  add_special: z.boolean().optional(),
  parse_special: z.boolean().optional(),
  with_pieces: z.boolean().optional(),
});
/** POST /tokenize request body. */
export type TokenizeRequest = z.infer<typeof TokenizeRequest>;

/** POST /detokenize request (llama.cpp server shape). */
export const DetokenizeRequest = z.strictObject({ tokens: z.array(TokenId) });
/** POST /detokenize request body. */
export type DetokenizeRequest = z.infer<typeof DetokenizeRequest>;
