/**
 * n > 1 (issue 14 item 4): the choices of one prompt decode at once on forks of the slot's
 * sequence that copy its prompt KV, in shared forward passes, each with its own seed; each
 * equals a solo run with that seed (cache_prompt false), whether all choices have a fork, some
 * share one, or there are none (choiceForks 0); a client that leaves frees every fork.
 */
import { test } from "./harness.ts";
import { assert, assertEquals, assertStrictEquals } from "./assert.ts";
import { HAVE_SHARED, NO_SHARED_REASON } from "./shared_data.ts";
import { metrics, postJson, startServer, type TestServer, waitFor } from "./_server_util.ts";

const skip = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };
const BASE = { prompt: "Once upon a time", max_tokens: 16, temperature: 1, top_k: 40, seed: 11 };

async function solo(s: TestServer, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await postJson(`${s.url}/v1/completions`, {
      ...BASE,
      seed: BASE.seed + i,
      cache_prompt: false,
    });
    out.push(r.body.choices[0].text);
  }
  return out;
}

async function perPass(s: TestServer, run: () => Promise<unknown>): Promise<number> {
  const before = await metrics(s.url);
  await run();
  const after = await metrics(s.url);
  const d = (k: string) => after.get(k)! - before.get(k)!;
  return d("rocmforge_batch_sequences_total") / d("rocmforge_batch_passes_total");
}

for (const [parallel, choiceForks] of [[2, 3], [1, 1], [1, 0]]) {
  test(`choices: n = 4 with ${choiceForks} forks equal solo runs with their seeds`, async () => {
    const s = await startServer({ parallel, choiceForks });
    try {
      let body: {
        choices: { text: string; index: number }[];
        usage: { completion_tokens: number };
      } = { choices: [], usage: { completion_tokens: 0 } };
      const shared = await perPass(s, async () => {
        const r = await postJson(`${s.url}/v1/completions`, { ...BASE, n: 4 });
        assertStrictEquals(r.status, 200);
        body = r.body;
      });
      assertEquals(body.choices.map((c) => c.index), [0, 1, 2, 3]);
      assertStrictEquals(body.usage.completion_tokens, 64);
      assertEquals(body.choices.map((c) => c.text), await solo(s, 4));
      if (choiceForks > 0) assert(shared > 1.5, `${shared.toFixed(2)} sequences per pass`);
      else assert(shared <= 1, `${shared} sequences per pass without forks`);
      // Every fork was freed (slot sequences stay with their slots).
      assert(s.engine.batchContext!.sequencesLeft >= choiceForks, "forks freed");
    } finally {
      await s.close();
    }
  }, skip);
}

test("choices: a client that leaves a streamed n = 4 frees every fork", async () => {
  const s = await startServer({ parallel: 1, choiceForks: 3 });
  try {
    const ac = new AbortController();
    const res = await fetch(`${s.url}/v1/completions`, {
      method: "POST",
      body: JSON.stringify({ ...BASE, n: 4, max_tokens: 200, ignore_eos: true, stream: true }),
      signal: ac.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    ac.abort();
    await reader.cancel().catch(() => {});
    const ctx = s.engine.batchContext!;
    await waitFor(
      "forks freed",
      () => ctx.sequencesLeft === 3 && s.engine.ready().slots.active === 0,
    );
    const m = await metrics(s.url);
    assertStrictEquals(m.get("rocmforge_requests_cancelled_total"), 1);
  } finally {
    await s.close();
  }
}, skip);
