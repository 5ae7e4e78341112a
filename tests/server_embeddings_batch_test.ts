/**
 * /v1/embeddings packs short inputs into shared forward passes: a list's vectors equal each
 * input's alone, in fewer scheduler forward steps than inputs.
 */
import { assert, assertEquals } from "./assert.ts";
import { test } from "./harness.ts";
import { postJson, startServer } from "./_server_util.ts";
import { cosine } from "./embed_util.ts";
import { HAVE_SHARED, NO_SHARED_REASON } from "./shared_data.ts";

const INPUTS = ["a small dog", "Once upon a time there was a girl", "hi", "the cat sat", "red"];

test("server: embeddings of several inputs share passes and equal each alone", async () => {
  const s = await startServer({ parallel: 1 });
  try {
    const gate = s.engine.scheduler;
    const before = gate.stats.steps.forward;
    const all = await postJson(`${s.url}/v1/embeddings`, { input: INPUTS });
    assertEquals(all.status, 200);
    const steps = gate.stats.steps.forward - before;
    assert(steps < INPUTS.length, `${steps} forward steps for ${INPUTS.length} inputs`);
    for (const [i, input] of INPUTS.entries()) {
      const one = await postJson(`${s.url}/v1/embeddings`, { input });
      assertEquals([one.status, all.body.data[i].index], [200, i]);
      const c = cosine(all.body.data[i].embedding, one.body.data[0].embedding);
      assert(1 - c <= 1e-6, `input ${i}: cosine ${c}`);
    }
  } finally {
    await s.close();
  }
}, { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON });
