/**
 * What the HNSW cache knows about an index's contents: which chunk ids (and fingerprints of
 * their text hashes) it holds, saved beside it as `.aux`; the difference between those and the
 * committed state; and the view a search uses while the index is behind.
 *
 * @module
 */
import type { SqliteDb } from "../runtime/sqlite.ts";
import type { HnswIndex } from "../runtime/hnsw.ts";

/** A chunk's fingerprint: 52 bits of its text hash. */
export function fingerprint(textHash: string): number {
  return parseInt(textHash.slice(0, 13), 16);
}

/**
 * What a search uses: an index and the correction for the committed writes it has not caught
 * up with yet (empty when it has). Searching the index while ignoring `hidden` and merging an
 * exact search of `added` gives what the caught-up index would.
 */
export interface IndexView {
  readonly index: HnswIndex;
  /** The committed state the view answers for. */
  readonly generation: number;
  /** Chunks the index lacks or holds in an older version: search them exactly. */
  readonly added: readonly number[];
  /** Index entries to ignore: removed or changed chunks, and everything in `added`. */
  readonly hidden: ReadonlySet<number>;
  /** How many of `hidden` are in the index now (search that many more candidates). */
  readonly hiddenInIndex: number;
}

/** A committed state's difference from an index's contents when it was computed. */
export interface Diff {
  readonly generation: number;
  readonly added: readonly number[];
  readonly removed: readonly number[];
  readonly hidden: ReadonlySet<number>;
}

/** The correction of a caught-up view: none. */
export const NO_DIFF = { added: [], hidden: new Set<number>(), hiddenInIndex: 0 } as const;

/**
 * The committed state's difference from `chunks` (id -> fingerprint of what an index holds),
 * read in one transaction: the chunk ids and text hashes of collection `id`, and its generation.
 */
export function diffOf(db: SqliteDb, id: number, chunks: ReadonlyMap<number, number>): Diff {
  db.exec("BEGIN");
  try {
    const generation = db.get<{ generation: number }>(
      "SELECT generation FROM collections WHERE id = ?",
      [id],
    )?.generation ?? -1;
    const live = new Map<number, number>();
    for (
      const r of db.iterate<{ id: number; text_hash: string }>(
        "SELECT id, text_hash FROM chunks WHERE collection_id = ?",
        [id],
      )
    ) live.set(r.id, fingerprint(r.text_hash));
    const removed: number[] = [];
    for (const [k, fp] of chunks) if (live.get(k) !== fp) removed.push(k);
    const added: number[] = [];
    for (const [k, fp] of live) if (chunks.get(k) !== fp) added.push(k);
    return { generation, added, removed, hidden: new Set([...removed, ...added]) };
  } finally {
    db.exec("COMMIT");
  }
}

/** The `.aux` record of `chunks`. */
export function auxOf(chunks: Map<number, number>): Uint8Array {
  const a = new Float64Array(chunks.size * 2);
  let i = 0;
  for (const [id, fp] of chunks) {
    a[i++] = id;
    a[i++] = fp;
  }
  return new Uint8Array(a.buffer);
}

/** `chunks` from an `.aux` record. */
export function chunksOf(aux: Uint8Array): Map<number, number> {
  const a = new Float64Array(aux.slice().buffer, 0, aux.byteLength >>> 3);
  const out = new Map<number, number>();
  for (let i = 0; i + 1 < a.length; i += 2) out.set(a[i], a[i + 1]);
  return out;
}
