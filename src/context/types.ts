/**
 * Plain data the context store returns and accepts.
 *
 * @module
 */
import type { VectorMetric } from "./metric.ts";

/** A JSON object of metadata (documents and collections). */
export type Metadata = Record<string, unknown>;

/** A collection as stored. */
export interface Collection {
  readonly id: number;
  readonly name: string;
  readonly embedModel: string;
  readonly dimension: number;
  readonly metric: VectorMetric;
  readonly chunkTokens: number;
  readonly chunkOverlap: number;
  readonly metadata: Metadata;
  /** Bumped by every committed write; HNSW files built at another generation are stale. */
  readonly generation: number;
  readonly createdAt: number;
}

/** A collection with its counts. */
export interface CollectionInfo extends Collection {
  readonly documents: number;
  readonly chunks: number;
}

/** Options of createCollection. */
export interface CreateCollectionOptions {
  readonly name: string;
  readonly embedModel: string;
  readonly dimension: number;
  /** Default "cosine". */
  readonly metric?: VectorMetric;
  /** Tokens per chunk (default 256). */
  readonly chunkTokens?: number;
  /** Tokens shared by consecutive chunks (default: 32, at most chunkTokens / 8). */
  readonly chunkOverlap?: number;
  readonly metadata?: Metadata;
}

/** A document as stored. */
export interface DocumentInfo {
  readonly id: number;
  readonly collection: string;
  readonly source: string;
  readonly contentHash: string;
  readonly bytes: number;
  readonly chunks: number;
  readonly metadata: Metadata;
  readonly createdAt: number;
}

/** What writing a document did. */
export interface WriteResult {
  /** added: new; replaced: same source, new content; unchanged: same source and content;
   * duplicate: another source already holds this content (nothing written). */
  readonly status: "added" | "replaced" | "unchanged" | "duplicate";
  readonly document: DocumentInfo;
  /** Chunks whose embedding was reused from an identical chunk already stored. */
  readonly reused: number;
}

/** One chunk to store. */
export interface ChunkRow {
  readonly text: string;
  readonly tokens: number;
  readonly textHash: string;
  readonly embedding: Float32Array;
}

/** Filter on document metadata: every key must equal its value. */
export type MetadataFilter = Readonly<Record<string, string | number | boolean>>;

/** One search result. */
export interface SearchHit {
  readonly chunkId: number;
  readonly documentId: number;
  readonly source: string;
  /** Position of the chunk in its document. */
  readonly seq: number;
  readonly text: string;
  /** Larger is better: cosine similarity, dot product, -L2, -BM25 or the fused RRF score. */
  readonly score: number;
  /** Vector distance (smaller is nearer) when the hit came from a vector search. */
  readonly distance?: number;
  readonly metadata: Metadata;
}
