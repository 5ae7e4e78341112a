/**
 * Searching a collection: by vector (exact, or HNSW for large collections), by keyword
 * (FTS5/BM25), or hybrid (both, fused by reciprocal rank). All read the committed state
 * through the store's read connection.
 *
 * @module
 */
import { ContextError } from "./errors.ts";
import { checkEmbedder, checkVector, type Embedder } from "./embedder.ts";
import { exactSearch } from "./search_exact.ts";
import { HnswCache, searchBeam } from "./hnsw_cache.ts";
import { loadHits, type Ranked } from "./hits.ts";
import { keywordSearch, reciprocalRankFusion } from "./keyword.ts";
import { METRICS, scoreOf, type VectorMetric } from "./metric.ts";
import type { ContextStore } from "./store.ts";
import type { Collection, MetadataFilter, SearchHit } from "./types.ts";

/** Collections with at least this many chunks use HNSW under `index: "auto"`. */
export const AUTO_HNSW_MIN_CHUNKS = 20_000;
/** Largest k. */
export const MAX_K = 1000;

/** Options of {@linkcode searchCollection}. */
export interface SearchOptions {
  /** Hits to return (default 10). */
  readonly k?: number;
  /** "vector" (default), "keyword" or "hybrid". */
  readonly mode?: "vector" | "keyword" | "hybrid";
  /**
   * Vector index: "auto" (default: HNSW from {@linkcode AUTO_HNSW_MIN_CHUNKS} chunks on,
   * exact while its index is being built), "exact" or "hnsw" (waits for a build).
   */
  readonly index?: "auto" | "exact" | "hnsw";
  /** Default: the collection's metric. */
  readonly metric?: VectorMetric;
  readonly filter?: MetadataFilter;
  /** Embeds a text query (required for vector and hybrid text queries). */
  readonly embedder?: Embedder;
  readonly signal?: AbortSignal;
}

const caches = new WeakMap<ContextStore, HnswCache>();

/** The HNSW cache of a store. */
export function hnswCache(store: ContextStore): HnswCache {
  let c = caches.get(store);
  if (!c) caches.set(store, c = new HnswCache(store));
  return c;
}

function bad(param: string, message: string, actual: unknown): ContextError {
  return new ContextError("CONTEXT_BAD_OPTION", message, { param, actual });
}

async function vectorRanked(
  store: ContextStore,
  c: Collection,
  q: Float32Array,
  k: number,
  metric: VectorMetric,
  index: "auto" | "exact" | "hnsw",
  filter?: MetadataFilter,
): Promise<Ranked[]> {
  const count = () =>
    store.reader.get<{ n: number }>("SELECT count(*) AS n FROM chunks WHERE collection_id = ?", [
      c.id,
    ])?.n ?? 0;
  const useHnsw = index === "hnsw" || (index === "auto" && count() >= AUTO_HNSW_MIN_CHUNKS);
  if (!useHnsw) return exactSearch(store.reader, c.id, q, k, metric, filter);
  // "hnsw" waits for a build in progress; "auto" searches exactly until it is done.
  const cache = hnswCache(store);
  const now = index === "hnsw"
    ? await cache.get(c.name, metric)
    : await cache.current(c.name, metric);
  if (!now) return exactSearch(store.reader, c.id, q, k, metric, filter);
  const ix = now.index;
  const filtered = filter !== undefined && Object.keys(filter).length > 0;
  // Entries to ignore are among the candidates: ask for that many more, and widen the beam
  // by as many (the wanted ones would otherwise sit at the beam's edge, where recall drops).
  const want = Math.min(ix.size, (filtered ? k * 10 : k) + now.hiddenInIndex);
  const r = ix.search(q, want, searchBeam(ix.size) + want);
  let ranked: Ranked[] = [];
  for (let i = 0; i < r.keys.length; i++) {
    const id = Number(r.keys[i]);
    if (now.hidden.has(id)) continue;
    const raw = r.distances[i];
    const d = metric === "l2" ? Math.sqrt(Math.max(0, raw)) : metric === "dot" ? raw - 1 : raw;
    ranked.push({ id, distance: d, score: scoreOf(metric, d) });
  }
  if (filtered) {
    const kept = loadHits(store.reader, ranked, filter);
    // A selective filter can leave fewer than k of the candidates: answer exactly instead.
    if (kept.length < k && ix.size > want) {
      return exactSearch(store.reader, c.id, q, k, metric, filter);
    }
    const ids = new Set(kept.map((h) => h.chunkId));
    ranked = ranked.filter((x) => ids.has(x.id));
  }
  // Chunks written since the index's state: searched exactly, merged by distance.
  if (now.added.length) {
    const fresh = exactSearch(store.reader, c.id, q, k, metric, filter, undefined, now.added);
    ranked = [...ranked, ...fresh].sort((a, b) =>
      (a.distance ?? 0) - (b.distance ?? 0) || a.id - b.id
    );
  }
  return ranked.slice(0, k);
}

/** Searches collection `name` for a text query or a query vector. */
export async function searchCollection(
  store: ContextStore,
  name: string,
  query: string | Float32Array,
  opts: SearchOptions = {},
): Promise<SearchHit[]> {
  const c = store.collection(name);
  const k = opts.k ?? 10;
  if (!Number.isInteger(k) || k < 1 || k > MAX_K) throw bad("k", `k must be 1..${MAX_K}`, k);
  const mode = opts.mode ?? "vector";
  if (!["vector", "keyword", "hybrid"].includes(mode)) {
    throw bad("mode", "mode must be vector, keyword or hybrid", mode);
  }
  const index = opts.index ?? "auto";
  if (!["auto", "exact", "hnsw"].includes(index)) {
    throw bad("index", "index must be auto, exact or hnsw", index);
  }
  const metric = opts.metric ?? c.metric;
  if (!METRICS.includes(metric)) throw bad("metric", `metric must be ${METRICS}`, metric);
  if (typeof query !== "string" && mode !== "vector") {
    throw bad("mode", `${mode} search needs a text query`, mode);
  }
  if (typeof query === "string" && !query.trim()) {
    throw new ContextError("CONTEXT_BAD_QUERY", "the query is empty", { actual: query });
  }
  if (mode === "keyword") {
    const ranked = keywordSearch(store.reader, c.id, query as string, k, opts.filter);
    return loadHits(store.reader, ranked, opts.filter);
  }
  let q: Float32Array;
  if (typeof query === "string") {
    if (!opts.embedder) throw bad("embedder", "a text query needs the collection's embedder", "");
    checkEmbedder(c, opts.embedder);
    [q] = await opts.embedder.embed([query], { signal: opts.signal });
    checkVector(q, c.dimension, "the query embedding");
  } else {
    checkVector(query, c.dimension, "the query vector");
    q = query;
  }
  if (mode === "vector") {
    const ranked = await vectorRanked(store, c, q, k, metric, index, opts.filter);
    return loadHits(store.reader, ranked, opts.filter);
  }
  const n = Math.min(MAX_K, Math.max(50, k * 4));
  const vec = await vectorRanked(store, c, q, n, metric, index, opts.filter);
  const kw = keywordSearch(store.reader, c.id, query as string, n, opts.filter);
  return loadHits(store.reader, reciprocalRankFusion([vec, kw]).slice(0, k), opts.filter);
}
