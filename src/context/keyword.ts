/**
 * Keyword search over the FTS5 index, ranked by BM25. A query with double quotes is FTS5
 * syntax as written (phrases, AND/OR/NOT, prefix*); a plain query matches any of its words
 * (each quoted, so punctuation never reads as syntax). FTS5 syntax errors are typed errors.
 *
 * @module
 */
import { type SqliteDb, SqliteError } from "../runtime/sqlite.ts";
import { ContextError } from "./errors.ts";
import { filterSql } from "./filters.ts";
import type { Ranked } from "./hits.ts";
import type { MetadataFilter } from "./types.ts";

/** The FTS5 MATCH expression of a user query. */
export function ftsQuery(query: string): string {
  if (query.includes('"')) return query;
  const words = query.match(/[\p{L}\p{N}_]+/gu) ?? [];
  if (!words.length) {
    throw new ContextError("CONTEXT_BAD_QUERY", "the query has no words to search for", {
      actual: query,
    });
  }
  return words.map((w) => `"${w}"`).join(" OR ");
}

/** Best `k` chunks by BM25 (score = -bm25, larger is better). */
export function keywordSearch(
  db: SqliteDb,
  collectionId: number,
  query: string,
  k: number,
  filter?: MetadataFilter,
): Ranked[] {
  const f = filterSql(filter);
  const match = ftsQuery(query);
  try {
    return db.all<{ id: number; rank: number }>(
      `SELECT c.id, bm25(chunks_fts) AS rank FROM chunks_fts
       JOIN chunks c ON c.id = chunks_fts.rowid JOIN documents d ON d.id = c.document_id
       WHERE chunks_fts MATCH ? AND c.collection_id = ? AND ${f.sql}
       ORDER BY rank, c.id LIMIT ?`,
      [match, collectionId, ...f.params, k],
    ).map((r) => ({ id: r.id, score: -r.rank }));
  } catch (e) {
    if (e instanceof SqliteError && !/busy|locked/i.test(e.message)) {
      throw new ContextError("CONTEXT_BAD_QUERY", `bad keyword query: ${e.message}`, {
        actual: query,
      });
    }
    throw e;
  }
}

/** Reciprocal rank fusion of ranked lists: score(d) = sum over lists of 1 / (K + rank). */
export function reciprocalRankFusion(lists: readonly (readonly Ranked[])[], K = 60): Ranked[] {
  const score = new Map<number, number>();
  for (const list of lists) {
    list.forEach((r, i) => score.set(r.id, (score.get(r.id) ?? 0) + 1 / (K + i + 1)));
  }
  return [...score].map(([id, s]) => ({ id, score: s })).sort((a, b) =>
    b.score - a.score || a.id - b.id
  );
}
