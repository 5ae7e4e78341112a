/**
 * The writer `ContextStore.writeDocument` hands to its fill callback: appends chunks to the
 * document being written (inside its transaction) and looks up embeddings already stored for
 * identical chunk texts.
 *
 * @module
 */
import { blobVector, type SqliteDb, vectorBlob } from "../runtime/sqlite.ts";
import { ContextError } from "./errors.ts";
import { norm } from "./metric.ts";
import type { CollectionRow } from "./rows.ts";
import type { ChunkRow } from "./types.ts";

/** Adds chunks to the document being written. */
export interface DocumentWriter {
  /** Embeddings already stored in this collection for these chunk-text hashes. */
  known(hashes: readonly string[]): Map<string, Float32Array>;
  /** Appends chunks in order. */
  insert(chunks: readonly ChunkRow[]): void;
  /** Chunks appended so far. */
  readonly count: number;
}

/** A writer of document `docId` of collection `c` on the connection holding the transaction. */
export function documentWriter(
  db: SqliteDb,
  c: CollectionRow,
  docId: number,
): DocumentWriter & { readonly reused: number } {
  let count = 0;
  let reused = 0;
  return {
    get count() {
      return count;
    },
    get reused() {
      return reused;
    },
    known(hashes) {
      const out = new Map<string, Float32Array>();
      for (const h of new Set(hashes)) {
        const r = db.get<{ embedding: Uint8Array }>(
          "SELECT embedding FROM chunks WHERE collection_id = ? AND text_hash = ? LIMIT 1",
          [c.id, h],
        );
        if (r) out.set(h, blobVector(r.embedding));
      }
      reused += out.size;
      return out;
    },
    insert(chunks) {
      for (const ch of chunks) {
        if (ch.embedding.length !== c.dimension) {
          throw new ContextError(
            "CONTEXT_DIMENSION_MISMATCH",
            `chunk ${count} has ${ch.embedding.length} dimensions; ${c.name} holds ${c.dimension}`,
            { expected: c.dimension, actual: ch.embedding.length, collection: c.name },
          );
        }
        db.run(
          `INSERT INTO chunks (document_id, collection_id, seq, text, tokens, text_hash, norm,
             embedding) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          [
            docId,
            c.id,
            count,
            ch.text,
            ch.tokens,
            ch.textHash,
            norm(ch.embedding),
            vectorBlob(ch.embedding),
          ],
        );
        count++;
      }
    },
  };
}
