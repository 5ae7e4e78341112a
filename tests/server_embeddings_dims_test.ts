/** /v1/embeddings `dimensions`: the model's own size is accepted, any other is a 400 naming it. */
import { assertEquals } from "./assert.ts";
import { test } from "./harness.ts";
import { postJson, startServer } from "./_server_util.ts";
import { HAVE_SHARED, NO_SHARED_REASON } from "./shared_data.ts";

test("server: embeddings honour dimensions only as the model's size", async () => {
  const s = await startServer({ parallel: 1 });
  try {
    const dim = s.engine.ready().model.config.embeddingLength;
    const ok = await postJson(`${s.url}/v1/embeddings`, { input: "Once", dimensions: dim });
    assertEquals([ok.status, ok.body.data[0].embedding.length], [200, dim]);
    const bad = await postJson(`${s.url}/v1/embeddings`, { input: "Once", dimensions: dim / 2 });
    assertEquals([bad.status, bad.body.error.param, bad.body.error.code], [
      400,
      "dimensions",
      "invalid_value",
    ]);
  } finally {
    await s.close();
  }
}, { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON });
