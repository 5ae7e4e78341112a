/**
 * Ingestion: a text source → token chunks with overlap → embeddings in batches → one
 * document transaction. Chunks whose text is already stored in the collection reuse that
 * embedding instead of running the model again.
 *
 * @module
 */
import { AbortError } from "../core/errors.ts";
import { sha256Hex } from "../runtime/context_io.ts";
import { chunkPieces, type TextChunk } from "./chunker.ts";
import { ContextError } from "./errors.ts";
import { checkEmbedder, checkVector, type Embedder } from "./embedder.ts";
import { fileSource, type TextSource, textSource } from "./sources.ts";
import type { ContextStore, DocumentWriter } from "./store.ts";
import type { ChunkRow, Metadata, WriteResult } from "./types.ts";

/** Progress of one document. */
export interface IngestProgress {
  readonly source: string;
  readonly chunks: number;
  /** Bytes of the source represented by chunks so far (approximate). */
  readonly bytesDone: number;
  readonly bytes: number;
}

/** Options of ingestion. */
export interface IngestOptions {
  readonly metadata?: Metadata;
  /** Chunks embedded per embedder call (default 16). */
  readonly batchSize?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: IngestProgress) => void;
  /** Largest file accepted (bytes). */
  readonly maxBytes?: number;
}

async function flush(
  batch: TextChunk[],
  w: DocumentWriter,
  e: Embedder,
  signal: AbortSignal | undefined,
): Promise<void> {
  const hashes = batch.map((c) => sha256Hex(c.text));
  const known = w.known(hashes);
  const todo = batch.filter((_, i) => !known.has(hashes[i]));
  if (signal?.aborted) throw new AbortError("ingestion aborted");
  const vectors = todo.length ? await e.embed(todo.map((c) => c.text), { signal }) : [];
  let next = 0;
  const rows: ChunkRow[] = batch.map((c, i) => {
    const v = known.get(hashes[i]) ?? vectors[next++];
    if (!v) {
      throw new ContextError(
        "CONTEXT_DIMENSION_MISMATCH",
        "the embedder returned too few vectors",
        {
          expected: todo.length,
          actual: vectors.length,
        },
      );
    }
    checkVector(v, e.dimension, `embedding of chunk ${w.count + i}`);
    return { text: c.text, tokens: c.tokens, textHash: hashes[i], embedding: v };
  });
  w.insert(rows);
}

/** Adds (or replaces) one document from `src` in collection `name`. */
export async function ingestSource(
  store: ContextStore,
  name: string,
  embedder: Embedder,
  src: TextSource,
  opts: IngestOptions = {},
): Promise<WriteResult> {
  const c = store.collection(name);
  checkEmbedder(c, embedder);
  const contentHash = src.hash();
  const size = Math.min(c.chunkTokens, embedder.maxTokens);
  const overlap = Math.min(c.chunkOverlap, Math.floor(size / 4));
  const batchSize = Math.max(1, opts.batchSize ?? 16);
  return await store.writeDocument(name, {
    source: src.source,
    contentHash,
    bytes: src.bytes,
    metadata: opts.metadata,
  }, async (w) => {
    let batch: TextChunk[] = [];
    let done = 0;
    for await (const chunk of chunkPieces(src.pieces(), embedder, size, overlap)) {
      batch.push(chunk);
      done += new TextEncoder().encode(chunk.text).length;
      if (batch.length >= batchSize) {
        await flush(batch, w, embedder, opts.signal);
        batch = [];
        opts.onProgress?.({
          source: src.source,
          chunks: w.count,
          bytesDone: Math.min(done, src.bytes),
          bytes: src.bytes,
        });
      }
    }
    if (batch.length) await flush(batch, w, embedder, opts.signal);
    opts.onProgress?.({
      source: src.source,
      chunks: w.count,
      bytesDone: src.bytes,
      bytes: src.bytes,
    });
  });
}

/** Adds a file. */
export async function ingestFile(
  store: ContextStore,
  name: string,
  embedder: Embedder,
  path: string,
  opts: IngestOptions & { source?: string } = {},
): Promise<WriteResult> {
  const src = fileSource(path, { source: opts.source, maxBytes: opts.maxBytes });
  return await ingestSource(store, name, embedder, src, opts);
}

/** Adds text held in memory under the name `source`. */
export async function ingestText(
  store: ContextStore,
  name: string,
  embedder: Embedder,
  doc: { source: string; text: string },
  opts: IngestOptions = {},
): Promise<WriteResult> {
  return await ingestSource(store, name, embedder, textSource(doc.source, doc.text), opts);
}
