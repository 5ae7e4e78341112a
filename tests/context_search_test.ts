/**
 * Vector search correctness: exact search (sqlite-vec in SQL, and the TypeScript scan)
 * equals a brute-force loop for every metric; HNSW recall@10 against exact; the HNSW file
 * is reused while fresh and brought up to date when the store has changed; filters with HNSW.
 *
 * @module
 */
import { exactSearch } from "../src/context/search_exact.ts";
import { hnswCache, searchCollection } from "../src/context/search.ts";
import { ContextStore } from "../src/context/store.ts";
import type { VectorMetric } from "../src/context/metric.ts";
import { sha256Hex } from "../src/runtime/context_io.ts";
import { assert, assertEquals } from "./assert.ts";
import { bruteForce, randomVectors, tempStoreDir } from "./context_helpers.ts";
import { test } from "./harness.ts";

/** Adds `vectors` as documents of `perDoc` chunks; document i gets metadata {part: i % 3}. */
async function addVectors(
  s: ContextStore,
  name: string,
  vectors: readonly Float32Array[],
  perDoc: number,
  first = 0,
): Promise<void> {
  for (let d = 0; d * perDoc < vectors.length; d++) {
    const source = `doc-${first + d}`;
    await s.writeDocument(name, {
      source,
      contentHash: sha256Hex(source),
      bytes: 0,
      metadata: { part: (first + d) % 3 },
    }, (w) => {
      w.insert(
        vectors.slice(d * perDoc, (d + 1) * perDoc).map((v, i) => ({
          text: `${source} chunk ${i}`,
          tokens: 3,
          textHash: sha256Hex(`${source}/${i}`),
          embedding: v,
        })),
      );
      return Promise.resolve();
    });
  }
}

async function withVectors(
  n: number,
  dim: number,
  metric: VectorMetric,
  fn: (s: ContextStore, data: Float32Array[], chunkIds: number[]) => Promise<void>,
): Promise<void> {
  const t = tempStoreDir();
  const s = await ContextStore.open(t.db);
  try {
    s.createCollection({ name: "v", embedModel: "random", dimension: dim, metric });
    const data = randomVectors(n, dim, 7 + n);
    await addVectors(s, "v", data, 100);
    const ids = s.reader.all<{ id: number }>("SELECT id FROM chunks ORDER BY id").map((r) => r.id);
    await fn(s, data, ids);
  } finally {
    await s.close();
    t.cleanup();
  }
}

for (const metric of ["cosine", "dot", "l2"] as const) {
  test(`exact search (${metric}) equals a brute-force scan, in SQL and in TypeScript`, async () => {
    await withVectors(1500, 24, metric, async (s, data, ids) => {
      assert(s.reader.hasVec, "sqlite-vec loaded");
      const c = s.collection("v");
      for (const q of randomVectors(5, 24, 99)) {
        const want = bruteForce(data, q, 10, metric);
        for (const useVec of [true, false]) {
          const got = exactSearch(s.reader, c.id, q, 10, metric, undefined, useVec);
          assertEquals(got.map((r) => r.id), want.map((w) => ids[w.index]), `vec=${useVec}`);
          got.forEach((r, i) =>
            assert(Math.abs(r.distance! - want[i].distance) < 1e-4, `distance ${i}`)
          );
        }
        const hits = await searchCollection(s, "v", q, { k: 10, index: "exact" });
        assertEquals(hits.map((h) => h.chunkId), want.map((w) => ids[w.index]));
      }
    });
  });
}

test("HNSW recall@10 >= 0.95 against exact; the index file is reused while fresh", async () => {
  await withVectors(3000, 32, "cosine", async (s, data, ids) => {
    const queries = randomVectors(30, 32, 1234);
    let found = 0;
    for (const q of queries) {
      const want = new Set(bruteForce(data, q, 10, "cosine").map((w) => ids[w.index]));
      const got = await searchCollection(s, "v", q, { k: 10, index: "hnsw" });
      assertEquals(got.length, 10);
      found += got.filter((h) => want.has(h.chunkId)).length;
    }
    const recall = found / (queries.length * 10);
    assert(recall >= 0.95, `recall@10 ${recall}`);
    const cache = hnswCache(s);
    assertEquals(cache.rebuilds, 1, "built once for 30 queries");
    // A second store object finds the saved file fresh: no rebuild.
    const again = await ContextStore.open(s.path);
    try {
      await searchCollection(again, "v", queries[0], { k: 10, index: "hnsw" });
      assertEquals(hnswCache(again).rebuilds, 0);
      // A committed write makes it stale: the next search adds the new chunk (no rebuild).
      const extra = randomVectors(1, 32, 555);
      await addVectors(again, "v", extra, 1, 9999);
      const hits = await searchCollection(again, "v", extra[0], { k: 1, index: "hnsw" });
      assertEquals(hits[0].source, "doc-9999");
      await hnswCache(again).settled(again.collection("v").id, "cosine");
      assertEquals([hnswCache(again).rebuilds, hnswCache(again).updates], [0, 1]);
    } finally {
      await again.close();
    }
  });
});

test("HNSW with a metadata filter returns only matching documents, k of them", async () => {
  await withVectors(3000, 16, "l2", async (s, data, ids) => {
    const q = randomVectors(1, 16, 4321)[0];
    const hits = await searchCollection(s, "v", q, { k: 10, index: "hnsw", filter: { part: 1 } });
    assertEquals(hits.length, 10);
    assert(hits.every((h) => h.metadata.part === 1));
    const exact = await searchCollection(s, "v", q, { k: 10, index: "exact", filter: { part: 1 } });
    const overlap = hits.filter((h) => exact.some((x) => x.chunkId === h.chunkId)).length;
    assert(overlap >= 9, `filtered HNSW agrees with exact on ${overlap}/10`);
    assert(exact.every((h) => h.metadata.part === 1));
    const all = bruteForce(data, q, 3000, "l2").map((w) => ids[w.index]);
    const partOf = new Map(
      s.reader.all<{ id: number; part: number }>(
        "SELECT c.id, json_extract(d.metadata, '$.part') AS part FROM chunks c JOIN documents d ON d.id = c.document_id",
      ).map((r) => [r.id, r.part]),
    );
    assertEquals(
      exact.map((h) => h.chunkId),
      all.filter((id) => partOf.get(id) === 1).slice(0, 10),
    );
  });
});
