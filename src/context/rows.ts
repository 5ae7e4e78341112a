/**
 * Row shapes of the store's tables and their conversion to the public types.
 *
 * @module
 */
import type { VectorMetric } from "./metric.ts";
import type { Collection, DocumentInfo, Metadata } from "./types.ts";

/** A collections row. */
export interface CollectionRow {
  id: number;
  name: string;
  embed_model: string;
  dimension: number;
  metric: string;
  chunk_tokens: number;
  chunk_overlap: number;
  metadata: string;
  generation: number;
  created_at: number;
}

/** A documents row (with the collection's name). */
export interface DocumentRow {
  id: number;
  collection: string;
  source: string;
  content_hash: string;
  bytes: number;
  chunk_count: number;
  metadata: string;
  created_at: number;
}

/** SELECT list of a DocumentRow (documents aliased d, collections k). */
export const DOCUMENT_COLUMNS =
  "d.id, k.name AS collection, d.source, d.content_hash, d.bytes, d.chunk_count, d.metadata, d.created_at";

/** Parses a stored metadata column. */
export function parseMetadata(s: string): Metadata {
  const v = JSON.parse(s) as unknown;
  return v && typeof v === "object" && !Array.isArray(v) ? v as Metadata : {};
}

/** Public collection of a row. */
export function toCollection(r: CollectionRow): Collection {
  return {
    id: r.id,
    name: r.name,
    embedModel: r.embed_model,
    dimension: r.dimension,
    metric: r.metric as VectorMetric,
    chunkTokens: r.chunk_tokens,
    chunkOverlap: r.chunk_overlap,
    metadata: parseMetadata(r.metadata),
    generation: r.generation,
    createdAt: r.created_at,
  };
}

/** Public document of a row. */
export function toDocument(r: DocumentRow): DocumentInfo {
  return {
    id: r.id,
    collection: r.collection,
    source: r.source,
    contentHash: r.content_hash,
    bytes: r.bytes,
    chunks: r.chunk_count,
    metadata: parseMetadata(r.metadata),
    createdAt: r.created_at,
  };
}
