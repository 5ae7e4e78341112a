/**
 * The store's tables (SQLite is the one file of record; the HNSW files are caches):
 * collections (embedding model, dimension, metric, chunking, a generation counter bumped by
 * every write), documents (source, content hash, metadata JSON), chunks (text, token count,
 * text hash, float32 embedding and its L2 norm) and an external-content FTS5 index kept in
 * step with chunks by triggers (cascading deletes fire them too).
 *
 * @module
 */
import type { SqliteDb } from "../runtime/sqlite.ts";
import { ContextError } from "./errors.ts";

/** `PRAGMA user_version` of this layout. */
export const SCHEMA_VERSION = 1;

const DDL = `
CREATE TABLE IF NOT EXISTS collections (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  embed_model TEXT NOT NULL,
  dimension INTEGER NOT NULL CHECK (dimension > 0),
  metric TEXT NOT NULL CHECK (metric IN ('cosine', 'dot', 'l2')),
  chunk_tokens INTEGER NOT NULL,
  chunk_overlap INTEGER NOT NULL,
  metadata TEXT NOT NULL DEFAULT '{}',
  generation INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS documents (
  id INTEGER PRIMARY KEY,
  collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
  source TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  metadata TEXT NOT NULL DEFAULT '{}',
  chunk_count INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  UNIQUE (collection_id, source)
);
CREATE INDEX IF NOT EXISTS documents_hash ON documents(collection_id, content_hash);
CREATE TABLE IF NOT EXISTS chunks (
  id INTEGER PRIMARY KEY,
  document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  collection_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  text TEXT NOT NULL,
  tokens INTEGER NOT NULL,
  text_hash TEXT NOT NULL,
  norm REAL NOT NULL,
  embedding BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_document ON chunks(document_id);
CREATE INDEX IF NOT EXISTS chunks_collection_hash ON chunks(collection_id, text_hash);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(text, content='chunks', content_rowid='id');
CREATE TRIGGER IF NOT EXISTS chunks_fts_insert AFTER INSERT ON chunks BEGIN
  INSERT INTO chunks_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER IF NOT EXISTS chunks_fts_delete AFTER DELETE ON chunks BEGIN
  INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
`;

/** Creates the tables when the file is new (one transaction; concurrent openers queue). */
export function migrate(db: SqliteDb): void {
  const v = db.get<{ user_version: number }>("PRAGMA user_version")?.user_version ?? 0;
  if (v === SCHEMA_VERSION) return;
  db.begin();
  try {
    const again = db.get<{ user_version: number }>("PRAGMA user_version")?.user_version ?? 0;
    if (again === 0) {
      db.exec(DDL);
      db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    } else if (again !== SCHEMA_VERSION) {
      throw new ContextError(
        "CONTEXT_SCHEMA_VERSION",
        `store schema version ${again} is not ${SCHEMA_VERSION}`,
        { expected: SCHEMA_VERSION, actual: again },
      );
    }
    db.commit();
  } catch (e) {
    db.rollback();
    throw e;
  }
}
