/**
 * HNSW approximate nearest-neighbour index over usearch (npm `usearch`, whose tarball ships
 * prebuilt Node-API binaries that load under Deno and Node 20). The index is a cache: the
 * context store rebuilds it from SQLite whenever the file is missing or stale, and writes it
 * atomically (temporary file + rename) so a crash never leaves a half-written index behind.
 *
 * @module
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { RocmForgeError } from "../core/errors.ts";

/** Distance functions the store supports. */
export type VectorMetric = "cosine" | "dot" | "l2";

/** usearch is missing or failed. */
export class HnswError extends RocmForgeError<"HNSW_UNAVAILABLE" | "HNSW_FAILED"> {}

/** Build parameters (usearch's names). */
export interface HnswParams {
  readonly dimension: number;
  readonly metric: VectorMetric;
  /** Graph degree M (default 16). */
  readonly connectivity?: number;
  /** Beam width while adding (default 128). */
  readonly expansionAdd?: number;
  /**
   * Smallest beam width while searching (default 64). usearch searches with a beam of
   * max(expansion_search, wanted) and its JS API cannot change expansion_search after
   * construction, so {@linkcode HnswIndex.search} widens the beam per search by asking for
   * more results (see there).
   */
  readonly expansionSearch?: number;
}

/** One HNSW index in memory. Distances: cosine 1-cos, dot 1-dot, l2 squared. */
export interface HnswIndex {
  readonly size: number;
  add(keys: BigUint64Array, vectors: Float32Array): void;
  /** Removes keys (absent ones are no error). */
  remove(keys: BigUint64Array): void;
  /**
   * The `k` nearest keys, nearest first, searched with a beam of at least `beam` (usearch's
   * beam is max(expansion_search, wanted): asking for `beam` results and keeping the first `k`
   * is the search an index built with expansion_search = `beam` does).
   */
  search(
    query: Float32Array,
    k: number,
    beam?: number,
  ): { keys: BigUint64Array; distances: Float32Array };
  /**
   * Writes the index, its `meta` (JSON) and `aux` (the caller's binary record of what it
   * holds, `<path>.aux`) beside it, atomically.
   */
  save(path: string, meta: unknown, aux?: Uint8Array): void;
}

/** A saved index with what was saved beside it. */
export interface LoadedHnsw {
  readonly index: HnswIndex;
  readonly meta: unknown;
  /** The `aux` bytes saved with it (empty when none were). */
  readonly aux: Uint8Array;
}

interface UsearchIndex {
  add(keys: BigUint64Array, vectors: Float32Array, threads?: number): void;
  remove(keys: BigUint64Array): unknown;
  search(v: Float32Array, k: number, threads: number): {
    keys: BigUint64Array;
    distances: Float32Array;
  };
  size(): number;
  save(path: string): void;
  load(path: string): void;
}
type UsearchCtor = new (config: Record<string, unknown>) => UsearchIndex;

const METRIC: Record<VectorMetric, string> = { cosine: "cos", dot: "ip", l2: "l2sq" };
let mod: Promise<UsearchCtor> | undefined;

async function usearch(): Promise<UsearchCtor> {
  mod ??= import("npm:usearch@2.26.2").then((m) => {
    const u = m as unknown as { default?: { Index: UsearchCtor }; Index?: UsearchCtor };
    const ctor = u.Index ?? u.default?.Index;
    if (!ctor) throw new Error("usearch has no Index export");
    return ctor;
  });
  try {
    return await mod;
  } catch (e) {
    mod = undefined;
    throw new HnswError("HNSW_UNAVAILABLE", `usearch did not load: ${e}`, {}, { cause: e });
  }
}

function wrapIndex(ix: UsearchIndex, dimension: number): HnswIndex {
  return {
    get size() {
      return ix.size();
    },
    add(keys, vectors) {
      if (vectors.length !== keys.length * dimension) {
        throw new HnswError("HNSW_FAILED", "vectors do not match keys x dimension", {
          expected: keys.length * dimension,
          actual: vectors.length,
        });
      }
      // One insertion thread: usearch 2.26's concurrent batch insert left a few vectors in
      // every few thousand unreachable from the entry point (tests/context_hnsw_test.ts).
      if (keys.length) ix.add(keys, vectors, 1);
    },
    remove(keys) {
      if (keys.length) ix.remove(keys);
    },
    search(query, k, beam = 0) {
      const size = ix.size();
      const n = Math.max(1, Math.min(k, size));
      const r = ix.search(query, Math.max(n, Math.min(beam, size)), 0);
      if (r.keys.length <= n) return { keys: r.keys, distances: r.distances };
      return { keys: r.keys.subarray(0, n), distances: r.distances.subarray(0, n) };
    },
    save(path, meta, aux = new Uint8Array()) {
      mkdirSync(dirname(path), { recursive: true });
      const tmp = `${path}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`;
      try {
        ix.save(tmp);
        writeFileSync(`${tmp}.aux`, aux);
        writeFileSync(`${tmp}.json`, JSON.stringify(meta));
        // The metadata file goes last: a reader that finds it finds the other two complete.
        rmSync(`${path}.json`, { force: true });
        renameSync(tmp, path);
        renameSync(`${tmp}.aux`, `${path}.aux`);
        renameSync(`${tmp}.json`, `${path}.json`);
      } finally {
        for (const f of [tmp, `${tmp}.aux`, `${tmp}.json`]) rmSync(f, { force: true });
      }
    },
  };
}

function config(p: HnswParams): Record<string, unknown> {
  return {
    dimensions: p.dimension,
    metric: METRIC[p.metric],
    quantization: "f32",
    connectivity: p.connectivity ?? 16,
    expansion_add: p.expansionAdd ?? 128,
    expansion_search: p.expansionSearch ?? 64,
    multi: false,
  };
}

/** A new, empty index. */
export async function createHnsw(p: HnswParams): Promise<HnswIndex> {
  const Index = await usearch();
  return wrapIndex(new Index(config(p)), p.dimension);
}

/**
 * Loads the index at `path` when it exists and `usable(meta)` accepts its saved metadata;
 * undefined otherwise (missing, foreign or unreadable: the caller rebuilds).
 */
export async function loadHnsw(
  path: string,
  p: HnswParams,
  usable: (meta: unknown) => boolean,
): Promise<LoadedHnsw | undefined> {
  if (!existsSync(path) || !existsSync(`${path}.json`)) return undefined;
  let meta: unknown;
  let aux: Uint8Array;
  try {
    meta = JSON.parse(readFileSync(`${path}.json`, "utf8"));
    aux = existsSync(`${path}.aux`)
      ? new Uint8Array(readFileSync(`${path}.aux`))
      : new Uint8Array();
  } catch {
    return undefined;
  }
  if (!usable(meta)) return undefined;
  const Index = await usearch();
  const ix = new Index(config(p));
  try {
    ix.load(path);
  } catch {
    return undefined;
  }
  return { index: wrapIndex(ix, p.dimension), meta, aux };
}

/** Deletes a saved index and its metadata (no error when absent). */
export function removeHnsw(path: string): void {
  rmSync(`${path}.json`, { force: true });
  rmSync(path, { force: true });
  rmSync(`${path}.aux`, { force: true });
}
