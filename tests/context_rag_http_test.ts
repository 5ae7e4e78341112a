/**
 * Retrieval-augmented chat over HTTP (`context` on /v1/chat/completions) through the real
 * hono app with stories260K: the retrieved chunks are in the prompt the model saw (its token
 * count equals the augmented conversation's), the response and the first streamed chunk list
 * the chunk ids used, and a missing store, an unknown store or a bad field is a 400 naming it.
 *
 * @module
 */
import { loadModel } from "../src/api.ts";
import { retrieveContext, withContext } from "../src/context/rag.ts";
import { ContextStore } from "../src/context/store.ts";
import { createApp } from "../src/server/app.ts";
import { Engine } from "../src/server/engine.ts";
import { chatPromptTokens } from "../src/server/routes_chat.ts";
import { engineEmbedder, registerVectorStores } from "../src/server/routes_vector_stores.ts";
import { assert, assertEquals } from "./assert.ts";
import { tempStoreDir } from "./context_helpers.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "./shared_data.ts";
import { test } from "./harness.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const QUESTION = "Where did the rocket fly?";

test("chat with context: chunks in the prompt, their ids in the response", async () => {
  const t = tempStoreDir();
  const store = await ContextStore.open(t.db);
  const model = await loadModel(sharedPath("models", "stories260K.gguf"), {
    backend: "cpu",
    log: () => {},
  });
  const engine = new Engine({});
  engine.attach(model);
  const other = new Engine({});
  other.attach(model);
  const bare = createApp({ engine: other });
  const app = createApp({ engine });
  registerVectorStores(app, engine, store);
  const call = async (path: string, body: unknown, on: typeof app = app) => {
    const res = await on.fetch(
      new Request(`http://x${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      }),
    );
    return { status: res.status, text: await res.text() };
  };
  const json = async (path: string, body: unknown, on: typeof app = app) => {
    const r = await call(path, body, on);
    return { status: r.status, body: JSON.parse(r.text) as Json };
  };
  try {
    assertEquals((await json("/v1/vector_stores", { name: "kb" })).status, 200);
    for (
      const [filename, content] of [
        ["space.txt", "The rocket flew to the moon and the stars."],
        ["park.txt", "Lily played with a red ball in the sunny park."],
        ["cake.txt", "Mom baked a big cake for the party."],
      ]
    ) {
      assertEquals((await json("/v1/vector_stores/kb/files", { filename, content })).status, 200);
    }
    const messages = [{ role: "system", content: "Be kind." }, { role: "user", content: QUESTION }];
    const req = { messages, max_tokens: 4, temperature: 0 };
    for (const mode of ["keyword", "vector"] as const) {
      const r = await json("/v1/chat/completions", {
        ...req,
        context: { store: "kb", k: 2, mode },
      });
      assertEquals(r.status, 200, JSON.stringify(r.body));
      const ctx = r.body.context;
      assertEquals([ctx.store, ctx.query], ["kb", QUESTION]);
      assertEquals(ctx.chunk_ids, ctx.sources.map((s: Json) => s.chunk_id));
      if (mode === "keyword") assertEquals(ctx.sources[0].filename, "space.txt");
      // The same retrieval through the library gives the prompt the model saw.
      const lib = await retrieveContext(store, "kb", QUESTION, {
        k: 2,
        mode,
        embedder: mode === "vector" ? engineEmbedder(engine) : undefined,
      });
      assertEquals(ctx.chunk_ids, lib.chunkIds);
      const augmented = withContext(messages, lib);
      assert(augmented[1].content.includes(lib.hits[0].text), "the chunk text is in the prompt");
      const prompt = chatPromptTokens(engine.ready(), augmented, undefined);
      assertEquals(r.body.usage.prompt_tokens, prompt.length);
    }
    const plain = await json("/v1/chat/completions", req);
    assertEquals(plain.body.context, undefined);
    assert(
      plain.body.usage.prompt_tokens < chatPromptTokens(
        engine.ready(),
        withContext(messages, await retrieveContext(store, "kb", QUESTION, { mode: "keyword" })),
        undefined,
      ).length,
    );

    const streamed = await call("/v1/chat/completions", {
      ...req,
      stream: true,
      context: { store: "kb", mode: "keyword" },
    });
    const events = streamed.text.split("\n").filter((l) => l.startsWith("data: {")).map((l) =>
      JSON.parse(l.slice(6))
    );
    assertEquals(events[0].choices[0].delta.role, "assistant");
    assertEquals(events[0].context.sources[0].filename, "space.txt");
    assert(events.slice(1).every((e: Json) => e.context === undefined), "only the first chunk");

    const unknown = await json("/v1/chat/completions", { ...req, context: { store: "nope" } });
    assertEquals([unknown.status, unknown.body.error.param], [400, "context.store"]);
    const field = await json("/v1/chat/completions", { ...req, context: { store: "kb", top: 1 } });
    assertEquals(field.status, 400);
    const noStore = await json("/v1/chat/completions", { ...req, context: { store: "kb" } }, bare);
    assertEquals([noStore.status, noStore.body.error.param], [400, "context"]);
    const doc = await (await app.fetch(new Request("http://x/openapi.json"))).json() as Json;
    const props = doc.components.schemas.ChatCompletionRequest.properties;
    assert(JSON.stringify(props.context).includes("store"), "context is documented");
  } finally {
    await other.shutdown({ graceMs: 0, disposeModel: false });
    await engine.shutdown({ graceMs: 0 });
    await store.close();
    t.cleanup();
  }
}, { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON });
