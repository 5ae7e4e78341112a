/**
 * The context store: one SQLite file holding collections, documents, chunks, embeddings and
 * the FTS5 index. Two connections: writes go through one (each document in one
 * `BEGIN IMMEDIATE` transaction, serialized within the process by a lock and across
 * processes by SQLite), reads through the other, which in WAL mode sees only committed
 * transactions, so a search never sees half a document. Searching is in search.ts.
 *
 * ```ts
 * const store = await ContextStore.open("notes.db");
 * store.createCollection({ name: "notes", embedModel: e.model, dimension: e.dimension });
 * await ingestText(store, "notes", e, { source: "a.md", text });
 * const hits = await searchCollection(store, "notes", "how do I", { embedder: e });
 * ```
 *
 * @module
 */
import { removeHnsw } from "../runtime/hnsw.ts";
import { openSqlite, type SqliteDb } from "../runtime/sqlite.ts";
import { type DocumentWriter, documentWriter } from "./document_writer.ts";
import { ContextError } from "./errors.ts";
import { hnswPath } from "./hnsw_cache.ts";
import { METRICS } from "./metric.ts";
import {
  type CollectionRow,
  DOCUMENT_COLUMNS,
  type DocumentRow,
  toCollection,
  toDocument,
} from "./rows.ts";
import { migrate } from "./schema.ts";
import type {
  Collection,
  CollectionInfo,
  CreateCollectionOptions,
  DocumentInfo,
  Metadata,
  WriteResult,
} from "./types.ts";

export type { DocumentWriter } from "./document_writer.ts";

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** Header of a document to write. */
export interface DocumentHeader {
  readonly source: string;
  readonly contentHash: string;
  readonly bytes: number;
  readonly metadata?: Metadata;
}

/** Options of {@linkcode ContextStore.open}. */
export interface StoreOptions {
  /** Folder of the HNSW cache files (default: `<path>.hnsw`). */
  readonly indexDir?: string;
  /** Wait for other processes' write locks this long (default 30 s). */
  readonly busyTimeoutMs?: number;
}

/** An open store. */
export class ContextStore {
  private lock: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    readonly path: string,
    readonly indexDir: string,
    private readonly writer: SqliteDb,
    /** The read connection (committed data only); search modules use it. */
    readonly reader: SqliteDb,
  ) {}

  /** Opens or creates the store file at `path`. */
  static async open(path: string, opts: StoreOptions = {}): Promise<ContextStore> {
    if (path === ":memory:" || path === "") {
      throw new ContextError("CONTEXT_BAD_OPTION", "the store needs a file path", { actual: path });
    }
    const busyTimeoutMs = opts.busyTimeoutMs ?? 30_000;
    const writer = await openSqlite(path, { busyTimeoutMs });
    try {
      migrate(writer);
    } catch (e) {
      writer.close();
      throw e;
    }
    const reader = await openSqlite(path, { busyTimeoutMs });
    return new ContextStore(path, opts.indexDir ?? `${path}.hnsw`, writer, reader);
  }

  /** Closes both connections (waits for a write in progress). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.lock;
    this.writer.close();
    this.reader.close();
  }

  private live(): void {
    if (this.closed) throw new ContextError("CONTEXT_CLOSED", `store ${this.path} is closed`);
  }

  /** Runs `fn` holding the process-wide write lock. */
  private async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.live();
    const prev = this.lock;
    let release!: () => void;
    this.lock = new Promise((r) => (release = r));
    await prev;
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** Creates a collection; its name, embedder and chunking are fixed from now on. */
  createCollection(o: CreateCollectionOptions): Collection {
    this.live();
    if (!NAME.test(o.name)) {
      throw new ContextError(
        "CONTEXT_BAD_NAME",
        `collection name "${o.name}" must be 1-64 letters, digits, '_', '.' or '-'`,
        { actual: o.name },
      );
    }
    const metric = o.metric ?? "cosine";
    const tokens = o.chunkTokens ?? 256;
    const overlap = o.chunkOverlap ?? Math.min(32, Math.floor(tokens / 8));
    const bad = (param: string, message: string, actual: unknown) =>
      new ContextError("CONTEXT_BAD_OPTION", message, { param, actual });
    if (!METRICS.includes(metric)) throw bad("metric", `metric must be ${METRICS}`, metric);
    if (!Number.isInteger(o.dimension) || o.dimension < 1 || o.dimension > 65536) {
      throw bad("dimension", "dimension must be an integer in 1..65536", o.dimension);
    }
    if (!Number.isInteger(tokens) || tokens < 8 || tokens > 1 << 16) {
      throw bad("chunkTokens", "chunkTokens must be an integer in 8..65536", tokens);
    }
    if (!Number.isInteger(overlap) || overlap < 0 || overlap * 2 > tokens) {
      throw bad("chunkOverlap", "chunkOverlap must be 0..chunkTokens/2", overlap);
    }
    if (!o.embedModel) throw bad("embedModel", "embedModel is required", o.embedModel);
    this.writer.begin();
    try {
      if (this.writer.get("SELECT 1 AS x FROM collections WHERE name = ?", [o.name])) {
        throw new ContextError("CONTEXT_COLLECTION_EXISTS", `collection ${o.name} exists`, {
          actual: o.name,
        });
      }
      this.writer.run(
        `INSERT INTO collections (name, embed_model, dimension, metric, chunk_tokens,
           chunk_overlap, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          o.name,
          o.embedModel,
          o.dimension,
          metric,
          tokens,
          overlap,
          JSON.stringify(o.metadata ?? {}),
          Math.floor(Date.now() / 1000),
        ],
      );
      this.writer.commit();
    } catch (e) {
      this.writer.rollback();
      throw e;
    }
    return this.collection(o.name);
  }

  /** The collection called `name` (committed state). */
  collection(name: string): Collection {
    this.live();
    const r = this.reader.get<CollectionRow>("SELECT * FROM collections WHERE name = ?", [name]);
    if (!r) {
      throw new ContextError("CONTEXT_UNKNOWN_COLLECTION", `no collection named ${name}`, {
        actual: name,
      });
    }
    return toCollection(r);
  }

  /** All collections with their document and chunk counts. */
  listCollections(): CollectionInfo[] {
    this.live();
    return this.reader.all<CollectionRow & { documents: number; chunks: number }>(
      `SELECT k.*, (SELECT count(*) FROM documents d WHERE d.collection_id = k.id) AS documents,
         (SELECT coalesce(sum(chunk_count), 0) FROM documents d WHERE d.collection_id = k.id)
         AS chunks FROM collections k ORDER BY k.name`,
    ).map((r) => ({ ...toCollection(r), documents: r.documents, chunks: r.chunks }));
  }

  /** Documents of a collection, by source. */
  documents(name: string): DocumentInfo[] {
    const c = this.collection(name);
    return this.reader.all<DocumentRow>(
      `SELECT ${DOCUMENT_COLUMNS} FROM documents d JOIN collections k ON k.id = d.collection_id
       WHERE d.collection_id = ? ORDER BY d.source`,
      [c.id],
    ).map(toDocument);
  }

  /** Deletes a collection with its documents, chunks and index files. */
  deleteCollection(name: string): Promise<void> {
    return this.exclusive(() => {
      const c = this.collection(name);
      this.transaction(() => this.writer.run("DELETE FROM collections WHERE id = ?", [c.id]));
      for (const m of METRICS) removeHnsw(hnswPath(this.indexDir, c.id, m));
      return Promise.resolve();
    });
  }

  /** Deletes one document (by source, or by id as a decimal string). */
  removeDocument(name: string, doc: string): Promise<DocumentInfo> {
    return this.exclusive(() => {
      const c = this.collection(name);
      const found = this.documents(name).find((d) => d.source === doc || String(d.id) === doc);
      if (!found) {
        throw new ContextError("CONTEXT_UNKNOWN_DOCUMENT", `no document ${doc} in ${name}`, {
          actual: doc,
          collection: name,
        });
      }
      this.transaction(() => {
        this.writer.run("DELETE FROM documents WHERE id = ?", [found.id]);
        this.bump(c.id);
      });
      return Promise.resolve(found);
    });
  }

  private transaction(fn: () => void): void {
    this.writer.begin();
    try {
      fn();
      this.writer.commit();
    } catch (e) {
      this.writer.rollback();
      throw e;
    }
  }

  private bump(collectionId: number): void {
    this.writer.run("UPDATE collections SET generation = generation + 1 WHERE id = ?", [
      collectionId,
    ]);
  }

  /**
   * Writes one document in one transaction: the same source with the same content hash is
   * left alone ("unchanged"); content another source already holds is a "duplicate";
   * otherwise the document (replacing the source's old chunks) and the chunks `fill` inserts
   * commit together, or nothing does when `fill` throws or the process dies.
   */
  writeDocument(
    name: string,
    header: DocumentHeader,
    fill: (w: DocumentWriter) => Promise<void>,
  ): Promise<WriteResult> {
    return this.exclusive(async () => {
      const db = this.writer;
      db.begin();
      try {
        const c = db.get<CollectionRow>("SELECT * FROM collections WHERE name = ?", [name]);
        if (!c) {
          throw new ContextError("CONTEXT_UNKNOWN_COLLECTION", `no collection named ${name}`, {
            actual: name,
          });
        }
        const docSql = `SELECT ${DOCUMENT_COLUMNS} FROM documents d
          JOIN collections k ON k.id = d.collection_id WHERE d.collection_id = ?`;
        const old = db.get<DocumentRow>(`${docSql} AND d.source = ?`, [c.id, header.source]);
        if (old && old.content_hash === header.contentHash) {
          db.rollback();
          return { status: "unchanged", document: toDocument(old), reused: 0 };
        }
        const twin = db.get<DocumentRow>(`${docSql} AND d.content_hash = ?`, [
          c.id,
          header.contentHash,
        ]);
        if (twin) {
          db.rollback();
          return { status: "duplicate", document: toDocument(twin), reused: 0 };
        }
        // The old version stays (under a name no source can have) until the new one is
        // written, so identical chunks can reuse its embeddings; both in this transaction.
        if (old) {
          db.run("UPDATE documents SET source = ? WHERE id = ?", [`\0replacing ${old.id}`, old.id]);
        }
        const docId = db.run(
          `INSERT INTO documents (collection_id, source, content_hash, bytes, metadata,
             created_at) VALUES (?, ?, ?, ?, ?, ?)`,
          [
            c.id,
            header.source,
            header.contentHash,
            header.bytes,
            JSON.stringify(header.metadata ?? {}),
            Math.floor(Date.now() / 1000),
          ],
        ).lastInsertRowid;
        const w = documentWriter(db, c, docId);
        await fill(w);
        if (w.count === 0) {
          throw new ContextError("CONTEXT_EMPTY_DOCUMENT", `${header.source} has no text`, {
            actual: header.source,
          });
        }
        if (old) db.run("DELETE FROM documents WHERE id = ?", [old.id]);
        db.run("UPDATE documents SET chunk_count = ? WHERE id = ?", [w.count, docId]);
        this.bump(c.id);
        const row = db.get<DocumentRow>(`${docSql} AND d.id = ?`, [c.id, docId]) as DocumentRow;
        db.commit();
        return { status: old ? "replaced" : "added", document: toDocument(row), reused: w.reused };
      } catch (e) {
        db.rollback();
        throw e;
      }
    });
  }
}
