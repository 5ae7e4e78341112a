/**
 * Compatibility surface: OpenAI routes without /v1 through the official client, any model
 * name unless strict, system_fingerprint, cached_tokens, n > 1 (each choice equals a single
 * request with its seed), CORS preflight before auth, X-Api-Key, 408 for a stalled body.
 */
import OpenAI from "openai";
import { test } from "./harness.ts";
import { assert, assertEquals, assertStrictEquals } from "./assert.ts";
import { HAVE_SHARED, NO_SHARED_REASON } from "./shared_data.ts";
import { greedyText, postJson, startServer } from "./_server_util.ts";

const skip = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };

test("compat: OpenAI routes without /v1, any model name, fingerprint, cached tokens", async () => {
  const s = await startServer({ parallel: 1 });
  try {
    const client = new OpenAI({ baseURL: s.url, apiKey: "unused", maxRetries: 0 });
    const want = await greedyText("Once upon a time", 12);
    const r = await client.completions.create({
      model: "gpt-4o-mini",
      prompt: "Once upon a time",
      max_tokens: 12,
      temperature: 0,
    });
    assertStrictEquals(r.choices[0].text, want.text);
    assert(/^fp_[0-9a-f]{12}$/.test(r.system_fingerprint ?? ""), r.system_fingerprint);
    // The same prompt again: all but its last token come from the slot's cache.
    const again = await postJson(`${s.url}/completions`, {
      prompt: "Once upon a time",
      max_tokens: 12,
      temperature: 0,
    });
    assertStrictEquals(again.body.choices[0].text, want.text);
    assertStrictEquals(
      again.body.usage.prompt_tokens_details.cached_tokens,
      want.promptTokens - 1,
    );
    const off = await postJson(`${s.url}/completions`, {
      prompt: "Once upon a time",
      max_tokens: 12,
      temperature: 0,
      cache_prompt: false,
    });
    assertStrictEquals(off.body.usage.prompt_tokens_details.cached_tokens, 0);
    assertStrictEquals(off.body.choices[0].text, want.text);
    const chat = await client.chat.completions.create({
      model: "anything",
      messages: [{ role: "user", content: "Hi" }],
      max_tokens: 4,
    });
    assertStrictEquals(chat.system_fingerprint, r.system_fingerprint);
    const models = await client.models.list();
    assertStrictEquals(models.data[0].id, "stories260K");
    const e = await client.embeddings.create({ model: "x", input: "a dog" });
    assertStrictEquals(
      e.data[0].embedding.length,
      s.engine.ready().model.config.embeddingLength,
    );
  } finally {
    await s.close();
  }
  const strict = await startServer({ parallel: 1, strictModel: true });
  try {
    const r = await postJson(`${strict.url}/v1/completions`, { prompt: "a", model: "gpt-9" });
    assertStrictEquals(r.status, 404);
    assertStrictEquals(r.body.error.code, "model_not_found");
  } finally {
    await strict.close();
  }
}, skip);

test(
  "compat: n > 1 choices share the prompt and each equals a solo run with its seed",
  async () => {
    const s = await startServer({ parallel: 2 });
    try {
      const base = { prompt: "Lily and Tom", max_tokens: 10, temperature: 1, seed: 7 };
      const multi = await postJson(`${s.url}/v1/completions`, { ...base, n: 3 });
      assertStrictEquals(multi.status, 200);
      assertStrictEquals(multi.body.choices.length, 3);
      const solo: string[] = [];
      let promptTokens = 0;
      for (let i = 0; i < 3; i++) {
        const r = await postJson(`${s.url}/v1/completions`, {
          ...base,
          seed: 7 + i,
          cache_prompt: false,
        });
        solo.push(r.body.choices[0].text);
        promptTokens = r.body.usage.prompt_tokens;
      }
      assertEquals(multi.body.choices.map((c: { text: string }) => c.text), solo);
      assert(new Set(solo).size > 1, "different seeds give different choices");
      assertEquals(multi.body.choices.map((c: { index: number }) => c.index), [0, 1, 2]);
      const u = multi.body.usage;
      assertStrictEquals(u.prompt_tokens, promptTokens, "the prompt is counted once");
      assertStrictEquals(u.completion_tokens, 30);
      // Streaming chat with n = 2: both indices appear, each with a finish reason.
      const res = await fetch(`${s.url}/v1/chat/completions`, {
        method: "POST",
        body: JSON.stringify({
          messages: [{ role: "user", content: "Hi" }],
          max_tokens: 4,
          n: 2,
          seed: 3,
          temperature: 1,
          stream: true,
        }),
      });
      const text = await res.text();
      const events = text.split("\n\n").filter((l) => l.startsWith("data: {")).map((l) =>
        JSON.parse(l.slice(6))
      );
      const finished = events.flatMap((e) => e.choices).filter((c) => c.finish_reason);
      assertEquals(finished.map((c) => c.index), [0, 1]);
      assert(text.trimEnd().endsWith("data: [DONE]"));
    } finally {
      await s.close();
    }
  },
  skip,
);

test("compat: CORS preflight before auth, X-Api-Key, 408 for a stalled body", async () => {
  const KEY = "k-123";
  const s = await startServer({
    parallel: 1,
    apiKey: KEY,
    corsOrigins: ["http://app.example"],
    bodyTimeoutMs: 300,
  });
  try {
    const pre = await fetch(`${s.url}/v1/chat/completions`, {
      method: "OPTIONS",
      headers: {
        origin: "http://app.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      },
    });
    assertStrictEquals(pre.status, 204, "preflight needs no key");
    assertStrictEquals(pre.headers.get("access-control-allow-origin"), "http://app.example");
    assert(pre.headers.get("access-control-allow-methods")?.includes("POST"));
    const other = await fetch(`${s.url}/v1/models`, {
      method: "OPTIONS",
      headers: { origin: "http://evil.example", "access-control-request-method": "GET" },
    });
    assertStrictEquals(other.status, 403);
    assertStrictEquals((await other.json()).error.code, "cors_origin_not_allowed");
    const withKey = await fetch(`${s.url}/v1/models`, {
      headers: { origin: "http://app.example", "x-api-key": KEY },
    });
    assertStrictEquals(withKey.status, 200);
    assertStrictEquals(withKey.headers.get("access-control-allow-origin"), "http://app.example");
    await withKey.body?.cancel();
    const wrong = await fetch(`${s.url}/v1/models`, { headers: { "x-api-key": "nope" } });
    assertStrictEquals(wrong.status, 401);
    await wrong.body?.cancel();
    // A chunked body that never ends (a raw socket: fetch would wait for its own upload).
    const { connect } = await import("node:net");
    const sock = connect(Number(new URL(s.url).port), "127.0.0.1");
    const t0 = performance.now();
    const answer = await new Promise<string>((resolve, reject) => {
      let got = "";
      sock.on("data", (d) => {
        got += String(d);
        if (got.includes("}}")) resolve(got);
      });
      sock.on("error", reject);
      sock.on("close", () => resolve(got));
      sock.write(
        `POST /v1/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${KEY}\r\n` +
          `content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n` +
          `10\r\n{"prompt": "Once\r\n`,
      );
    });
    sock.destroy();
    assert(answer.startsWith("HTTP/1.1 408"), answer.split("\r\n")[0]);
    assert(answer.includes('"request_timeout"'), answer);
    assert(performance.now() - t0 < 5000, "answered soon after the timeout");
  } finally {
    await s.close();
  }
}, skip);

test("compat: /v1/responses through the openai client, plain and streamed", async () => {
  const s = await startServer({ parallel: 1 });
  try {
    const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const r = await client.responses.create({
      model: "gpt-4.1",
      input: "Tell me a story",
      instructions: "You are a storyteller.",
      max_output_tokens: 6,
      temperature: 0,
    });
    assertStrictEquals(r.status, "incomplete");
    assertStrictEquals(r.usage?.output_tokens, 6);
    assert(r.output_text.length > 0, "output_text aggregates the message");
    const stream = await client.responses.create({
      model: "gpt-4.1",
      input: [{ role: "user", content: "Tell me a story" }],
      instructions: "You are a storyteller.",
      max_output_tokens: 6,
      temperature: 0,
      stream: true,
    });
    let deltas = "";
    let final = "";
    for await (const ev of stream) {
      if (ev.type === "response.output_text.delta") deltas += ev.delta;
      if (ev.type === "response.incomplete") {
        const item = ev.response.output[0];
        if (item.type === "message" && item.content[0].type === "output_text") {
          final = item.content[0].text;
        }
      }
    }
    assertStrictEquals(deltas, r.output_text);
    assertStrictEquals(final, r.output_text);
    const bad = await postJson(`${s.url}/v1/responses`, { input: "x", tools: [] });
    assertStrictEquals(bad.status, 400);
    assertStrictEquals(bad.body.error.param, "tools");
  } finally {
    await s.close();
  }
}, skip);
