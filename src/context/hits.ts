/**
 * Turns ranked chunk ids into search hits (one query for their rows, order kept, filter
 * applied).
 *
 * @module
 */
import type { SqliteDb } from "../runtime/sqlite.ts";
import { filterSql } from "./filters.ts";
import { parseMetadata } from "./rows.ts";
import type { MetadataFilter, SearchHit } from "./types.ts";

/** A ranked candidate. */
export interface Ranked {
  readonly id: number;
  readonly score: number;
  readonly distance?: number;
}

interface HitRow {
  id: number;
  document_id: number;
  source: string;
  seq: number;
  text: string;
  metadata: string;
}

/** Rows of the ranked ids that pass `filter`, in rank order. */
export function loadHits(
  db: SqliteDb,
  ranked: readonly Ranked[],
  filter?: MetadataFilter,
): SearchHit[] {
  if (!ranked.length) return [];
  const f = filterSql(filter);
  const rows = new Map<number, HitRow>();
  for (let i = 0; i < ranked.length; i += 500) {
    const ids = ranked.slice(i, i + 500).map((r) => r.id);
    const sql = `SELECT c.id, c.document_id, d.source, c.seq, c.text, d.metadata
      FROM chunks c JOIN documents d ON d.id = c.document_id
      WHERE c.id IN (${ids.map(() => "?").join(",")}) AND ${f.sql}`;
    for (const r of db.iterate<HitRow>(sql, [...ids, ...f.params])) rows.set(r.id, r);
  }
  const out: SearchHit[] = [];
  for (const r of ranked) {
    const row = rows.get(r.id);
    if (!row) continue;
    out.push({
      chunkId: row.id,
      documentId: row.document_id,
      source: row.source,
      seq: row.seq,
      text: row.text,
      score: r.score,
      ...(r.distance !== undefined ? { distance: r.distance } : {}),
      metadata: parseMetadata(row.metadata),
    });
  }
  return out;
}
