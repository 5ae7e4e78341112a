/**
 * The vector-store routes through the real hono app (createApp + registerVectorStores) with
 * stories260K as the embedder: create, list, get, upload text files, search (vector,
 * keyword, filters), delete; bad input as 400 with `param`, unknown ids as 404, auth.
 *
 * @module
 */
import { loadModel } from "../src/api.ts";
import { ContextStore } from "../src/context/store.ts";
import { createApp } from "../src/server/app.ts";
import { Engine } from "../src/server/engine.ts";
import { registerVectorStores } from "../src/server/routes_vector_stores.ts";
import { assert, assertEquals } from "./assert.ts";
import { tempStoreDir } from "./context_helpers.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "./shared_data.ts";
import { test } from "./harness.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

test("vector stores over HTTP: create, upload, search, list, delete, errors", async () => {
  const t = tempStoreDir();
  const store = await ContextStore.open(t.db);
  const model = await loadModel(sharedPath("models", "stories260K.gguf"), {
    backend: "cpu",
    log: () => {},
  });
  const engine = new Engine({ apiKey: "sekrit" });
  engine.attach(model);
  const app = createApp({ engine });
  registerVectorStores(app, engine, store);
  const call = async (method: string, path: string, body?: unknown, key = "sekrit") => {
    const res = await app.fetch(
      new Request(`http://x${path}`, {
        method,
        headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    );
    return { status: res.status, body: await res.json() as Json };
  };
  try {
    assertEquals((await call("GET", "/v1/vector_stores", undefined, "wrong")).status, 401);
    const made = await call("POST", "/v1/vector_stores", {
      name: "kb",
      chunking_strategy: {
        type: "static",
        static: { max_chunk_size_tokens: 32, chunk_overlap_tokens: 4 },
      },
    });
    assertEquals(made.status, 200, JSON.stringify(made.body));
    assertEquals([made.body.id, made.body.object, made.body.file_counts.total], [
      "kb",
      "vector_store",
      0,
    ]);
    const up = await call("POST", "/v1/vector_stores/kb/files", {
      filename: "park.txt",
      content: "Lily played with a red ball in the sunny park. ".repeat(5),
      attributes: { topic: "play" },
    });
    assertEquals(up.status, 200, JSON.stringify(up.body));
    assertEquals([up.body.object, up.body.result, up.body.filename], [
      "vector_store.file",
      "added",
      "park.txt",
    ]);
    assert(up.body.chunks > 1);
    await call("POST", "/v1/vector_stores/kb/files", {
      filename: "space.txt",
      content: "The rocket flew to the moon and the stars.",
      attributes: { topic: "space" },
    });
    const s = await call("POST", "/v1/vector_stores/kb/search", {
      query: "rocket moon",
      mode: "keyword",
    });
    assertEquals(s.status, 200);
    assertEquals(s.body.data.map((h: Json) => h.filename), ["space.txt"]);
    assertEquals(s.body.data[0].content[0].text, "The rocket flew to the moon and the stars.");
    const v = await call("POST", "/v1/vector_stores/kb/search", {
      query: "a red ball",
      max_num_results: 3,
      filters: { type: "eq", key: "topic", value: "play" },
    });
    assertEquals(v.status, 200);
    assert(v.body.data.length > 0 && v.body.data.every((h: Json) => h.filename === "park.txt"));
    const list = await call("GET", "/v1/vector_stores");
    assertEquals(list.body.data.map((x: Json) => [x.id, x.file_counts.completed]), [["kb", 2]]);
    assertEquals((await call("GET", "/v1/vector_stores/kb")).body.file_counts.total, 2);

    const bad = await call("POST", "/v1/vector_stores/kb/search", { query: "x", top_k: 3 });
    assertEquals(bad.status, 400);
    const empty = await call("POST", "/v1/vector_stores/kb/files", {
      filename: "e.txt",
      content: "   ",
    });
    assertEquals([empty.status, empty.body.error.code], [400, "invalid_value"]);
    const nul = await call("POST", "/v1/vector_stores/kb/files", {
      filename: "b.bin",
      content: "a\u0000b",
    });
    assertEquals(nul.status, 400);
    const missing = await call("POST", "/v1/vector_stores/nope/search", { query: "x" });
    assertEquals(missing.status, 404);
    const dup = await call("POST", "/v1/vector_stores", { name: "kb" });
    assertEquals(dup.status, 400);
    const badName = await call("POST", "/v1/vector_stores", { name: "no spaces" });
    assertEquals([badName.status, badName.body.error.param], [400, "name"]);

    const delFile = await call("DELETE", `/v1/vector_stores/kb/files/${up.body.id}`);
    assertEquals(delFile.body.deleted, true);
    assertEquals((await call("GET", "/v1/vector_stores/kb")).body.file_counts.total, 1);
    const doc = await call("GET", "/openapi.json");
    assert(doc.body.paths["/v1/vector_stores/{id}/search"].post, "search is documented");
    assertEquals(doc.body.components.schemas.VectorStoreSearchRequest.required, ["query"]);
    const del = await call("DELETE", "/v1/vector_stores/kb");
    assertEquals([del.status, del.body.object], [200, "vector_store.deleted"]);
    assertEquals((await call("GET", "/v1/vector_stores/kb")).status, 404);
  } finally {
    await engine.shutdown({ graceMs: 0 });
    await store.close();
    t.cleanup();
  }
}, { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON });
