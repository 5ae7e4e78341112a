/**
 * Context-store benchmark:
 * - ingest: chunks/s of `ingestText` with a real model as the embedder (default
 *   ../shared/models/stories260K.gguf, a decoder mean-pooled; BERT shapes come with the
 *   encoder architectures), CPU backend;
 * - store: vectors/s written (one transaction per 1,000-chunk document);
 * - search: p50/p99 latency of exact (sqlite-vec) and HNSW (usearch) search at each size,
 *   recall@10 of HNSW against exact, and the HNSW build time;
 * - a write, then a search: the time of the first HNSW search after writing 1,000 chunks
 *   (the stale index merged with an exact search of the new chunks) and of the incremental
 *   update it starts in the background.
 *
 * usage: deno run -A scripts/bench_context.ts [--sizes 10000,100000] [--dim 384]
 *        [--queries 100] [--model PATH] [--ingest-chunks 200 (0: skip)]
 *        [--beams 512,2048,8192 (recall and latency of these search beams on the same graph;
 *        the store's own beam is searchBeam(size))]
 *
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadModel } from "../src/api.ts";
import { ingestText } from "../src/context/ingest.ts";
import { modelEmbedder } from "../src/context/model_embedder.ts";
import { hnswCache, searchCollection } from "../src/context/search.ts";
import { ContextStore } from "../src/context/store.ts";
import { sha256Hex } from "../src/runtime/context_io.ts";
import { args, writeStdout } from "../src/runtime/host.ts";
import { rng } from "../tests/random_data.ts";

function flag(name: string, def: string): string {
  const a = args();
  const i = a.indexOf(`--${name}`);
  return i >= 0 && i + 1 < a.length ? a[i + 1] : def;
}

const sizes = flag("sizes", "10000,100000").split(",").map(Number);
const dim = Number(flag("dim", "384"));
const queries = Number(flag("queries", "100"));
const modelPath = flag(
  "model",
  new URL("../../shared/models/stories260K.gguf", import.meta.url).pathname,
);
const ingestChunks = Number(flag("ingest-chunks", "200"));
/** Other search beams to measure on the same graph (recall and latency of each). */
const beams = flag("beams", "").split(",").filter((b) => b !== "").map(Number);
const log = (s: string) => writeStdout(s + "\n");

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};

async function benchIngest(dir: string): Promise<void> {
  const model = await loadModel(modelPath, { backend: "cpu", log: () => {} });
  const e = modelEmbedder(model, { maxTokens: 128 });
  const store = await ContextStore.open(join(dir, "ingest.db"));
  store.createCollection({
    name: "i",
    embedModel: e.model,
    dimension: e.dimension,
    chunkTokens: 64,
  });
  const r = rng(1);
  const words = ["the", "cat", "sat", "on", "a", "mat", "and", "saw", "big", "red", "ball", "sun"];
  const text = Array.from({ length: ingestChunks * 60 }, () => words[Math.floor((r() + 0.5) * 12)])
    .join(" ");
  const t0 = performance.now();
  const res = await ingestText(store, "i", e, { source: "bench.txt", text }, { batchSize: 32 });
  const s = (performance.now() - t0) / 1000;
  log(
    `ingest: ${res.document.chunks} chunks of 64 tokens in ${s.toFixed(2)} s = ${
      (res.document.chunks / s).toFixed(1)
    } chunks/s (${model.config.arch}, dim ${e.dimension}, ${res.reused} reused, CPU)`,
  );
  await store.close();
  e.dispose();
  model.dispose();
}

/** Writes document `d` of `count` random chunks. */
function writeDoc(store: ContextStore, d: number, count: number, vec: () => Float32Array) {
  return store.writeDocument("s", { source: `d${d}`, contentHash: `${d}`, bytes: 0 }, (w) => {
    for (let i = 0; i < count; i++) {
      w.insert([{
        text: `chunk ${d}/${i}`,
        tokens: 2,
        textHash: sha256Hex(`${d}/${i}`),
        embedding: vec(),
      }]);
    }
    return Promise.resolve();
  });
}

async function benchSearch(dir: string, n: number): Promise<void> {
  const store = await ContextStore.open(join(dir, `s${n}.db`));
  store.createCollection({ name: "s", embedModel: "random", dimension: dim });
  const r = rng(n);
  const vec = () => Float32Array.from({ length: dim }, r);
  const t0 = performance.now();
  for (let d = 0; d * 1000 < n; d++) await writeDoc(store, d, Math.min(1000, n - d * 1000), vec);
  const ws = (performance.now() - t0) / 1000;
  log(`store ${n}: wrote ${n} x ${dim} vectors in ${ws.toFixed(1)} s = ${(n / ws).toFixed(0)}/s`);
  const qs = Array.from({ length: queries }, vec);
  const tb = performance.now();
  await searchCollection(store, "s", qs[0], { k: 10, index: "hnsw" });
  log(
    `hnsw ${n}: built in ${((performance.now() - tb) / 1000).toFixed(1)} s (rebuilds ${
      hnswCache(store).rebuilds
    })`,
  );
  const exactIds: number[][] = [];
  for (const index of ["exact", "hnsw"] as const) {
    const times: number[] = [];
    let found = 0;
    for (let i = 0; i < qs.length; i++) {
      const t = performance.now();
      const hits = await searchCollection(store, "s", qs[i], { k: 10, index });
      times.push(performance.now() - t);
      if (index === "exact") exactIds.push(hits.map((h) => h.chunkId));
      else found += hits.filter((h) => exactIds[i].includes(h.chunkId)).length;
    }
    const recall = index === "hnsw" ? ` recall@10 ${(found / (qs.length * 10)).toFixed(3)}` : "";
    log(
      `search ${index} ${n}: p50 ${pct(times, 0.5).toFixed(2)} ms p99 ${
        pct(times, 0.99).toFixed(2)
      } ms${recall}`,
    );
  }
  const cache = hnswCache(store);
  const c = store.collection("s");
  const view = await cache.get(c.name, c.metric);
  for (const beam of beams) {
    const times: number[] = [];
    let found = 0;
    for (let i = 0; i < qs.length; i++) {
      const t = performance.now();
      const r = view.index.search(qs[i], 10, beam);
      times.push(performance.now() - t);
      found += [...r.keys].filter((key) => exactIds[i].includes(Number(key))).length;
    }
    log(
      `hnsw ${n} beam ${beam}: p50 ${pct(times, 0.5).toFixed(2)} ms p99 ${
        pct(times, 0.99).toFixed(2)
      } ms recall@10 ${(found / (qs.length * 10)).toFixed(3)} (graph only, no SQLite)`,
    );
  }
  await writeDoc(store, n, 1000, vec);
  const tw = performance.now();
  const first = await searchCollection(store, "s", qs[0], { k: 10, index: "hnsw" });
  const firstMs = performance.now() - tw;
  const fresh = await searchCollection(store, "s", qs[0], { k: 10, index: "exact" });
  const same = first.filter((h) => fresh.some((x) => x.chunkId === h.chunkId)).length;
  await cache.settled(c.id, c.metric);
  log(
    `hnsw ${n}: first search after writing 1,000 chunks ${firstMs.toFixed(0)} ms (stale index ` +
      `+ exact over the new chunks; ${same}/10 of exact), update done in the background after ${
        (performance.now() - tw).toFixed(0)
      } ms (${cache.updates} incremental update, ${cache.rebuilds} full build)`,
  );
  await store.close();
}

const dir = mkdtempSync(join(tmpdir(), "rocmforge-bench-context-"));
try {
  if (ingestChunks > 0) await benchIngest(dir);
  for (const n of sizes) await benchSearch(dir, n);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
