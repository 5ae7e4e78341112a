/**
 * Concurrency: 32 simultaneous streams over 4 slots stay separate and complete; a client
 * that disconnects (streaming or queued) frees its slot; a full queue answers 429; shutdown
 * cancels in-flight work and refuses new requests.
 */
import { test } from "./harness.ts";
import { assert, assertEquals, assertStrictEquals } from "./assert.ts";
import { HAVE_SHARED, NO_SHARED_REASON } from "./shared_data.ts";
import { type Json, metrics, postJson, sseEvents, startServer, waitFor } from "./_server_util.ts";

const skip = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };

const NAMES = ["Lily", "Tom", "Sue", "Ben", "Max", "Mia", "Sam", "Tim"];
const THINGS = ["a red ball", "a big dog", "a little bird", "a shiny car"];

/** 32 distinct prompts. */
const PROMPTS = NAMES.flatMap((n) => THINGS.map((t) => `${n} had ${t}.`));

function streamCompletion(
  url: string,
  prompt: string,
  extra: Record<string, unknown> = {},
  signal?: AbortSignal,
) {
  return fetch(`${url}/v1/completions`, {
    method: "POST",
    body: JSON.stringify({ prompt, max_tokens: 16, temperature: 0, stream: true, ...extra }),
    signal,
  });
}

test("load: 32 concurrent streams over 4 slots are complete and unmixed", async () => {
  const s = await startServer({ parallel: 4, queueSize: 64 });
  try {
    assertStrictEquals(PROMPTS.length, 32);
    // Reference answers, one at a time, not streamed.
    const expected: string[] = [];
    for (const p of PROMPTS) {
      const r = await postJson(`${s.url}/v1/completions`, {
        prompt: p,
        max_tokens: 16,
        temperature: 0,
      });
      assertStrictEquals(r.status, 200);
      expected.push(r.body.choices[0].text);
    }
    assert(
      new Set(expected).size >= 10,
      `prompts give distinct answers (${new Set(expected).size})`,
    );
    let maxActive = 0;
    let maxQueued = 0;
    const poll = setInterval(() => {
      const slots = s.engine.ready().slots;
      maxActive = Math.max(maxActive, slots.active);
      maxQueued = Math.max(maxQueued, slots.queued);
    }, 2);
    const results = await Promise.all(PROMPTS.map(async (p) => {
      const res = await streamCompletion(s.url, p);
      assertStrictEquals(res.status, 200);
      let text = "";
      let done = false;
      let id: string | undefined;
      for await (const ev of sseEvents(res)) {
        if (ev === "[DONE]") {
          done = true;
          break;
        }
        id ??= ev.id;
        assertStrictEquals(ev.id, id, "one id per stream");
        text += ev.choices[0].text;
      }
      assert(done, "stream ended with [DONE]");
      return text;
    }));
    clearInterval(poll);
    assertEquals(results, expected);
    assertStrictEquals(maxActive, 4, "all four slots were used at once");
    assert(maxQueued > 0, "requests waited in the queue");
    const m = await metrics(s.url);
    assertStrictEquals(
      m.get('rocmforge_requests_total{endpoint="/v1/completions",status="200"}'),
      64,
    );
    assertStrictEquals(m.get("rocmforge_slots_active"), 0);
    assertStrictEquals(m.get("rocmforge_queue_depth"), 0);
    // Continuous batching: the four busy slots shared forward passes.
    const perPass = m.get("rocmforge_batch_sequences_total")! /
      m.get("rocmforge_batch_passes_total")!;
    assert(perPass > 1.5, `${perPass.toFixed(2)} sequences per forward pass`);
  } finally {
    await s.close();
  }
}, skip);

test("load: a client that disconnects mid-stream or while queued frees its place", async () => {
  const s = await startServer({ parallel: 1, queueSize: 4 });
  try {
    const ac = new AbortController();
    const long = { max_tokens: 1500, ignore_eos: true };
    const res = await streamCompletion(s.url, "Once upon a time", long, ac.signal);
    const events = sseEvents(res);
    for (let i = 0; i < 3; i++) await events.next();
    // A second request waits for the only slot; its client gives up.
    const queuedAc = new AbortController();
    const queued = fetch(`${s.url}/v1/completions`, {
      method: "POST",
      body: JSON.stringify({ prompt: "Tom had a dog.", ...long }),
      signal: queuedAc.signal,
    }).catch((e) => e);
    await waitFor("the second request to queue", () => s.engine.ready().slots.queued === 1);
    queuedAc.abort();
    await queued;
    await waitFor("the queue to empty", () => s.engine.ready().slots.queued === 0);
    ac.abort();
    await events.return(undefined).catch(() => {});
    await waitFor("the slot to be freed", async () => {
      const m = await metrics(s.url);
      return m.get("rocmforge_slots_active") === 0 &&
        m.get("rocmforge_requests_cancelled_total") === 1;
    });
    const m = await metrics(s.url);
    assert(m.get("rocmforge_generated_tokens_total")! < 1500, "generation stopped early");
    // The freed slot serves a new request.
    const r = await postJson(`${s.url}/v1/completions`, {
      prompt: "Sue had",
      max_tokens: 4,
      temperature: 0,
    });
    assertStrictEquals(r.status, 200);
    assertStrictEquals(r.body.usage.completion_tokens, 4);
  } finally {
    await s.close();
  }
}, skip);

test("load: a full queue answers 429 with an OpenAI error", async () => {
  const s = await startServer({ parallel: 1, queueSize: 1 });
  try {
    const acs = [new AbortController(), new AbortController()];
    const long = { max_tokens: 1500, ignore_eos: true };
    const first = await streamCompletion(s.url, "Once upon a time", long, acs[0].signal);
    const events = sseEvents(first);
    await events.next();
    const second = streamCompletion(s.url, "Ben had a cat.", long, acs[1].signal).catch((e) => e);
    await waitFor("the second request to queue", () => s.engine.ready().slots.queued === 1);
    for (const path of ["/v1/completions", "/v1/chat/completions"]) {
      const body = path === "/v1/completions"
        ? { prompt: "Mia", max_tokens: 2 }
        : { messages: [{ role: "user", content: "Hi" }], max_tokens: 2 };
      const r = await postJson(`${s.url}${path}`, body);
      assertStrictEquals(r.status, 429);
      assertStrictEquals(r.body.error.code, "queue_full");
      assertStrictEquals(r.body.error.type, "rate_limit_error");
      assertStrictEquals(r.headers.get("retry-after"), "1", "429 says when to retry");
    }
    acs.forEach((a) => a.abort());
    await events.return(undefined).catch(() => {});
    await second;
    await waitFor("slots to free", () => s.engine.ready().slots.active === 0);
  } finally {
    await s.close();
  }
}, skip);

test("load: shutdown cancels in-flight streams and refuses new requests", async () => {
  const s = await startServer({ parallel: 2, queueSize: 4 });
  const res = await streamCompletion(s.url, "Once upon a time", {
    max_tokens: 1500,
    ignore_eos: true,
  });
  const events = sseEvents(res);
  await events.next();
  const engine = s.engine;
  const stopping = engine.shutdown({ graceMs: 50, disposeModel: false });
  assertStrictEquals(engine.state, "stopping");
  let sawDone = false;
  let last: Json = undefined;
  for await (const ev of events) {
    if (ev === "[DONE]") sawDone = true;
    else last = ev;
  }
  assert(!sawDone, "a stream cut by shutdown does not end like a finished one");
  assertStrictEquals(last?.error?.code, "shutting_down", "it ends with an error event");
  await stopping;
  assertStrictEquals(engine.metrics.cancelled, 1);
  const health = await fetch(`${s.url}/health`);
  assertStrictEquals(health.status, 503);
  assertEquals(await health.json(), { status: "stopping" });
  const r = await postJson(`${s.url}/v1/completions`, { prompt: "x" });
  assertStrictEquals(r.status, 503);
  assertStrictEquals(r.body.error.code, "shutting_down");
  await s.close();
}, skip);

test(
  "load: 32 concurrent seeded streams each equal their solo rerun without the prompt cache",
  async () => {
    const s = await startServer({ parallel: 8, queueSize: 64 });
    try {
      const sampled = { max_tokens: 12, temperature: 1, top_k: 40 };
      const streamed = await Promise.all(PROMPTS.map(async (p, i) => {
        const res = await streamCompletion(s.url, p, { ...sampled, seed: 100 + i });
        let text = "";
        for await (const ev of sseEvents(res)) {
          if (ev !== "[DONE]") text += ev.choices[0]?.text ?? "";
        }
        return text;
      }));
      for (let i = 0; i < PROMPTS.length; i++) {
        const solo = await postJson(`${s.url}/v1/completions`, {
          prompt: PROMPTS[i],
          ...sampled,
          seed: 100 + i,
          cache_prompt: false,
        });
        assertStrictEquals(streamed[i], solo.body.choices[0].text, `stream ${i}`);
      }
    } finally {
      await s.close();
    }
  },
  skip,
);
