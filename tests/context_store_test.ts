/**
 * Context store: collections, ingestion (chunking, dedupe, replace), keyword and hybrid
 * search, metadata filters, and bad input as typed errors.
 *
 * @module
 */
import { writeFileSync } from "node:fs";
import { ContextError } from "../src/context/errors.ts";
import { ingestFile, ingestText } from "../src/context/ingest.ts";
import { searchCollection } from "../src/context/search.ts";
import { ContextStore } from "../src/context/store.ts";
import { join } from "./_path.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "./assert.ts";
import { tempStoreDir, wordEmbedder } from "./context_helpers.ts";
import { test } from "./harness.ts";

const code = (c: string) => (e: unknown) => e instanceof ContextError && e.code === c;

async function withStore(fn: (s: ContextStore, dir: string) => Promise<void>): Promise<void> {
  const t = tempStoreDir();
  const s = await ContextStore.open(t.db);
  try {
    await fn(s, t.dir);
  } finally {
    await s.close();
    t.cleanup();
  }
}

const e = wordEmbedder(64);
const create = (s: ContextStore, name = "notes", chunkTokens = 16, chunkOverlap = 4) =>
  s.createCollection({
    name,
    embedModel: e.model,
    dimension: e.dimension,
    chunkTokens,
    chunkOverlap,
  });

test("collections: create, list, show, delete; duplicates and bad names are typed errors", async () => {
  await withStore(async (s) => {
    const c = create(s);
    assertEquals([c.name, c.dimension, c.metric, c.chunkTokens], ["notes", 64, "cosine", 16]);
    assertThrows(() => create(s), code("CONTEXT_COLLECTION_EXISTS"));
    assertThrows(() => create(s, "bad name!"), code("CONTEXT_BAD_NAME"));
    assertThrows(() => create(s, "x", 16, 9), code("CONTEXT_BAD_OPTION"));
    create(s, "other");
    assertEquals(s.listCollections().map((x) => [x.name, x.documents, x.chunks]), [
      ["notes", 0, 0],
      ["other", 0, 0],
    ]);
    await s.deleteCollection("other");
    assertEquals(s.listCollections().map((x) => x.name), ["notes"]);
    assertThrows(() => s.collection("other"), code("CONTEXT_UNKNOWN_COLLECTION"));
    await assertRejects(() => s.deleteCollection("other"), code("CONTEXT_UNKNOWN_COLLECTION"));
  });
});

test("ingest: token chunks with overlap, unchanged / replaced / duplicate, chunk embedding reuse", async () => {
  await withStore(async (s) => {
    create(s);
    const words = Array.from({ length: 40 }, (_, i) => `w${i}`).join(" ");
    const r1 = await ingestText(s, "notes", e, { source: "a.txt", text: words });
    assertEquals(r1.status, "added");
    // 40 tokens, windows of 16 stepping by 12: [0,16) [12,28) [24,40) and nothing more.
    assertEquals(r1.document.chunks, 3);
    const rows = await searchCollection(s, "notes", '"w12 w13"', { mode: "keyword", k: 10 });
    assertEquals(rows.map((h) => h.seq).sort(), [0, 1], "the overlap puts w12 in chunks 0 and 1");
    const r2 = await ingestText(s, "notes", e, { source: "a.txt", text: words });
    assertEquals(r2.status, "unchanged");
    const r3 = await ingestText(s, "notes", e, { source: "b.txt", text: words });
    assertEquals([r3.status, r3.document.source], ["duplicate", "a.txt"]);
    const calls = e.calls;
    const r4 = await ingestText(s, "notes", e, { source: "a.txt", text: words + " w40 w41" });
    assertEquals(r4.status, "replaced");
    assertEquals(r4.document.chunks, 4);
    assert(r4.reused >= 2, "the first chunks are identical: their embeddings are reused");
    assertEquals(e.calls - calls, 4 - r4.reused);
    assertEquals(s.documents("notes").map((d) => [d.source, d.chunks]), [["a.txt", 4]]);
    const old = await searchCollection(s, "notes", "w1", { mode: "keyword", k: 50 });
    assert(
      old.every((h) => h.documentId === r4.document.id),
      "no chunk of the old version remains",
    );
    await s.removeDocument("notes", "a.txt");
    assertEquals(s.documents("notes"), []);
    await assertRejects(() => s.removeDocument("notes", "a.txt"), code("CONTEXT_UNKNOWN_DOCUMENT"));
  });
});

test("search: FTS exact phrase, vector ranking, hybrid, metadata filters", async () => {
  await withStore(async (s) => {
    create(s, "kb", 64, 0);
    const docs = [
      ["cats.md", "the quick brown fox jumps over the lazy dog", { lang: "en", year: 2020 }],
      ["reverse.md", "the brown quick fox is not the phrase", { lang: "en", year: 2021 }],
      ["de.md", "der schnelle braune fuchs springt", { lang: "de", draft: true }],
    ] as const;
    for (const [source, text, metadata] of docs) {
      await ingestText(s, "kb", e, { source, text }, { metadata });
    }
    const phrase = await searchCollection(s, "kb", '"quick brown fox"', { mode: "keyword" });
    assertEquals(phrase.map((h) => h.source), ["cats.md"]);
    const words = await searchCollection(s, "kb", "quick brown fox", { mode: "keyword" });
    assertEquals(words.map((h) => h.source).sort(), ["cats.md", "reverse.md"]);
    const vec = await searchCollection(s, "kb", "schnelle braune fuchs", { embedder: e, k: 3 });
    assertEquals(vec[0].source, "de.md");
    assert(vec[0].score > vec[1].score && vec[0].distance! < vec[1].distance!);
    const en = await searchCollection(s, "kb", "schnelle braune fuchs", {
      embedder: e,
      filter: { lang: "en" },
    });
    assertEquals(en.map((h) => h.source).sort(), ["cats.md", "reverse.md"]);
    const y = await searchCollection(s, "kb", "fox", { mode: "keyword", filter: { year: 2021 } });
    assertEquals(y.map((h) => h.source), ["reverse.md"]);
    const d = await searchCollection(s, "kb", "fuchs", { embedder: e, filter: { draft: true } });
    assertEquals(d.map((h) => h.source), ["de.md"]);
    assertEquals(d[0].metadata, { lang: "de", draft: true });
    const hy = await searchCollection(s, "kb", "lazy dog", { mode: "hybrid", embedder: e, k: 2 });
    assertEquals(hy[0].source, "cats.md");
    await assertRejects(
      () => searchCollection(s, "kb", "x", { embedder: e, filter: { 'a"b': 1 } }),
      code("CONTEXT_BAD_FILTER"),
    );
    await assertRejects(
      () => searchCollection(s, "kb", '"unbalanced', { mode: "keyword" }),
      code("CONTEXT_BAD_QUERY"),
    );
  });
});

test("bad input: wrong dimension, wrong model, unknown collection, binary and empty files", async () => {
  await withStore(async (s, dir) => {
    create(s);
    await assertRejects(
      () => searchCollection(s, "notes", new Float32Array(63)),
      code("CONTEXT_DIMENSION_MISMATCH"),
    );
    await assertRejects(
      () => ingestText(s, "notes", wordEmbedder(64, "other-model"), { source: "x", text: "hello" }),
      code("CONTEXT_MODEL_MISMATCH"),
    );
    await assertRejects(
      () => ingestText(s, "notes", wordEmbedder(32, e.model), { source: "x", text: "hello" }),
      code("CONTEXT_DIMENSION_MISMATCH"),
    );
    await assertRejects(
      () => ingestText(s, "nope", e, { source: "x", text: "hello" }),
      code("CONTEXT_UNKNOWN_COLLECTION"),
    );
    await assertRejects(
      () => searchCollection(s, "nope", "hello"),
      code("CONTEXT_UNKNOWN_COLLECTION"),
    );
    const bin = join(dir, "a.bin");
    writeFileSync(bin, new Uint8Array([0x68, 0x69, 0, 1, 2]));
    await assertRejects(() => ingestFile(s, "notes", e, bin), code("CONTEXT_BINARY_FILE"));
    const latin1 = join(dir, "l.txt");
    writeFileSync(latin1, new Uint8Array([0x63, 0x61, 0x66, 0xe9, 0x20, 0x21]));
    await assertRejects(() => ingestFile(s, "notes", e, latin1), code("CONTEXT_BINARY_FILE"));
    const empty = join(dir, "empty.txt");
    writeFileSync(empty, "");
    await assertRejects(() => ingestFile(s, "notes", e, empty), code("CONTEXT_EMPTY_DOCUMENT"));
    writeFileSync(empty, "  \n\t \n");
    await assertRejects(() => ingestFile(s, "notes", e, empty), code("CONTEXT_EMPTY_DOCUMENT"));
    await assertRejects(() => ingestFile(s, "notes", e, dir), code("CONTEXT_NOT_A_FILE"));
    await assertRejects(
      () => ingestFile(s, "notes", e, bin, { maxBytes: 4 }),
      code("CONTEXT_FILE_TOO_LARGE"),
    );
    assertEquals(s.documents("notes"), [], "nothing was written by the failed adds");
  });
});

test("ingest: a 12 MB file streams through in bounded pieces", async () => {
  await withStore(async (s, dir) => {
    s.createCollection({
      name: "big",
      embedModel: e.model,
      dimension: 64,
      chunkTokens: 4096,
      chunkOverlap: 0,
    });
    const path = join(dir, "big.txt");
    const line = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do\n";
    writeFileSync(path, line.repeat(Math.ceil(12e6 / line.length)));
    const r = await ingestFile(s, "big", e, path, { batchSize: 64 });
    assertEquals(r.status, "added");
    // 10 words per line; each chunk holds 4096 of them.
    const words = Math.ceil(12e6 / line.length) * 10;
    assertEquals(r.document.chunks, Math.ceil(words / 4096));
    assert(r.reused > 0, "identical chunks reuse their embedding");
  });
});
