/**
 * The server's zod schemas: the single source of its request and response types (routes use
 * the inferred types; /openapi.json is generated from the same schemas). Requests accept the
 * OpenAI fields this engine honours plus a few llama.cpp extensions (top_k, min_p, typical_p,
 * repeat_penalty, ignore_eos, cache_prompt); any other field is a 400 `unsupported`. The
 * schemas live in one file per API: schemas_common.ts (OpenAI requests and shared pieces),
 * schemas_responses.ts, schemas_responses_api.ts (OpenAI's Responses API), schemas_llamacpp.ts
 * and schemas_ollama.ts.
 *
 * @module
 */
export * from "./schemas_common.ts";
export * from "./schemas_responses.ts";
export * from "./schemas_llamacpp.ts";
export * from "./schemas_ollama.ts";
export * from "./schemas_responses_api.ts";
