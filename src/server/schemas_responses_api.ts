/**
 * zod schemas of OpenAI's Responses API subset this server implements: text in (a string, or
 * messages whose content is text, plus `function_call` and `function_call_output` items),
 * text and function calls out (function tools, `tool_choice`, `parallel_tool_calls`),
 * structured output (`text.format`: `json_schema`, `json_object`), streaming. Other tool
 * types, reasoning, stored responses (`previous_response_id`, `store: true`), `text.verbosity`
 * and other fields are a 400 `unsupported`.
 *
 * @module
 */
import { z } from "../deps/zod.ts";
import { FunctionName, nullish, samplerFields } from "./schemas_common.ts";

const InputText = z.strictObject({
  type: z.enum(["input_text", "output_text"]),
  text: z.string(),
});

/** One input message. */
export const ResponseInputMessage = z.strictObject({
  type: z.literal("message").optional(),
  role: z.enum(["system", "developer", "user", "assistant"]),
  content: z.union([z.string(), z.array(InputText)]),
});

const ItemStatus = z.enum(["in_progress", "completed", "incomplete"]);

/** A call the model made, sent back as input (`arguments`: JSON text). */
export const ResponseFunctionCallItem = z.strictObject({
  type: z.literal("function_call"),
  id: z.string().optional(),
  call_id: z.string().min(1),
  name: z.string().min(1),
  arguments: z.string(),
  status: nullish(ItemStatus),
});

/** A call's result. */
export const ResponseFunctionCallOutputItem = z.strictObject({
  type: z.literal("function_call_output"),
  id: nullish(z.string()),
  call_id: z.string().min(1),
  output: z.union([z.string(), z.array(InputText)]),
  status: nullish(ItemStatus),
});

/** One input item. */
export const ResponseInputItem = z.union([
  ResponseInputMessage,
  ResponseFunctionCallItem,
  ResponseFunctionCallOutputItem,
]);
/** One input item. */
export type ResponseInputItem = z.infer<typeof ResponseInputItem>;

/** A function tool (the Responses API's flat shape). */
export const ResponseFunctionTool = z.strictObject({
  type: z.literal("function"),
  name: FunctionName,
  description: nullish(z.string()),
  /** JSON Schema of the arguments object; the call's arguments are constrained to it. */
  parameters: nullish(z.record(z.string(), z.unknown())),
  /** Accepted: arguments always follow `parameters` here. */
  strict: nullish(z.boolean()),
});

/**
 * `text.format`: free text, any JSON object, or JSON matching `schema` (enforced by a grammar,
 * as /v1/chat/completions' `response_format`; `name` and `description` only label it).
 */
export const ResponseTextFormat = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("text") }),
  z.strictObject({ type: z.literal("json_object") }),
  z.strictObject({
    type: z.literal("json_schema"),
    name: z.string().min(1).max(64),
    description: nullish(z.string()),
    schema: z.record(z.string(), z.unknown()),
    /** true (default here): a keyword the grammar cannot enforce is a 400. */
    strict: nullish(z.boolean()),
  }),
]);
/** `text.format` of a request. */
export type ResponseTextFormat = z.infer<typeof ResponseTextFormat>;

/** POST /v1/responses request. */
export const ResponseRequest = z.strictObject({
  model: z.string().optional(),
  input: z.union([z.string(), z.array(ResponseInputItem).min(1)]),
  tools: nullish(z.array(ResponseFunctionTool).min(1).max(128)).describe(
    "function tools: rendered through the chat template, calls constrained to each function's " +
      "parameters and returned as function_call output items",
  ),
  tool_choice: nullish(z.union([
    z.enum(["none", "auto", "required"]),
    z.strictObject({ type: z.literal("function"), name: z.string() }),
  ])),
  parallel_tool_calls: nullish(z.boolean()),
  instructions: nullish(z.string()),
  text: nullish(z.strictObject({ format: nullish(ResponseTextFormat) })),
  max_output_tokens: nullish(z.number().int().min(1)),
  temperature: samplerFields.temperature,
  top_p: samplerFields.top_p,
  seed: samplerFields.seed,
  stream: nullish(z.boolean()),
  store: nullish(z.literal(false)),
  user: z.string().optional(),
});
/** POST /v1/responses request body. */
export type ResponseRequest = z.infer<typeof ResponseRequest>;

/** POST /v1/responses response (also the `response` of streamed lifecycle events). */
export const ResponseObject = z.object({
  id: z.string(),
  object: z.literal("response"),
  created_at: z.number().int(),
  status: ItemStatus,
  model: z.string(),
  output: z.array(z.union([
    z.object({
      type: z.literal("message"),
      id: z.string(),
      status: ItemStatus,
      role: z.literal("assistant"),
      content: z.array(z.object({
        type: z.literal("output_text"),
        text: z.string(),
        annotations: z.array(z.unknown()),
      })),
    }),
    z.object({
      type: z.literal("function_call"),
      id: z.string(),
      call_id: z.string(),
      name: z.string(),
      arguments: z.string(),
      status: ItemStatus,
    }),
  ])),
  incomplete_details: z.object({ reason: z.literal("max_output_tokens") }).nullable(),
  usage: z.object({
    input_tokens: z.number().int(),
    input_tokens_details: z.object({ cached_tokens: z.number().int() }),
    output_tokens: z.number().int(),
    output_tokens_details: z.object({ reasoning_tokens: z.number().int() }),
    total_tokens: z.number().int(),
  }).nullable(),
});
/** POST /v1/responses response. */
export type ResponseObject = z.infer<typeof ResponseObject>;
