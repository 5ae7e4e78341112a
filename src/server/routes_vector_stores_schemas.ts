/**
 * zod schemas of the vector-store routes, in OpenAI's shapes where they fit. Objects are
 * strict: an unknown field is a 400 naming it. Differences from OpenAI: a vector store's id
 * is its collection name (so `name` is required and must be a plain name); files are
 * uploaded as text in the request (`content`), not by `file_id`; search also takes
 * `mode` (vector, keyword or hybrid).
 *
 * @module
 */
import { z } from "../deps/zod.ts";

const Attributes = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));

/** POST /v1/vector_stores. */
export const VectorStoreCreateRequest = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, "1-64 letters, digits, _ . -"),
  metadata: z.record(z.string(), z.string()).optional(),
  chunking_strategy: z.union([
    z.strictObject({ type: z.literal("auto") }),
    z.strictObject({
      type: z.literal("static"),
      static: z.strictObject({
        max_chunk_size_tokens: z.number().int().min(8).max(65536),
        chunk_overlap_tokens: z.number().int().min(0),
      }),
    }),
  ]).optional(),
  /** Distance of vector search (default cosine). An extension. */
  metric: z.enum(["cosine", "dot", "l2"]).optional(),
});
export type VectorStoreCreateRequest = z.infer<typeof VectorStoreCreateRequest>;

/** A vector store object. */
export const VectorStore = z.object({
  id: z.string(),
  object: z.literal("vector_store"),
  created_at: z.number().int(),
  name: z.string(),
  usage_bytes: z.number().int(),
  file_counts: z.object({
    in_progress: z.number().int(),
    completed: z.number().int(),
    failed: z.number().int(),
    cancelled: z.number().int(),
    total: z.number().int(),
  }),
  status: z.literal("completed"),
  metadata: z.record(z.string(), z.unknown()),
  embedding_model: z.string(),
  dimensions: z.number().int(),
});
export type VectorStore = z.infer<typeof VectorStore>;

/** GET /v1/vector_stores. */
export const VectorStoreList = z.object({
  object: z.literal("list"),
  data: z.array(VectorStore),
  first_id: z.string().nullable(),
  last_id: z.string().nullable(),
  has_more: z.boolean(),
});

/** DELETE /v1/vector_stores/{id} (and of a file). */
export const VectorStoreDeleted = z.object({
  id: z.string(),
  object: z.enum(["vector_store.deleted", "vector_store.file.deleted"]),
  deleted: z.literal(true),
});

/** POST /v1/vector_stores/{id}/files: a text file in the body. */
export const VectorStoreFileCreateRequest = z.strictObject({
  filename: z.string().min(1).max(1024),
  content: z.string(),
  attributes: Attributes.optional(),
});
export type VectorStoreFileCreateRequest = z.infer<typeof VectorStoreFileCreateRequest>;

/** A vector store file object. */
export const VectorStoreFile = z.object({
  id: z.string(),
  object: z.literal("vector_store.file"),
  created_at: z.number().int(),
  vector_store_id: z.string(),
  filename: z.string(),
  status: z.literal("completed"),
  usage_bytes: z.number().int(),
  chunks: z.number().int(),
  attributes: z.record(z.string(), z.unknown()),
  /** added, replaced, unchanged or duplicate (an extension). */
  result: z.enum(["added", "replaced", "unchanged", "duplicate"]),
});
export type VectorStoreFile = z.infer<typeof VectorStoreFile>;

/** OpenAI's comparison filter (only `eq`) or an `and` of them. */
const EqFilter = z.strictObject({
  type: z.literal("eq"),
  key: z.string(),
  value: z.union([z.string(), z.number(), z.boolean()]),
});
const Filter = z.union([
  EqFilter,
  z.strictObject({ type: z.literal("and"), filters: z.array(EqFilter).min(1).max(32) }),
]);

/** POST /v1/vector_stores/{id}/search. */
export const VectorStoreSearchRequest = z.strictObject({
  query: z.string().min(1),
  max_num_results: z.number().int().min(1).max(50).optional(),
  filters: Filter.optional(),
  mode: z.enum(["vector", "keyword", "hybrid"]).optional(),
  rewrite_query: z.literal(false).optional(),
});
export type VectorStoreSearchRequest = z.infer<typeof VectorStoreSearchRequest>;

/** A search results page. */
export const VectorStoreSearchResults = z.object({
  object: z.literal("vector_store.search_results.page"),
  search_query: z.string(),
  data: z.array(z.object({
    file_id: z.string(),
    filename: z.string(),
    score: z.number(),
    attributes: z.record(z.string(), z.unknown()),
    content: z.array(z.object({ type: z.literal("text"), text: z.string() })),
    chunk_id: z.number().int(),
  })),
  has_more: z.literal(false),
  next_page: z.null(),
});
export type VectorStoreSearchResults = z.infer<typeof VectorStoreSearchResults>;

/** The `context` field of POST /v1/chat/completions (an extension): retrieval-augmented chat. */
export const ChatContextRequest = z.strictObject({
  store: z.string().min(1).describe("the vector store (collection) to retrieve from"),
  k: z.number().int().min(1).max(50).optional().describe("chunks to retrieve (default 5)"),
  mode: z.enum(["vector", "keyword", "hybrid"]).optional().describe("search mode (default vector)"),
  filters: Filter.optional().describe("attribute filters, as in vector store search"),
  max_tokens: z.number().int().min(1).optional().describe(
    "most tokens of quoted chunk text (the served model's tokenizer); chunks past it are left out",
  ),
}).describe(
  "Retrieves the top-k chunks of a vector store for the last user message and quotes them, " +
    "numbered with their sources, before that message; the response's `context` lists them",
);
export type ChatContextRequest = z.infer<typeof ChatContextRequest>;

/** What a retrieval-augmented chat response reports (`context`; in the first streamed chunk). */
export const ChatContextUsed = z.object({
  store: z.string(),
  query: z.string(),
  chunk_ids: z.array(z.number().int()).describe("the chunks quoted, in the order [1], [2], ..."),
  sources: z.array(z.object({
    chunk_id: z.number().int(),
    file_id: z.string(),
    filename: z.string(),
    score: z.number(),
  })),
});
export type ChatContextUsed = z.infer<typeof ChatContextUsed>;

/** Components for the OpenAPI document. */
export const VECTOR_STORE_COMPONENTS: Readonly<Record<string, z.ZodType>> = {
  VectorStoreCreateRequest,
  VectorStore,
  VectorStoreList,
  VectorStoreDeleted,
  VectorStoreFileCreateRequest,
  VectorStoreFile,
  VectorStoreSearchRequest,
  VectorStoreSearchResults,
  ChatContextUsed,
};

type Json = Record<string, unknown>;
const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const ok = (name: string): Json => ({
  "200": { description: name, content: { "application/json": { schema: ref(name) } } },
  "400": {
    description: "Invalid request",
    content: { "application/json": { schema: ref("ErrorResponse") } },
  },
  "404": {
    description: "Unknown vector store or file",
    content: { "application/json": { schema: ref("ErrorResponse") } },
  },
});
const body = (name: string): Json => ({
  required: true,
  content: { "application/json": { schema: ref(name) } },
});
const op = (summary: string, res: string, req?: string): Json => ({
  summary: `${summary} (served with \`serve --store\`)`,
  ...(req ? { requestBody: body(req) } : {}),
  responses: ok(res),
});

/** OpenAPI paths of the vector-store routes (components: VECTOR_STORE_COMPONENTS). */
export function vectorStorePaths(): Json {
  return {
    "/v1/vector_stores": {
      post: op("Create a vector store", "VectorStore", "VectorStoreCreateRequest"),
      get: op("List vector stores", "VectorStoreList"),
    },
    "/v1/vector_stores/{id}": {
      get: op("A vector store", "VectorStore"),
      delete: op("Delete a vector store", "VectorStoreDeleted"),
    },
    "/v1/vector_stores/{id}/files": {
      post: op("Add a text file", "VectorStoreFile", "VectorStoreFileCreateRequest"),
    },
    "/v1/vector_stores/{id}/files/{file}": {
      delete: op("Remove a file", "VectorStoreDeleted"),
    },
    "/v1/vector_stores/{id}/search": {
      post: op("Search a vector store", "VectorStoreSearchResults", "VectorStoreSearchRequest"),
    },
  };
}
