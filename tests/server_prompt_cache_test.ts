/**
 * The server's prompt cache (issue 14 item 3): a prompt evicted from the only slot by another
 * one comes back from the store of evicted prefixes (reported as cached_tokens), another idle
 * slot lends its prefix to a request pinned to a different slot, and every answer equals the
 * one evaluated without the cache.
 */
import { test } from "./harness.ts";
import { assert, assertStrictEquals } from "./assert.ts";
import { HAVE_SHARED, NO_SHARED_REASON } from "./shared_data.ts";
import { greedyText, postJson, startServer } from "./_server_util.ts";

const skip = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };
const STORY = "Once upon a time, there was a little girl named Lily. She loved to play outside";
const OTHER = "Tom had a big red ball and a small dog who liked to run in the park every day";

async function complete(url: string, body: Record<string, unknown>) {
  const r = await postJson(`${url}/completion`, { n_predict: 8, temperature: 0, ...body });
  assertStrictEquals(r.status, 200, JSON.stringify(r.body));
  return r.body as { content: string; timings: { cache_n: number } };
}

test("prompt cache: an evicted prompt returns from the store with cached_tokens", async () => {
  const s = await startServer({ parallel: 1 });
  try {
    const want = await greedyText(STORY, 8);
    const first = await postJson(`${s.url}/v1/completions`, {
      prompt: STORY,
      max_tokens: 8,
      temperature: 0,
    });
    assertStrictEquals(first.body.choices[0].text, want.text);
    await postJson(`${s.url}/v1/completions`, { prompt: OTHER, max_tokens: 8, temperature: 0 });
    assertStrictEquals(s.engine.ready().prompts.size, 1, "the story went to the store");
    const again = await postJson(`${s.url}/v1/completions`, {
      prompt: STORY,
      max_tokens: 8,
      temperature: 0,
    });
    assertStrictEquals(again.body.choices[0].text, want.text);
    assertStrictEquals(
      again.body.usage.prompt_tokens_details.cached_tokens,
      want.promptTokens - 1,
    );
    const off = await postJson(`${s.url}/v1/completions`, {
      prompt: STORY,
      max_tokens: 8,
      temperature: 0,
      cache_prompt: false,
    });
    assertStrictEquals(off.body.usage.prompt_tokens_details.cached_tokens, 0);
    assertStrictEquals(off.body.choices[0].text, want.text);
  } finally {
    await s.close();
  }
}, skip);

test(
  "prompt cache: an idle slot lends its prefix to a request pinned to another slot",
  async () => {
    const s = await startServer({ parallel: 2 });
    try {
      const want = await greedyText(STORY, 8);
      const a = await complete(s.url, { prompt: STORY, id_slot: 0 });
      assertStrictEquals(a.content, want.text);
      const b = await complete(s.url, { prompt: STORY, id_slot: 1 });
      assertStrictEquals(b.content, want.text);
      assert(b.timings.cache_n >= want.promptTokens - 1, `cache_n ${b.timings.cache_n}`);
    } finally {
      await s.close();
    }
  },
  skip,
);
