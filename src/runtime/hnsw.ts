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
  /** Beam width while searching (default 64). */
  readonly expansionSearch?: number;
}

/** One HNSW index in memory. Distances: cosine 1-cos, dot 1-dot, l2 squared. */
export interface HnswIndex {
  readonly size: number;
  add(keys: BigUint64Array, vectors: Float32Array): void;
  search(query: Float32Array, k: number): { keys: BigUint64Array; distances: Float32Array };
  /** Writes the index and its `meta` (JSON) beside it, atomically. */
  save(path: string, meta: unknown): void;
}

interface UsearchIndex {
  add(keys: BigUint64Array, vectors: Float32Array, threads?: number): void;
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
      if (keys.length) ix.add(keys, vectors, 0);
    },
    search(query, k) {
      const r = ix.search(query, Math.max(1, Math.min(k, ix.size())), 0);
      return { keys: r.keys, distances: r.distances };
    },
    save(path, meta) {
      mkdirSync(dirname(path), { recursive: true });
      const tmp = `${path}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`;
      try {
        ix.save(tmp);
        writeFileSync(`${tmp}.json`, JSON.stringify(meta));
        renameSync(tmp, path);
        renameSync(`${tmp}.json`, `${path}.json`);
      } finally {
        rmSync(tmp, { force: true });
        rmSync(`${tmp}.json`, { force: true });
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
 * Loads the index at `path` when it exists and `fresh(meta)` accepts its saved metadata;
 * undefined otherwise (missing, stale or unreadable: the caller rebuilds).
 */
export async function loadHnsw(
  path: string,
  p: HnswParams,
  fresh: (meta: unknown) => boolean,
): Promise<HnswIndex | undefined> {
  if (!existsSync(path) || !existsSync(`${path}.json`)) return undefined;
  let meta: unknown;
  try {
    meta = JSON.parse(readFileSync(`${path}.json`, "utf8"));
  } catch {
    return undefined;
  }
  if (!fresh(meta)) return undefined;
  const Index = await usearch();
  const ix = new Index(config(p));
  try {
    ix.load(path);
  } catch {
    return undefined;
  }
  return wrapIndex(ix, p.dimension);
}

/** Deletes a saved index and its metadata (no error when absent). */
export function removeHnsw(path: string): void {
  rmSync(path, { force: true });
  rmSync(`${path}.json`, { force: true });
}
