/**
 * HNSW indexes of collections, built from SQLite and cached in memory and on disk
 * (`<store>.hnsw/<collection id>.<metric>.usearch`, with `.json` metadata and an `.aux`
 * record of the chunks it holds). SQLite stays the truth; the index follows it in two ways:
 *
 * - **Incremental, never waited for**: a search finding the collection moved on (any committed
 *   write bumps the generation) starts an update in the background — removing the chunks that
 *   are gone and adding the new ones, work proportional to the writes, added in slices with the
 *   event loop running between them, one update at a time per index — and does not wait for
 *   it: it searches the index as it is, ignoring the entries that are gone or changed, and
 *   merges an exact search of the chunks the index lacks ({@linkcode IndexView}: the answer of
 *   the caught-up index, up to HNSW's approximation). The difference is read once per
 *   committed state. A chunk is known by its id and a fingerprint of its text hash, so a
 *   reused rowid holding other text is seen as changed.
 * - **Background rebuild**: with no usable index (first use, missing or foreign file) or a
 *   difference larger than {@linkcode incrementalLimit}, a full build starts in slices of
 *   {@linkcode BUILD_SLICE} chunks that yield to the event loop between them; until it is done,
 *   `current()` answers undefined and the search is exact; `get()` waits for it.
 *
 * @module
 */
import { createHnsw, type HnswIndex, type HnswParams, loadHnsw } from "../runtime/hnsw.ts";
import { blobVector } from "../runtime/sqlite.ts";
import {
  auxOf,
  chunksOf,
  type Diff,
  diffOf,
  fingerprint,
  type IndexView,
  NO_DIFF,
} from "./hnsw_view.ts";
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
 * Graph parameters of every collection's index: M 16 / add beam 128, measured on uniform
 * random vectors (HNSW's worst case: all distances nearly equal; see scripts/bench_context.ts).
 * M 32 / add beam 200 reached recall 0.96 at search beam 2048 on 100k x 384 but built in
 * 1,314 s against 773 s for M 16 on the same loaded cores (both multi-threaded; inserts now
 * run on one thread, src/runtime/hnsw.ts says why: 20k x 384 builds in 15.4 s, recall@10 1.0
 * at beam 2048). `expansionSearch` is only the smallest beam: each search picks its own,
 * {@linkcode searchBeam}.
 */
export const HNSW_PARAMS = { connectivity: 16, expansionAdd: 128, expansionSearch: 64 } as const;

/**
 * The search beam for an index of `size` entries: 1024 per started 16,384 entries (about
 * size / 16; 2048 at 20k, 4096 at 50k, 7168 at 100k). Recall@10 against exact on uniform
 * random 384-d vectors (scripts/bench_context.ts --queries 30 --beams, 2 loaded cores):
 * 20k: 0.96 / 0.99 / 1.0 at beams 1024 / 2048 / 3072 (8 / 13 / 10 ms); 50k: 0.94 / 0.98 /
 * 0.98 / 1.0 at 2048 / 3072 / 4096 / 6144 (13 / 18 / 25 / 28 ms); 100k: 0.93 / 0.96 / 0.98 /
 * 0.99 at 4096 / 6144 / 7168 / 8192 (36 / 44 / 49 / 61 ms).
 */
export function searchBeam(size: number): number {
  return 1024 * Math.max(1, Math.ceil(size / 16384));
}

const BUILD = `M${HNSW_PARAMS.connectivity}-ef${HNSW_PARAMS.expansionAdd}`;

/** Chunks read and added per slice of a background build. */
export const BUILD_SLICE = 512;

/** Largest difference (added + removed chunks) applied incrementally to an index of `size`. */
export function incrementalLimit(size: number): number {
  return Math.max(2000, Math.floor(size / 4));
}

interface Entry {
  readonly index: HnswIndex;
  meta: IndexMeta;
  /** chunk id -> fingerprint of every chunk in the index. */
  readonly chunks: Map<number, number>;
  /** The last difference computed (valid for searches while its generation is committed). */
  diff?: Diff;
}

const yieldToEvents = () => new Promise<void>((r) => setTimeout(r, 0));

/** Indexes of one store. */
export class HnswCache {
  private readonly mem = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<Entry | undefined>>();
  private readonly building = new Map<string, Promise<void>>();
  private readonly updating = new Map<string, Promise<void>>();
  private readonly failed = new Map<string, unknown>();
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
   * A view of the committed state now, never waiting for an incremental update (one is
   * started in the background when the index is behind); undefined while a full build runs
   * (one is started when needed): search exactly meanwhile.
   */
  async current(name: string, metric: VectorMetric): Promise<IndexView | undefined> {
    const c0 = this.store.collection(name);
    const key = `${c0.id}.${metric}`;
    const err = this.failed.get(key);
    if (err !== undefined) {
      this.failed.delete(key);
      throw err;
    }
    if (this.building.has(key)) return undefined;
    let entry = this.mem.get(key);
    if (!entry) {
      let load = this.loading.get(key);
      if (!load) {
        load = this.load(c0, metric).finally(() => this.loading.delete(key));
        this.loading.set(key, load);
      }
      const loaded = await load;
      if (this.building.has(key)) return undefined;
      entry = this.mem.get(key) ?? loaded;
      if (entry) this.mem.set(key, entry);
    }
    // Read again after the awaits: the view answers for the state committed now.
    const c = this.store.collection(name);
    if (entry && entry.meta.generation === c.generation && entry.meta.createdAt === c.createdAt) {
      return { index: entry.index, generation: c.generation, ...NO_DIFF };
    }
    const diff = entry &&
      (entry.diff?.generation === c.generation
        ? entry.diff
        : diffOf(this.store.reader, entry.meta.collectionId, entry.chunks));
    if (
      !entry || !diff ||
      diff.added.length + diff.removed.length > incrementalLimit(entry.index.size)
    ) {
      this.mem.delete(key);
      this.startBuild(key, c, metric);
      return undefined;
    }
    entry.diff = diff;
    this.startUpdate(key, entry, name);
    let hiddenInIndex = 0;
    for (const id of diff.hidden) if (entry.chunks.has(id)) hiddenInIndex++;
    return {
      index: entry.index,
      generation: diff.generation,
      added: diff.added,
      hidden: diff.hidden,
      hiddenInIndex,
    };
  }

  /** A view of the committed state, waiting for a full build when one is needed. */
  async get(name: string, metric: VectorMetric): Promise<IndexView> {
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

  /** Resolves when no full build or incremental update of collection `id` runs. */
  async settled(collectionId: number, metric: VectorMetric): Promise<void> {
    const key = `${collectionId}.${metric}`;
    for (;;) {
      const job = this.building.get(key) ?? this.updating.get(key);
      if (!job) return;
      await job;
    }
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
   * Applies `d` to `entry`: removes what is gone at once, then adds in slices of
   * {@linkcode BUILD_SLICE} with the event loop running between them. Each row is read when
   * it is added and brings its own text hash (a chunk deleted meanwhile is skipped, a rowid
   * reused meanwhile is recorded as what was added; the next difference sees both), and one
   * the index already holds in that version is skipped.
   */
  private async apply(entry: Entry, d: Diff): Promise<void> {
    const db = this.store.reader;
    const gone = d.removed.filter((id) => entry.chunks.has(id));
    if (gone.length) {
      entry.index.remove(BigUint64Array.from(gone, BigInt));
      for (const id of gone) entry.chunks.delete(id);
    }
    for (let i = 0; i < d.added.length; i += BUILD_SLICE) {
      if (i) await yieldToEvents();
      const ids = d.added.slice(i, i + BUILD_SLICE);
      const rows = db.all<{ id: number; text_hash: string; embedding: Uint8Array }>(
        `SELECT id, text_hash, embedding FROM chunks
         WHERE collection_id = ? AND id IN (SELECT value FROM json_each(?))`,
        [entry.meta.collectionId, JSON.stringify(ids)],
      ).filter((r) => entry.chunks.get(r.id) !== fingerprint(r.text_hash));
      const stale = rows.filter((r) => entry.chunks.has(r.id)).map((r) => BigInt(r.id));
      if (stale.length) entry.index.remove(BigUint64Array.from(stale));
      this.addRows(entry.index, rows, entry.meta.dimension);
      for (const r of rows) entry.chunks.set(r.id, fingerprint(r.text_hash));
    }
    entry.meta = { ...entry.meta, generation: d.generation, count: entry.chunks.size };
    if (d.added.length || d.removed.length) this.updates++;
  }

  /** Brings `entry` up to the committed state in the background (one job per index). */
  private startUpdate(key: string, entry: Entry, name: string): void {
    if (this.updating.has(key)) return;
    const job = (async () => {
      // The search that started it goes first.
      await yieldToEvents();
      // Until the index holds the state committed now, or it was dropped for a rebuild.
      while (this.mem.get(key) === entry) {
        const c = this.store.collection(name);
        if (entry.meta.generation === c.generation) break;
        const d = entry.diff?.generation === c.generation
          ? entry.diff
          : diffOf(this.store.reader, entry.meta.collectionId, entry.chunks);
        entry.diff = d;
        await this.apply(entry, d);
      }
    })().catch((e) => {
      this.failed.set(key, e);
    }).finally(() => this.updating.delete(key));
    this.updating.set(key, job);
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
   * caught up by final differences, so the result matches one committed state.
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
    for (;;) {
      await this.apply(entry, diffOf(this.store.reader, entry.meta.collectionId, entry.chunks));
      if (entry.meta.generation === this.store.collection(c.name).generation) break;
    }
    entry.diff = undefined;
    index.save(this.path(c, metric), entry.meta, auxOf(entry.chunks));
    this.rebuilds++;
    return entry;
  }
}
