/**
 * zod schemas of OpenAI's Responses API subset this server implements: text in (a string, or
 * messages whose content is text), text out, streaming. Tools, reasoning, stored responses
 * (`previous_response_id`, `store: true`) and other fields are a 400 `unsupported`.
 *
 * @module
 */
import { z } from "../deps/zod.ts";
import { nullish, samplerFields } from "./schemas_common.ts";

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

/** POST /v1/responses request. */
export const ResponseRequest = z.strictObject({
  model: z.string().optional(),
  input: z.union([z.string(), z.array(ResponseInputMessage).min(1)]),
  instructions: nullish(z.string()),
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
  status: z.enum(["in_progress", "completed", "incomplete"]),
  model: z.string(),
  output: z.array(z.object({
    type: z.literal("message"),
    id: z.string(),
    status: z.enum(["in_progress", "completed", "incomplete"]),
    role: z.literal("assistant"),
    content: z.array(z.object({
      type: z.literal("output_text"),
      text: z.string(),
      annotations: z.array(z.unknown()),
    })),
  })),
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
