/**
 * Exact nearest neighbours: sqlite-vec's distance functions inside SQL (so metadata filters
 * are one WHERE clause) when the extension loaded, else a scan over the stored float32 blobs
 * in TypeScript. sqlite-vec has no dot-product distance; it is derived from the L2 distance
 * and the stored norms: a.b = (|a|^2 + |b|^2 - |a-b|^2) / 2.
 *
 * @module
 */
import { blobVector, type SqliteDb, vectorBlob } from "../runtime/sqlite.ts";
import { filterSql } from "./filters.ts";
import type { Ranked } from "./hits.ts";
import { distance, norm, scoreOf, type VectorMetric } from "./metric.ts";
import type { MetadataFilter } from "./types.ts";

/**
 * The `k` nearest chunks of collection `collectionId` to `q`; among the chunks `ids` only when
 * given (one JSON parameter, any count).
 */
export function exactSearch(
  db: SqliteDb,
  collectionId: number,
  q: Float32Array,
  k: number,
  metric: VectorMetric,
  filter?: MetadataFilter,
  useVec = db.hasVec,
  ids?: readonly number[],
): Ranked[] {
  if (ids && !ids.length) return [];
  const f = filterSql(filter);
  const only = ids ? " AND c.id IN (SELECT value FROM json_each(?))" : "";
  const where = `c.collection_id = ? AND ${f.sql}${only}`;
  const whereParams = [collectionId, ...f.params, ...(ids ? [JSON.stringify(ids)] : [])];
  const from = "FROM chunks c JOIN documents d ON d.id = c.document_id";
  if (useVec) {
    const qb = vectorBlob(q);
    const qn = norm(q);
    const expr = metric === "cosine"
      ? "vec_distance_cosine(c.embedding, ?)"
      : "vec_distance_l2(c.embedding, ?)";
    const inner = `SELECT c.id, c.norm, ${expr} AS l ${from} WHERE ${where}`;
    const dist = metric === "dot" ? "-(norm * norm + ? - l * l) / 2" : "l";
    const rows = db.all<{ id: number; distance: number }>(
      `WITH s AS (${inner}) SELECT id, ${dist} AS distance FROM s ORDER BY distance, id LIMIT ?`,
      [qb, ...whereParams, ...(metric === "dot" ? [qn * qn] : []), k],
    );
    return rows.map((r) => ({
      id: r.id,
      distance: r.distance,
      score: scoreOf(metric, r.distance),
    }));
  }
  // Scan: keep the k best in a sorted array (k is small next to the collection).
  const best: { id: number; distance: number }[] = [];
  for (
    const r of db.iterate<{ id: number; embedding: Uint8Array }>(
      `SELECT c.id, c.embedding ${from} WHERE ${where}`,
      whereParams,
    )
  ) {
    const d = distance(metric, blobVector(r.embedding), q);
    if (best.length === k && d >= best[k - 1].distance) continue;
    let i = best.length;
    while (
      i > 0 && (best[i - 1].distance > d || (best[i - 1].distance === d && best[i - 1].id > r.id))
    ) i--;
    best.splice(i, 0, { id: r.id, distance: d });
    if (best.length > k) best.pop();
  }
  return best.map((r) => ({ ...r, score: scoreOf(metric, r.distance) }));
}
