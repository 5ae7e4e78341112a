/**
 * HNSW indexes of collections, built from SQLite and cached in memory and on disk
 * (`<store>.hnsw/<collection id>.<metric>.usearch`, with `.json` metadata and an `.aux`
 * record of the chunks it holds). SQLite stays the truth; the index follows it in two ways:
 *
 * - **Incremental**: before a search, an index whose collection has moved on (any committed
 *   write bumps the generation) is brought up to date by removing the chunks that are gone and
 *   adding the new ones — work proportional to the writes, not to the collection, added in
 *   slices with the event loop running between them (one update at a time per index: a
 *   concurrent search waits for it). A chunk is known by its id and a fingerprint of its text
 *   hash, so a reused rowid holding other text is seen as changed.
 * - **Background rebuild**: with no usable index (first use, missing or foreign file) or a
 *   difference larger than {@linkcode incrementalLimit}, a full build starts in slices of
 *   {@linkcode BUILD_SLICE} chunks that yield to the event loop between them; until it is done,
 *   `current()` answers undefined and the search is exact; `get()` waits for it.
 *
 * @module
 */
import { createHnsw, type HnswIndex, type HnswParams, loadHnsw } from "../runtime/hnsw.ts";
import { blobVector } from "../runtime/sqlite.ts";
import type { VectorMetric } from "./metric.ts";
import type { ContextStore } from "./store.ts";
import type { Collection } from "./types.ts";

/** What an index file is of (the generation it was saved at is `generation`). */
interface IndexMeta {
  collectionId: number;
  name: string;
  createdAt: number;
  generation: number;
  count: number;
  metric: VectorMetric;
  dimension: number;
  /** Graph parameters the index was built with. */
  build?: string;
}

/** The index file of collection `id` for `metric`. */
export function hnswPath(indexDir: string, id: number, metric: VectorMetric): string {
  return `${indexDir}/${id}.${metric}.usearch`;
}

/**
 * Graph parameters of every collection's index, measured on uniform random vectors (HNSW's
 * worst case: all distances nearly equal; see scripts/bench_context.ts): at 100k x 384 with
 * M 16 / add beam 128, recall@10 against exact was 0.39 / 0.79 / 0.93 / 0.99 for search beams
 * of 512 / 2048 / 4096 / 8192 (7 / 20 / 32 / 41 ms per query, 2 idle cores; build 87 s), and
 * 0.974 at 6144 through the store; 10k needed 512 for 0.95. M 32 / add beam 200 reached 0.96
 * at beam 2048 but built in 1,314 s against 773 s for M 16 on the same loaded cores.
 */
export const HNSW_PARAMS = { connectivity: 16, expansionAdd: 128, expansionSearch: 6144 } as const;

const BUILD = `M${HNSW_PARAMS.connectivity}-ef${HNSW_PARAMS.expansionAdd}`;

/** Chunks read and added per slice of a background build. */
export const BUILD_SLICE = 512;

/** Largest difference (added + removed chunks) applied incrementally to an index of `size`. */
export function incrementalLimit(size: number): number {
  return Math.max(2000, Math.floor(size / 4));
}

/** A chunk's fingerprint: 52 bits of its text hash. */
function fingerprint(textHash: string): number {
  return parseInt(textHash.slice(0, 13), 16);
}

interface Entry {
  readonly index: HnswIndex;
  meta: IndexMeta;
  /** chunk id -> fingerprint of every chunk in the index. */
  readonly chunks: Map<number, number>;
}

/** An index matching the committed state it was synced to. */
export interface CurrentIndex {
  readonly index: HnswIndex;
  readonly generation: number;
}

const yieldToEvents = () => new Promise<void>((r) => setTimeout(r, 0));

function auxOf(chunks: Map<number, number>): Uint8Array {
  const a = new Float64Array(chunks.size * 2);
  let i = 0;
  for (const [id, fp] of chunks) {
    a[i++] = id;
    a[i++] = fp;
  }
  return new Uint8Array(a.buffer);
}

function chunksOf(aux: Uint8Array): Map<number, number> {
  const a = new Float64Array(aux.slice().buffer, 0, aux.byteLength >>> 3);
  const out = new Map<number, number>();
  for (let i = 0; i + 1 < a.length; i += 2) out.set(a[i], a[i + 1]);
  return out;
}

/** Indexes of one store. */
export class HnswCache {
  private readonly mem = new Map<string, Entry>();
  private readonly building = new Map<string, Promise<void>>();
  private readonly failed = new Map<string, unknown>();
  private readonly locks = new Map<string, Promise<void>>();
  /** Full builds done (for tests and benchmarks). */
  rebuilds = 0;
  /** Incremental updates applied. */
  updates = 0;

  constructor(private readonly store: ContextStore) {}

  /** File of a collection's index. */
  path(c: Collection, metric: VectorMetric): string {
    return hnswPath(this.store.indexDir, c.id, metric);
  }

  private identity(c: Collection, metric: VectorMetric, count = 0): IndexMeta {
    return {
      collectionId: c.id,
      name: c.name,
      createdAt: c.createdAt,
      generation: c.generation,
      count,
      metric,
      dimension: c.dimension,
      build: BUILD,
    };
  }

  private params(c: Collection, metric: VectorMetric): HnswParams {
    return { dimension: c.dimension, metric, ...HNSW_PARAMS };
  }

  /**
   * The index brought up to the committed state now, or undefined while a full build runs
   * (one is started when needed): search exactly meanwhile.
   */
  async current(name: string, metric: VectorMetric): Promise<CurrentIndex | undefined> {
    const c = this.store.collection(name);
    const key = `${c.id}.${metric}`;
    // One caller at a time per index: a second search waits for the first one's update.
    const prev = this.locks.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => release = r);
    const chained = prev.then(() => mine);
    this.locks.set(key, chained);
    await prev;
    try {
      return await this.currentLocked(key, c, metric);
    } finally {
      release();
      if (this.locks.get(key) === chained) this.locks.delete(key);
    }
  }

  private async currentLocked(
    key: string,
    c: Collection,
    metric: VectorMetric,
  ): Promise<CurrentIndex | undefined> {
    const err = this.failed.get(key);
    if (err !== undefined) {
      this.failed.delete(key);
      throw err;
    }
    if (this.building.has(key)) return undefined;
    let entry = this.mem.get(key);
    if (!entry) {
      entry = await this.load(c, metric);
      if (entry) this.mem.set(key, entry);
    }
    if (entry && await this.sync(entry, c, false)) {
      return { index: entry.index, generation: entry.meta.generation };
    }
    this.mem.delete(key);
    this.startBuild(key, c, metric);
    return undefined;
  }

  /** The index brought up to the committed state, waiting for a full build when one is needed. */
  async get(name: string, metric: VectorMetric): Promise<CurrentIndex> {
    for (;;) {
      const now = await this.current(name, metric);
      if (now) return now;
      const c = this.store.collection(name);
      await this.pending(c.id, metric);
    }
  }

  /** The full build of collection `id` in progress (resolved when none is). */
  pending(collectionId: number, metric: VectorMetric): Promise<void> {
    return this.building.get(`${collectionId}.${metric}`) ?? Promise.resolve();
  }

  private async load(c: Collection, metric: VectorMetric): Promise<Entry | undefined> {
    const want = this.identity(c, metric);
    const loaded = await loadHnsw(this.path(c, metric), this.params(c, metric), (m) => {
      const x = m as IndexMeta;
      return x.collectionId === want.collectionId && x.name === want.name &&
        x.createdAt === want.createdAt && x.metric === want.metric &&
        x.dimension === want.dimension && x.build === want.build;
    });
    if (!loaded) return undefined;
    const chunks = chunksOf(loaded.aux);
    if (chunks.size !== loaded.index.size) return undefined;
    return { index: loaded.index, meta: loaded.meta as IndexMeta, chunks };
  }

  /**
   * Brings `entry` to the committed state by removing and adding the chunks that differ
   * (added in slices of {@linkcode BUILD_SLICE}, the event loop running between them); false
   * (nothing changed) when the difference exceeds the incremental limit and `force` is not set.
   */
  private async sync(entry: Entry, c: Collection, force: boolean): Promise<boolean> {
    if (entry.meta.generation === c.generation && entry.meta.createdAt === c.createdAt) {
      return true;
    }
    const db = this.store.reader;
    let gen: number;
    let added: number[];
    let removed: number[];
    db.exec("BEGIN");
    try {
      gen = db.get<{ generation: number }>(
        "SELECT generation FROM collections WHERE id = ?",
        [c.id],
      )?.generation ?? c.generation;
      const live = new Map<number, number>();
      for (
        const r of db.iterate<{ id: number; text_hash: string }>(
          "SELECT id, text_hash FROM chunks WHERE collection_id = ?",
          [c.id],
        )
      ) live.set(r.id, fingerprint(r.text_hash));
      removed = [];
      for (const [id, fp] of entry.chunks) if (live.get(id) !== fp) removed.push(id);
      added = [];
      for (const [id, fp] of live) if (entry.chunks.get(id) !== fp) added.push(id);
      if (!force && added.length + removed.length > incrementalLimit(entry.index.size)) {
        return false;
      }
      if (removed.length) {
        entry.index.remove(BigUint64Array.from(removed, BigInt));
        for (const id of removed) entry.chunks.delete(id);
      }
    } finally {
      db.exec("COMMIT");
    }
    // A chunk deleted meanwhile is skipped (the next update sees it gone); each row brings its
    // own text hash, so a rowid reused meanwhile is recorded as what was added.
    for (let i = 0; i < added.length; i += BUILD_SLICE) {
      if (i) await yieldToEvents();
      const ids = added.slice(i, i + BUILD_SLICE);
      const rows = db.all<{ id: number; text_hash: string; embedding: Uint8Array }>(
        `SELECT id, text_hash, embedding FROM chunks
         WHERE collection_id = ? AND id IN (${ids.map(() => "?").join(",")})`,
        [c.id, ...ids],
      );
      this.addRows(entry.index, rows, c.dimension);
      for (const r of rows) entry.chunks.set(r.id, fingerprint(r.text_hash));
    }
    entry.meta = { ...entry.meta, generation: gen, count: entry.chunks.size };
    if (added.length || removed.length) this.updates++;
    return true;
  }

  private addRows(
    index: HnswIndex,
    rows: readonly { id: number; embedding: Uint8Array }[],
    dimension: number,
  ): void {
    if (!rows.length) return;
    const keys = new BigUint64Array(rows.length);
    const vecs = new Float32Array(rows.length * dimension);
    rows.forEach((r, i) => {
      keys[i] = BigInt(r.id);
      vecs.set(blobVector(r.embedding), i * dimension);
    });
    index.add(keys, vecs);
  }

  private startBuild(key: string, c: Collection, metric: VectorMetric): void {
    if (this.building.has(key)) return;
    const job = this.build(c, metric).then((entry) => {
      this.mem.set(key, entry);
    }, (e) => {
      this.failed.set(key, e);
    }).finally(() => this.building.delete(key));
    this.building.set(key, job);
  }

  /**
   * A full build in slices (the event loop runs between them). Writes during the build are
   * caught up by a final incremental sync, so the result matches one committed state.
   */
  private async build(c: Collection, metric: VectorMetric): Promise<Entry> {
    const db = this.store.reader;
    const start = this.store.collection(c.name);
    const index = await createHnsw(this.params(c, metric));
    const entry: Entry = {
      index,
      meta: this.identity(start, metric),
      chunks: new Map(),
    };
    let last = 0;
    for (;;) {
      await yieldToEvents();
      const rows = db.all<{ id: number; text_hash: string; embedding: Uint8Array }>(
        `SELECT id, text_hash, embedding FROM chunks WHERE collection_id = ? AND id > ?
         ORDER BY id LIMIT ?`,
        [c.id, last, BUILD_SLICE],
      );
      if (!rows.length) break;
      this.addRows(index, rows, c.dimension);
      for (const r of rows) entry.chunks.set(r.id, fingerprint(r.text_hash));
      last = rows[rows.length - 1].id;
    }
    entry.meta = { ...entry.meta, generation: -1 };
    await this.sync(entry, this.store.collection(c.name), true);
    index.save(this.path(c, metric), entry.meta, auxOf(entry.chunks));
    this.rebuilds++;
    return entry;
  }
}
