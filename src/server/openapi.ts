/**
 * The OpenAPI 3.1 document of the server, generated from the zod schemas in schemas.ts
 * (`z.toJSONSchema`, JSON Schema 2020-12, which OpenAPI 3.1 uses), so the served document
 * cannot drift from what the routes validate and return.
 *
 * @module
 */
import { z } from "../deps/zod.ts";
import * as S from "./schemas.ts";
import { SERVER_VERSION } from "./version.ts";
import { VECTOR_STORE_COMPONENTS, vectorStorePaths } from "./routes_vector_stores_schemas.ts";

const COMPONENTS: Readonly<Record<string, z.ZodType>> = {
  CompletionRequest: S.CompletionRequest,
  CompletionResponse: S.CompletionResponse,
  ChatCompletionRequest: S.ChatCompletionRequest,
  ChatCompletionResponse: S.ChatCompletionResponse,
  ChatCompletionChunk: S.ChatCompletionChunk,
  EmbeddingRequest: S.EmbeddingRequest,
  EmbeddingResponse: S.EmbeddingResponse,
  ModelList: S.ModelList,
  TokenizeRequest: S.TokenizeRequest,
  TokenizeResponse: S.TokenizeResponse,
  DetokenizeRequest: S.DetokenizeRequest,
  DetokenizeResponse: S.DetokenizeResponse,
  HealthResponse: S.HealthResponse,
  ErrorResponse: S.ErrorResponse,
  LlamaCompletionRequest: S.LlamaCompletionRequest,
  LlamaCompletionResponse: S.LlamaCompletionResponse,
  ApplyTemplateRequest: S.ApplyTemplateRequest,
  ApplyTemplateResponse: S.ApplyTemplateResponse,
  PropsResponse: S.PropsResponse,
  SlotsResponse: S.SlotsResponse,
  OllamaGenerateRequest: S.OllamaGenerateRequest,
  OllamaGenerateResponse: S.OllamaGenerateResponse,
  OllamaChatRequest: S.OllamaChatRequest,
  OllamaChatResponse: S.OllamaChatResponse,
  OllamaEmbedRequest: S.OllamaEmbedRequest,
  OllamaEmbedResponse: S.OllamaEmbedResponse,
  OllamaShowRequest: S.OllamaShowRequest,
  OllamaShowResponse: S.OllamaShowResponse,
  OllamaModelList: S.OllamaModelList,
  OllamaVersionResponse: S.OllamaVersionResponse,
  ResponseRequest: S.ResponseRequest,
  ResponseObject: S.ResponseObject,
  ...VECTOR_STORE_COMPONENTS,
};

type Json = Record<string, unknown>;

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });

const json = (name: string, description: string): Json => ({
  description,
  content: { "application/json": { schema: ref(name) } },
});

const ERRORS: Json = {
  "400": json("ErrorResponse", "Invalid request (the error's `param` names the field)"),
  "401": json("ErrorResponse", "Missing or wrong API key"),
  "403": json("ErrorResponse", "CORS preflight from an origin not in --cors-origin"),
  "404": json("ErrorResponse", "Unknown model (with --strict-model)"),
  "408": json("ErrorResponse", "Request body did not arrive within --body-timeout"),
  "413": json("ErrorResponse", "Request body too large"),
  "429": json("ErrorResponse", "All slots busy and the queue is full (see Retry-After)"),
  "503": json("ErrorResponse", "Model loading or server shutting down"),
};

function post(
  summary: string,
  req: string,
  res: string,
  stream?: string,
  streamType = "text/event-stream",
): Json {
  const ends = streamType === "text/event-stream" ? " ending with `data: [DONE]`" : "";
  const ok: Json = stream
    ? {
      description: `${res}; with \`stream: true\`, ${
        streamType === "text/event-stream" ? "server-sent events" : "JSON lines"
      } of ${stream}${ends}`,
      content: {
        "application/json": { schema: ref(res) },
        [streamType]: { schema: { type: "string" } },
      },
    }
    : json(res, res);
  return {
    post: {
      summary,
      requestBody: { required: true, content: { "application/json": { schema: ref(req) } } },
      responses: { "200": ok, ...ERRORS },
    },
  };
}

function get(summary: string, res: Json, open = false): Json {
  return {
    get: { summary, ...(open ? { security: [] } : {}), responses: { "200": res, ...ERRORS } },
  };
}

/** The OpenAI routes without the /v1 prefix (the same operations). */
function withoutV1(): Json {
  return {
    "/completions": post(
      "Text completion (alias of /v1/completions)",
      "CompletionRequest",
      "CompletionResponse",
      "CompletionResponse",
    ),
    "/chat/completions": post(
      "Chat completion (alias of /v1/chat/completions)",
      "ChatCompletionRequest",
      "ChatCompletionResponse",
      "ChatCompletionChunk",
    ),
    "/embeddings": post(
      "Embeddings (alias of /v1/embeddings)",
      "EmbeddingRequest",
      "EmbeddingResponse",
    ),
    "/models": get("The served model (alias of /v1/models)", json("ModelList", "Model list")),
  };
}

let cached: Json | undefined;

/** The OpenAPI 3.1 document (built once). */
export function openApiDocument(): Json {
  if (cached) return cached;
  const schemas: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(COMPONENTS)) {
    const s = z.toJSONSchema(schema, {
      target: "draft-2020-12",
      io: name.endsWith("Request") ? "input" : "output",
      unrepresentable: "any",
    }) as Json;
    delete s.$schema;
    schemas[name] = s;
  }
  cached = {
    openapi: "3.1.0",
    info: {
      title: "ROCmForge server (OpenAI, llama.cpp and ollama APIs)",
      version: SERVER_VERSION,
      description:
        "Text and chat completions, embeddings and tokenization for one GGUF model, in the " +
        "shapes of OpenAI's API, llama.cpp's server and ollama.",
    },
    security: [{ bearerAuth: [] }],
    paths: {
      "/v1/completions": post(
        "Text completion",
        "CompletionRequest",
        "CompletionResponse",
        "CompletionResponse",
      ),
      "/v1/chat/completions": post(
        "Chat completion",
        "ChatCompletionRequest",
        "ChatCompletionResponse",
        "ChatCompletionChunk",
      ),
      "/v1/embeddings": post("Embeddings", "EmbeddingRequest", "EmbeddingResponse"),
      "/v1/models": get("The served model", json("ModelList", "Model list")),
      "/tokenize": post("Text to token ids", "TokenizeRequest", "TokenizeResponse"),
      "/detokenize": post("Token ids to text", "DetokenizeRequest", "DetokenizeResponse"),
      "/health": get("Readiness (503 while loading)", json("HealthResponse", "Ready"), true),
      "/metrics": get("Prometheus metrics", {
        description: "Prometheus text exposition format",
        content: { "text/plain": { schema: { type: "string" } } },
      }),
      ...withoutV1(),
      "/v1/responses": post(
        "Responses API: text and function calls (SSE lifecycle and argument events when streaming)",
        "ResponseRequest",
        "ResponseObject",
        "response events",
      ),
      "/completion": post(
        "llama.cpp completion (SSE events without [DONE] when streaming)",
        "LlamaCompletionRequest",
        "LlamaCompletionResponse",
        "LlamaCompletionResponse",
      ),
      "/apply-template": post(
        "llama.cpp: render messages with the chat template",
        "ApplyTemplateRequest",
        "ApplyTemplateResponse",
      ),
      "/props": get("llama.cpp server properties", json("PropsResponse", "Properties")),
      "/slots": get("llama.cpp slot states", json("SlotsResponse", "Slots")),
      "/api/generate": post(
        "ollama generate (streams by default)",
        "OllamaGenerateRequest",
        "OllamaGenerateResponse",
        "OllamaGenerateResponse",
        "application/x-ndjson",
      ),
      "/api/chat": post(
        "ollama chat (streams by default)",
        "OllamaChatRequest",
        "OllamaChatResponse",
        "OllamaChatResponse",
        "application/x-ndjson",
      ),
      "/api/embed": post("ollama embeddings", "OllamaEmbedRequest", "OllamaEmbedResponse"),
      "/api/show": post("ollama model details", "OllamaShowRequest", "OllamaShowResponse"),
      "/api/tags": get("ollama: local models", json("OllamaModelList", "Models")),
      "/api/ps": get("ollama: loaded models", json("OllamaModelList", "Models")),
      "/api/version": get("ollama: version", json("OllamaVersionResponse", "Version")),
      ...vectorStorePaths(),
      "/openapi.json": get("This document", {
        description: "OpenAPI 3.1 document",
        content: { "application/json": { schema: { type: "object" } } },
      }),
    },
    components: {
      schemas,
      securitySchemes: {
        bearerAuth: {
          type: "http",
          scheme: "bearer",
          description: "Needed on every route but /health when the server runs with --api-key",
        },
      },
    },
  };
  return cached;
}
