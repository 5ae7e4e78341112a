/**
 * The one SQLite adapter: a small synchronous interface over libsql (npm `libsql`, a
 * better-sqlite3-compatible driver whose npm packages ship prebuilt binaries and which runs
 * under both Deno and Node 20), with the sqlite-vec extension loaded when its prebuilt
 * library exists for this platform. Connections use WAL, a busy timeout and foreign keys;
 * `transaction` is `BEGIN IMMEDIATE` so concurrent writers queue on the lock instead of
 * failing on upgrade.
 *
 * Everything above this file sees only {@linkcode SqliteDb}: a PostgreSQL driver would be a
 * second implementation of the store interface above it (see src/context/README section).
 *
 * @module
 */
import { RocmForgeError } from "../core/errors.ts";

/** A value SQLite binds or returns. */
export type SqlValue = string | number | bigint | Uint8Array | null;

/** The driver failed: the database is locked, corrupt, or the SQL is wrong. */
export class SqliteError extends RocmForgeError<"SQLITE_FAILED" | "SQLITE_UNAVAILABLE"> {}

/** Result of a write statement. */
export interface RunResult {
  readonly changes: number;
  readonly lastInsertRowid: number;
}

/** One open database connection. */
export interface SqliteDb {
  readonly path: string;
  /** True when sqlite-vec's functions (`vec_distance_cosine`, ...) are available. */
  readonly hasVec: boolean;
  /** Runs one or more statements without parameters. */
  exec(sql: string): void;
  run(sql: string, params?: readonly SqlValue[]): RunResult;
  get<T>(sql: string, params?: readonly SqlValue[]): T | undefined;
  all<T>(sql: string, params?: readonly SqlValue[]): T[];
  /** Iterates rows without materializing them all. */
  iterate<T>(sql: string, params?: readonly SqlValue[]): Iterable<T>;
  /** BEGIN IMMEDIATE ... COMMIT around `fn`; ROLLBACK when it throws. */
  begin(): void;
  commit(): void;
  rollback(): void;
  readonly inTransaction: boolean;
  close(): void;
}

/** Options of {@linkcode openSqlite}. */
export interface OpenSqliteOptions {
  /** How long a statement waits for another connection's lock (default 10 s). */
  readonly busyTimeoutMs?: number;
  /** Load sqlite-vec (default true; a missing library just leaves `hasVec` false). */
  readonly loadVec?: boolean;
}

interface LibsqlStatement {
  run(params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  get(params: unknown[]): Record<string, unknown> | undefined;
  iterate(params: unknown[]): IterableIterator<Record<string, unknown>>;
}
interface LibsqlDatabase {
  prepare(sql: string): LibsqlStatement;
  exec(sql: string): void;
  loadExtension(path: string): void;
  close(): void;
  readonly inTransaction: boolean;
}
type LibsqlCtor = new (path: string) => LibsqlDatabase;

let driver: Promise<{ Database: LibsqlCtor; vecPath?: string }> | undefined;

async function loadDriver(): Promise<{ Database: LibsqlCtor; vecPath?: string }> {
  const lib = (await import("npm:libsql@0.5.29")) as unknown as
    & { default?: LibsqlCtor }
    & LibsqlCtor;
  const Database = lib.default ?? lib;
  let vecPath: string | undefined;
  try {
    const vec = (await import("npm:sqlite-vec@0.1.9")) as unknown as { getLoadablePath(): string };
    vecPath = vec.getLoadablePath();
  } catch {
    // sqlite-vec has no prebuilt library for this platform: exact search scans in TypeScript.
    vecPath = undefined;
  }
  return { Database, vecPath };
}

/**
 * Rows from libsql carry a `_metadata` member, which the store never wants, and BLOBs as
 * a Buffer (get) or an ArrayBuffer (iterate): both become a Uint8Array.
 */
function clean<T>(row: Record<string, unknown> | undefined): T | undefined {
  if (row === undefined) return undefined;
  delete row._metadata;
  for (const k in row) {
    const v = row[k];
    if (v instanceof ArrayBuffer) row[k] = new Uint8Array(v);
  }
  return row as T;
}

function wrap(e: unknown, sql: string): SqliteError {
  const msg = e instanceof Error ? e.message : String(e);
  const code = (e as { code?: unknown })?.code;
  return new SqliteError("SQLITE_FAILED", `SQLite: ${msg}`, {
    sql: sql.length > 200 ? sql.slice(0, 200) + "..." : sql,
    sqliteCode: typeof code === "string" ? code : undefined,
  }, { cause: e });
}

/** Opens (creating if needed) the database file at `path` (":memory:" for a scratch one). */
export async function openSqlite(path: string, opts: OpenSqliteOptions = {}): Promise<SqliteDb> {
  driver ??= loadDriver();
  let d: { Database: LibsqlCtor; vecPath?: string };
  try {
    d = await driver;
  } catch (e) {
    driver = undefined;
    throw new SqliteError("SQLITE_UNAVAILABLE", `the libsql driver did not load: ${e}`, {}, {
      cause: e,
    });
  }
  let db: LibsqlDatabase;
  try {
    db = new d.Database(path);
  } catch (e) {
    throw wrap(e, `open ${path}`);
  }
  let hasVec = false;
  if (opts.loadVec !== false && d.vecPath) {
    try {
      db.loadExtension(d.vecPath);
      hasVec = true;
    } catch {
      hasVec = false;
    }
  }
  const cache = new Map<string, LibsqlStatement>();
  const stmt = (sql: string): LibsqlStatement => {
    let s = cache.get(sql);
    if (!s) {
      try {
        s = db.prepare(sql);
      } catch (e) {
        throw wrap(e, sql);
      }
      if (cache.size > 200) cache.clear();
      cache.set(sql, s);
    }
    return s;
  };
  // Arrays always: libsql treats a lone object argument (a Buffer too) as named parameters.
  const bind = (p: readonly SqlValue[] | undefined): unknown[] => (p ? [...p] : []);
  const exec = (sql: string) => {
    try {
      db.exec(sql);
    } catch (e) {
      throw wrap(e, sql);
    }
  };
  const conn: SqliteDb = {
    path,
    hasVec,
    exec,
    run(sql, params) {
      try {
        const r = stmt(sql).run(bind(params));
        return { changes: r.changes, lastInsertRowid: Number(r.lastInsertRowid) };
      } catch (e) {
        throw e instanceof SqliteError ? e : wrap(e, sql);
      }
    },
    get<T>(sql: string, params?: readonly SqlValue[]): T | undefined {
      try {
        return clean<T>(stmt(sql).get(bind(params)));
      } catch (e) {
        throw e instanceof SqliteError ? e : wrap(e, sql);
      }
    },
    all<T>(sql: string, params?: readonly SqlValue[]): T[] {
      return [...conn.iterate<T>(sql, params)];
    },
    *iterate<T>(sql: string, params?: readonly SqlValue[]): Iterable<T> {
      let it: IterableIterator<Record<string, unknown>>;
      try {
        it = stmt(sql).iterate(bind(params));
      } catch (e) {
        throw e instanceof SqliteError ? e : wrap(e, sql);
      }
      while (true) {
        let r: IteratorResult<Record<string, unknown>>;
        try {
          r = it.next();
        } catch (e) {
          throw wrap(e, sql);
        }
        if (r.done) return;
        yield clean<T>(r.value) as T;
      }
    },
    begin: () => exec("BEGIN IMMEDIATE"),
    commit: () => exec("COMMIT"),
    rollback: () => {
      if (db.inTransaction) exec("ROLLBACK");
    },
    get inTransaction() {
      return db.inTransaction;
    },
    close: () => {
      cache.clear();
      db.close();
    },
  };
  if (path !== ":memory:") {
    const ms = opts.busyTimeoutMs ?? 10_000;
    exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(ms))}`);
    // journal_mode needs the write lock once, when the file is new; retry while another
    // process holds it.
    conn.get("PRAGMA journal_mode = WAL");
    exec("PRAGMA synchronous = FULL");
  }
  exec("PRAGMA foreign_keys = ON");
  return conn;
}

/** A float32 vector as the little-endian bytes SQLite stores (and sqlite-vec reads). */
export function vectorBlob(v: Float32Array): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** Bytes of a stored float32 vector, copied into an aligned Float32Array. */
export function blobVector(b: Uint8Array): Float32Array {
  const out = new Float32Array(b.byteLength >>> 2);
  new Uint8Array(out.buffer).set(b.subarray(0, out.length * 4));
  return out;
}
