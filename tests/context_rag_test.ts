/**
 * Retrieval-augmented prompts (src/context/rag.ts): the retrieved chunks appear in the block
 * with their sources, in rank order, their ids come back, the block goes into the last user
 * message, a token budget keeps only what fits, and bad input is a typed error.
 *
 * @module
 */
import { ContextError } from "../src/context/errors.ts";
import { ingestText } from "../src/context/ingest.ts";
import { contextBlock, lastUserText, retrieveContext, withContext } from "../src/context/rag.ts";
import { ContextStore } from "../src/context/store.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "./assert.ts";
import { tempStoreDir, wordEmbedder } from "./context_helpers.ts";
import { test } from "./harness.ts";

const DOCS: Record<string, string> = {
  "volcano.md": "The volcano Ketubo erupted in spring and covered the valley in grey ash.",
  "bread.md": "Sourdough bread needs a starter, flour, water and salt, and a long slow rise.",
  "comet.md": "The comet Vessa returns every 61 years and was last seen above the harbour.",
};

async function withStore(
  fn: (s: ContextStore, e: ReturnType<typeof wordEmbedder>) => Promise<void>,
) {
  const t = tempStoreDir();
  const s = await ContextStore.open(t.db);
  const e = wordEmbedder(64);
  try {
    s.createCollection({ name: "facts", embedModel: e.model, dimension: e.dimension });
    for (const [source, text] of Object.entries(DOCS)) {
      await ingestText(s, "facts", e, { source, text });
    }
    await fn(s, e);
  } finally {
    await s.close();
    t.cleanup();
  }
}

test("rag: the best chunks are quoted with their sources and their ids come back", async () => {
  await withStore(async (s, e) => {
    const ctx = await retrieveContext(s, "facts", "when did the volcano Ketubo erupt", {
      embedder: e,
      k: 2,
    });
    assertEquals(ctx.hits.length, 2);
    assertEquals(ctx.hits[0].source, "volcano.md");
    assertEquals(ctx.chunkIds, ctx.hits.map((h) => h.chunkId));
    const ids = s.reader.all<{ id: number }>(
      "SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id WHERE d.source = ?",
      ["volcano.md"],
    ).map((r) => r.id);
    assert(ids.includes(ctx.chunkIds[0]), `chunk ${ctx.chunkIds[0]} is volcano.md's`);
    assert(ctx.block.includes("[1] volcano.md (chunk 0)\nThe volcano Ketubo erupted"));
    assert(ctx.block.includes(`[2] ${ctx.hits[1].source}`));
    const messages = [
      { role: "system", content: "Be brief." },
      { role: "user", content: "hello" },
      { role: "assistant", content: "hi" },
      { role: "user", content: "when did the volcano Ketubo erupt" },
    ];
    const out = withContext(messages, ctx);
    assertEquals(out.slice(0, 3), messages.slice(0, 3));
    assertEquals(out[3].content, `${ctx.block}\n\nQuestion: when did the volcano Ketubo erupt`);
    assertEquals(messages[3].content, "when did the volcano Ketubo erupt", "input not modified");
    assertEquals(lastUserText(messages), "when did the volcano Ketubo erupt");
  });
});

test("rag: keyword and hybrid modes, and a token budget keeps only the chunks that fit", async () => {
  await withStore(async (s, e) => {
    const kw = await retrieveContext(s, "facts", "sourdough starter", { mode: "keyword" });
    assertEquals(kw.hits.map((h) => h.source), ["bread.md"]);
    const hy = await retrieveContext(s, "facts", "comet Vessa", { mode: "hybrid", embedder: e });
    assertEquals(hy.hits[0].source, "comet.md");
    const first = e.tokenize(hy.hits[0].text).length;
    const budget = await retrieveContext(s, "facts", "comet Vessa", {
      mode: "hybrid",
      embedder: e,
      maxTokens: first,
    });
    assertEquals(budget.chunkIds, [hy.chunkIds[0]]);
    const none = await retrieveContext(s, "facts", "comet", { embedder: e, maxTokens: 0 });
    assertEquals(none.chunkIds, []);
    assertEquals(none.block, "");
    const msgs = [{ role: "user", content: "comet" }];
    assertEquals(withContext(msgs, none), msgs);
  });
});

test("rag: unknown collections, missing user messages and bad budgets are typed errors", async () => {
  await withStore(async (s, e) => {
    await assertRejects(
      () => retrieveContext(s, "nope", "ash", { embedder: e }),
      (err: unknown) => err instanceof ContextError && err.code === "CONTEXT_UNKNOWN_COLLECTION",
    );
    await assertRejects(
      () => retrieveContext(s, "facts", "ash", { embedder: e, maxTokens: -1 }),
      (err: unknown) => err instanceof ContextError && err.code === "CONTEXT_BAD_OPTION",
    );
    assertThrows(() => lastUserText([{ role: "system", content: "s" }]), ContextError);
    assertEquals(contextBlock([]), "");
  });
});
