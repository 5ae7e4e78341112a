/**
 * --api-key: every route but /health needs `Authorization: Bearer KEY` (401 with an
 * OpenAI error otherwise), through raw HTTP and through the official client.
 */
import OpenAI from "openai";
import { test } from "./harness.ts";
import { assert, assertRejects, assertStrictEquals } from "./assert.ts";
import { HAVE_SHARED, NO_SHARED_REASON } from "./shared_data.ts";
import { startServer } from "./_server_util.ts";

const KEY = "sk-rocmforge-test-1234";

test("auth: 401 without or with a wrong key, 200 with it; /health stays open", async () => {
  const s = await startServer({ apiKey: KEY });
  try {
    const completion = JSON.stringify({ prompt: "Hi", max_tokens: 2, temperature: 0 });
    const routes: [string, string, string?][] = [
      ["GET", "/v1/models"],
      ["POST", "/v1/completions", completion],
      [
        "POST",
        "/v1/chat/completions",
        JSON.stringify({ messages: [{ role: "user", content: "Hi" }], max_tokens: 2 }),
      ],
      ["POST", "/v1/embeddings", JSON.stringify({ input: "Hi" })],
      ["POST", "/tokenize", JSON.stringify({ content: "Hi" })],
      ["GET", "/metrics"],
      ["GET", "/openapi.json"],
    ];
    const bad: (Record<string, string>)[] = [
      {},
      { authorization: "Bearer wrong-key" },
      { authorization: `Bearer ${KEY}x` },
      { authorization: KEY },
      { authorization: `Basic ${KEY}` },
    ];
    for (const [method, path, body] of routes) {
      for (const headers of bad) {
        const res = await fetch(`${s.url}${path}`, { method, headers, body });
        assertStrictEquals(res.status, 401, `${method} ${path} with ${JSON.stringify(headers)}`);
        assertStrictEquals(res.headers.get("www-authenticate"), "Bearer");
        const e = (await res.json()).error;
        assertStrictEquals(e.code, "invalid_api_key");
        assertStrictEquals(e.type, "authentication_error");
        assertStrictEquals(e.param, null);
      }
      const ok = await fetch(`${s.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${KEY}` },
        body,
      });
      assertStrictEquals(ok.status, 200, `${method} ${path} with the key`);
      await ok.body?.cancel();
    }
    const health = await fetch(`${s.url}/health`);
    assertStrictEquals(health.status, 200);
    assertStrictEquals((await health.json()).status, "ok");
    // An unknown route without the key does not reveal whether it exists.
    assertStrictEquals((await fetch(`${s.url}/v1/nothing`)).status, 401);
  } finally {
    await s.close();
  }
}, { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON });

test("auth: the openai client fails with a wrong key and works with the right one", async () => {
  const s = await startServer({ apiKey: KEY });
  try {
    const wrong = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: "nope", maxRetries: 0 });
    await assertRejects(
      wrong.completions.create({ model: "stories260K", prompt: "Hi", max_tokens: 2 }),
      (e: unknown) => e instanceof OpenAI.AuthenticationError && e.status === 401,
    );
    const right = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: KEY, maxRetries: 0 });
    const res = await right.completions.create({
      model: "stories260K",
      prompt: "Hi",
      max_tokens: 3,
      temperature: 0,
    });
    assertStrictEquals(res.usage?.completion_tokens, 3);
    assert(res.choices[0].text.length > 0);
  } finally {
    await s.close();
  }
}, { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON });
