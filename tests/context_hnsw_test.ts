/**
 * The HNSW cache follows SQLite without blocking searches: writes are applied incrementally
 * in the background (removed and added chunks, a reused rowid with other text seen as
 * changed; concurrent searches start one update) while searches use the stale index minus
 * what is gone merged with an exact search of what was added; a first build or a large
 * difference runs in the background while `current()` answers undefined (the search is
 * exact); a saved index is caught up after reopening; the search beam follows the size.
 *
 * @module
 */
import { hnswCache, searchCollection } from "../src/context/search.ts";
import { incrementalLimit, searchBeam } from "../src/context/hnsw_cache.ts";
import { createHnsw } from "../src/runtime/hnsw.ts";
import { ContextStore } from "../src/context/store.ts";
import { sha256Hex } from "../src/runtime/context_io.ts";
import { assert, assertEquals } from "./assert.ts";
import { bruteForce, randomVectors, tempStoreDir } from "./context_helpers.ts";
import { test } from "./harness.ts";

const DIM = 16;

async function addDoc(s: ContextStore, source: string, vectors: readonly Float32Array[]) {
  await s.writeDocument("v", { source, contentHash: sha256Hex(source), bytes: 0 }, (w) => {
    w.insert(vectors.map((v, i) => ({
      text: `${source} chunk ${i}`,
      tokens: 3,
      textHash: sha256Hex(`${source}/${i}`),
      embedding: v,
    })));
    return Promise.resolve();
  });
}

/** The ids HNSW and exact search give for `q` (k nearest). */
async function both(s: ContextStore, q: Float32Array, k: number) {
  const h = await searchCollection(s, "v", q, { k, index: "hnsw" });
  const e = await searchCollection(s, "v", q, { k, index: "exact" });
  return { hnsw: h.map((x) => x.source), exact: e.map((x) => x.source) };
}

test("HNSW: a first build runs in the background; writes are applied incrementally", async () => {
  const t = tempStoreDir();
  const s = await ContextStore.open(t.db);
  try {
    s.createCollection({ name: "v", embedModel: "random", dimension: DIM });
    const data = randomVectors(1200, DIM, 3);
    for (let d = 0; d < 12; d++) await addDoc(s, `d${d}`, data.slice(d * 100, d * 100 + 100));
    const cache = hnswCache(s);
    assertEquals(await cache.current("v", "cosine"), undefined, "building: search exactly");
    const c = s.collection("v");
    await cache.pending(c.id, "cosine");
    const ready = await cache.current("v", "cosine");
    assert(ready && ready.index.size === 1200, "built");
    assertEquals([cache.rebuilds, cache.updates], [1, 0]);

    // Remove one document and add two: one incremental update, no rebuild.
    await s.removeDocument("v", "d3");
    const fresh = randomVectors(40, DIM, 11);
    await addDoc(s, "n0", fresh.slice(0, 20));
    await addDoc(s, "n1", fresh.slice(20));
    // The next searches do not wait: the stale index minus the removed chunks, merged with an
    // exact search of the added ones, while the update runs in the background.
    const [now, twin] = await Promise.all([
      cache.current("v", "cosine"),
      cache.current("v", "cosine"),
    ]);
    assert(now && now.index.size === 1200, `stale index, size ${now?.index.size}`);
    assertEquals([now.added.length, now.hidden.size, now.hiddenInIndex], [40, 140, 100]);
    assertEquals(twin?.index, now.index);
    const r = await both(s, fresh[5], 1);
    assertEquals(r.hnsw, ["n0"]);
    const gone = await searchCollection(s, "v", data[350], { k: 5, index: "hnsw" });
    assert(gone.every((h) => h.source !== "d3"), "removed chunks are not found");
    await cache.settled(c.id, "cosine");
    const caught = await cache.current("v", "cosine");
    assert(caught && caught.index.size === 1140 && caught.added.length === 0, "caught up");
    assertEquals([cache.rebuilds, cache.updates], [1, 1], "one update for both searches");

    // The last document removed and another added: SQLite reuses its rowids for other text.
    const idsOf = (source: string) =>
      s.reader.all<{ id: number }>(
        "SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id WHERE d.source = ?",
        [source],
      ).map((x) => x.id);
    const before = idsOf("n1");
    await s.removeDocument("v", "n1");
    const other = randomVectors(20, DIM, 12);
    await addDoc(s, "n2", other);
    assertEquals(idsOf("n2"), before, "rowids reused");
    assertEquals((await both(s, other[7], 1)).hnsw, ["n2"]);
    assert((await both(s, fresh[25], 3)).hnsw.every((x) => x !== "n1"));
    await cache.settled(c.id, "cosine");
    assertEquals((await both(s, other[7], 1)).hnsw, ["n2"]);
    assert((await both(s, fresh[25], 3)).hnsw.every((x) => x !== "n1"));

    // More than the incremental limit: a background rebuild, exact search meanwhile.
    const limit = incrementalLimit(caught.index.size);
    const many = randomVectors(limit + 100, DIM, 13);
    for (let i = 0; i < many.length; i += 500) await addDoc(s, `m${i}`, many.slice(i, i + 500));
    assertEquals(await cache.current("v", "cosine"), undefined, "rebuilding");
    const auto = await searchCollection(s, "v", many[0], { k: 1 });
    assertEquals(auto[0].source, "m0", "exact meanwhile");
    await cache.pending(c.id, "cosine");
    assertEquals(cache.rebuilds, 2);
    const after = await both(s, many[1], 1);
    assertEquals(after.hnsw, after.exact);
  } finally {
    await s.close();
    t.cleanup();
  }
});

test("HNSW: a saved index is loaded and caught up after reopening the store", async () => {
  const t = tempStoreDir();
  let s = await ContextStore.open(t.db);
  try {
    s.createCollection({ name: "v", embedModel: "random", dimension: DIM });
    const data = randomVectors(600, DIM, 5);
    await addDoc(s, "a", data.slice(0, 300));
    await searchCollection(s, "v", data[0], { k: 1, index: "hnsw" });
    assertEquals(hnswCache(s).rebuilds, 1);
    await s.close();
    s = await ContextStore.open(t.db);
    await addDoc(s, "b", data.slice(300));
    await s.removeDocument("v", "a");
    const q = data[450];
    const hits = await searchCollection(s, "v", q, { k: 10, index: "hnsw" });
    const cache = hnswCache(s);
    await cache.settled(s.collection("v").id, "cosine");
    assertEquals([cache.rebuilds, cache.updates], [0, 1], "loaded from file, then updated");
    assert(hits.every((h) => h.source === "b"));
    const want = bruteForce(data.slice(300), q, 10, "cosine").map((w) => `b chunk ${w.index}`);
    const found = hits.filter((h) => want.includes(h.text)).length;
    assert(found >= 9, `recall ${found}/10`);
  } finally {
    await s.close();
    t.cleanup();
  }
});

test("HNSW: new nearest neighbours are found at once after a write, removed chunks never", async () => {
  const t = tempStoreDir();
  const s = await ContextStore.open(t.db);
  try {
    s.createCollection({ name: "v", embedModel: "random", dimension: DIM });
    const data = randomVectors(1000, DIM, 21);
    for (let d = 0; d < 4; d++) await addDoc(s, `old${d}`, data.slice(d * 250, d * 250 + 250));
    const cache = hnswCache(s);
    const c = s.collection("v");
    await cache.get("v", "cosine");
    // 300 chunks around each of 3 query points, and a document near the first removed.
    const queries = randomVectors(3, DIM, 22);
    const near = (q: Float32Array, seed: number) =>
      randomVectors(100, DIM, seed).map((n) => q.map((x, i) => x + 0.05 * n[i]));
    await addDoc(s, "new", queries.flatMap((q, j) => near(q, 30 + j)));
    await addDoc(s, "doomed", near(queries[0], 40));
    await s.removeDocument("v", "doomed");
    await s.removeDocument("v", "old1");
    const stale = await cache.current("v", "cosine");
    assert(stale && stale.added.length === 300, `stale view adds ${stale?.added.length}`);
    const before: string[][] = [];
    for (const q of queries) {
      const hits = await searchCollection(s, "v", q, { k: 10, index: "hnsw" });
      assertEquals(hits.map((h) => h.source), Array(10).fill("new"));
      const exact = await searchCollection(s, "v", q, { k: 10, index: "exact" });
      assertEquals(hits.map((h) => h.chunkId), exact.map((h) => h.chunkId));
      before.push(hits.map((h) => h.text));
    }
    assertEquals(cache.updates, 0, "answered before the update ran");
    for (const q of randomVectors(10, DIM, 23)) {
      const hits = await searchCollection(s, "v", q, { k: 20, index: "hnsw" });
      assert(hits.every((h) => h.source !== "old1" && h.source !== "doomed"), "removed");
    }
    await cache.settled(c.id, "cosine");
    assertEquals([cache.rebuilds, cache.updates], [1, 1]);
    const after: string[][] = [];
    for (const q of queries) {
      after.push((await searchCollection(s, "v", q, { k: 10, index: "hnsw" })).map((h) => h.text));
    }
    assertEquals(before, after, "the same answers as the caught-up index");

    // Searches in the middle of an update (some slices added): still the committed answer.
    const more = randomVectors(1500, DIM, 24);
    await addDoc(s, "more", more);
    await cache.current("v", "cosine");
    await new Promise((r) => setTimeout(r, 0));
    await new Promise((r) => setTimeout(r, 0));
    const mid = await cache.current("v", "cosine");
    assert(mid && mid.hiddenInIndex > 0 && mid.hiddenInIndex < 1500, `${mid?.hiddenInIndex}`);
    for (const q of [more[3], more[1400], ...queries]) {
      const h = await searchCollection(s, "v", q, { k: 10, index: "hnsw" });
      const e = await searchCollection(s, "v", q, { k: 10, index: "exact" });
      assertEquals(h.map((x) => x.chunkId), e.map((x) => x.chunkId));
    }
    await cache.settled(c.id, "cosine");
    assertEquals(cache.updates, 2);
  } finally {
    await s.close();
    t.cleanup();
  }
});

test("HNSW: each search picks its beam; the store's beam grows with the collection", async () => {
  const n = 3000;
  const data = randomVectors(n, 32, 31);
  const flat = new Float32Array(n * 32);
  data.forEach((v, i) => flat.set(v, i * 32));
  // A sparse graph and a beam of 1 by default: narrow searches miss neighbours.
  const ix = await createHnsw({
    dimension: 32,
    metric: "cosine",
    connectivity: 4,
    expansionAdd: 16,
    expansionSearch: 1,
  });
  ix.add(BigUint64Array.from(data, (_, i) => BigInt(i)), flat);
  let narrow = 0;
  let wide = 0;
  for (const q of randomVectors(20, 32, 32)) {
    const want = new Set(bruteForce(data, q, 10, "cosine").map((w) => w.index));
    const a = ix.search(q, 10);
    const b = ix.search(q, 10, n);
    assertEquals([a.keys.length, b.keys.length, b.distances.length], [10, 10, 10]);
    assert(b.distances.every((d, i) => i === 0 || b.distances[i - 1] <= d), "nearest first");
    narrow += [...a.keys].filter((k) => want.has(Number(k))).length;
    wide += [...b.keys].filter((k) => want.has(Number(k))).length;
  }
  assert(wide >= 198 && narrow < wide, `recall ${narrow}/200 at beam 1, ${wide}/200 at ${n}`);
  assertEquals([10_000, 20_000, 50_000, 100_000].map(searchBeam), [1024, 2048, 4096, 7168]);
});

test("HNSW: every vector added in one batch is reachable (one insertion thread)", async () => {
  // usearch 2.26's multi-threaded batch insert left 2-6 of 2,500 (and of 20,000) vectors
  // unreachable from the entry point: a search as wide as the index did not return them.
  const n = 5000;
  const data = randomVectors(n, DIM, 41);
  const flat = new Float32Array(n * DIM);
  data.forEach((v, i) => flat.set(v, i * DIM));
  const ix = await createHnsw({ dimension: DIM, metric: "cosine" });
  ix.add(BigUint64Array.from(data, (_, i) => BigInt(i)), flat);
  for (const q of randomVectors(3, DIM, 42)) {
    const all = ix.search(q, n, n);
    assertEquals(new Set(all.keys).size, n, "all vectors found by a search as wide as the index");
  }
});
