/**
 * The context store: collections of chunked, embedded documents in one SQLite file, with
 * exact and HNSW vector search, FTS5 keyword search, hybrid rank fusion and metadata filters.
 *
 * @module
 */
export {
  ContextStore,
  type DocumentHeader,
  type DocumentWriter,
  type StoreOptions,
} from "./store.ts";
export { ContextError, type ContextErrorCode } from "./errors.ts";
export { checkEmbedder, type Embedder } from "./embedder.ts";
export { modelEmbedder, type ModelEmbedderOptions } from "./model_embedder.ts";
export { type Pooling, poolNormalize } from "./pooling.ts";
export {
  ingestFile,
  type IngestOptions,
  type IngestProgress,
  ingestSource,
  ingestText,
} from "./ingest.ts";
export { fileSource, type TextSource, textSource } from "./sources.ts";
export {
  AUTO_HNSW_MIN_CHUNKS,
  hnswCache,
  MAX_K,
  searchCollection,
  type SearchOptions,
} from "./search.ts";
export { parseFilters } from "./filters.ts";
export {
  contextBlock,
  DEFAULT_RAG_K,
  lastUserText,
  type RagContext,
  type RagMessage,
  type RagOptions,
  retrieveContext,
  withContext,
} from "./rag.ts";
export { METRICS, type VectorMetric } from "./metric.ts";
export type * from "./types.ts";
