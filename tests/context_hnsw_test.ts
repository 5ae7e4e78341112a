/**
 * The HNSW cache follows SQLite without blocking searches on a full rebuild: writes are
 * applied incrementally (removed and added chunks, a reused rowid with other text seen as
 * changed; concurrent searches apply one update), a first build or a large difference runs in the background while `current()`
 * answers undefined (the search is exact), and a saved index is caught up after reopening.
 *
 * @module
 */
import { hnswCache, searchCollection } from "../src/context/search.ts";
import { incrementalLimit } from "../src/context/hnsw_cache.ts";
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
    // Two searches at once: the second waits for the first one's update (applied once).
    const [now, twin] = await Promise.all([
      cache.current("v", "cosine"),
      cache.current("v", "cosine"),
    ]);
    assert(now && now.index.size === 1140, `size ${now?.index.size}`);
    assertEquals(twin?.index, now.index);
    assertEquals([cache.rebuilds, cache.updates], [1, 1]);
    const r = await both(s, fresh[5], 1);
    assertEquals(r.hnsw, ["n0"]);
    const gone = await searchCollection(s, "v", data[350], { k: 5, index: "hnsw" });
    assert(gone.every((h) => h.source !== "d3"), "removed chunks are not found");

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

    // More than the incremental limit: a background rebuild, exact search meanwhile.
    const limit = incrementalLimit(now.index.size);
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
