/**
 * Malformed requests: each gets the documented status and an OpenAI-shaped error body
 * whose `param` names the field at fault, and the server keeps serving afterwards.
 */
import { test } from "./harness.ts";
import { assert, assertEquals, assertStrictEquals } from "./assert.ts";
import { HAVE_SHARED, NO_SHARED_REASON } from "./shared_data.ts";
import { startServer } from "./_server_util.ts";
import type { BadInputCase } from "./server_bad_input_case.ts";
import { CASES_A } from "./server_bad_input_cases_a.ts";
import { CASES_B } from "./server_bad_input_cases_b.ts";

const CASES: BadInputCase[] = [...CASES_A, ...CASES_B];

test(
  `server: ${CASES.length} malformed requests get documented errors; the server keeps serving`,
  async () => {
    const s = await startServer({
      parallel: 1,
      contextLength: 256,
      bodyLimit: 4096,
      strictModel: true,
    });
    try {
      const failures: string[] = [];
      for (const c of CASES) {
        const method = c.method ?? "POST";
        const init: RequestInit = { method, headers: { "content-type": "application/json" } };
        if (c.body !== undefined) {
          init.body = typeof c.body === "string" ? c.body : JSON.stringify(c.body);
        }
        const res = await fetch(`${s.url}${c.path}`, init);
        const text = await res.text();
        if (res.status !== c.status) {
          failures.push(`${c.name}: status ${res.status}, expected ${c.status}: ${text}`);
          continue;
        }
        if (c.status === 200) continue;
        assertStrictEquals(
          res.headers.get("content-type")?.split(";")[0],
          "application/json",
          c.name,
        );
        const body = JSON.parse(text);
        const e = body.error;
        const keys = Object.keys(e ?? {}).sort();
        if (JSON.stringify(keys) !== '["code","message","param","type"]') {
          failures.push(`${c.name}: error body shape ${text}`);
          continue;
        }
        if (e.code !== c.code) {
          failures.push(
            `${c.name}: code ${e.code}, expected ${c.code}: ${text}`,
          );
        }
        if (c.param !== undefined && e.param !== c.param) {
          failures.push(`${c.name}: param ${e.param}, expected ${c.param}: ${text}`);
        }
        if (typeof e.message !== "string" || e.message.length < 5) {
          failures.push(
            `${c.name}: message`,
          );
        }
        if (c.status === 405) assert(res.headers.get("allow"), `${c.name}: Allow header`);
      }
      assertEquals(failures, []);
      assert(CASES.filter((c) => c.status >= 400).length >= 30);
      // Still serving, and every refusal was counted.
      const ok = await fetch(`${s.url}/v1/completions`, {
        method: "POST",
        body: JSON.stringify({ prompt: "Once upon a time", max_tokens: 5, temperature: 0 }),
      });
      assertStrictEquals(ok.status, 200);
      const body = await ok.json();
      assertStrictEquals(body.usage.completion_tokens, 5);
      assertStrictEquals(s.engine.metrics.requestCount("/v1/completions", 200), 2);
      assert(s.engine.metrics.requestCount("/v1/completions", 400) >= 20);
      assertStrictEquals(s.engine.metrics.requestCount("/v1/completions", 413), 1);
    } finally {
      await s.close();
    }
  },
  { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON },
);

test("server: a chunked body past the limit is refused without reading it all", async () => {
  const s = await startServer({ parallel: 1, bodyLimit: 1024 });
  try {
    let sent = 0;
    const TOTAL = 64 << 20;
    const chunk = new TextEncoder().encode(" ".repeat(64 << 10));
    const body = new ReadableStream<Uint8Array>({
      pull(ctrl) {
        if (sent >= TOTAL) return ctrl.close();
        sent += chunk.byteLength;
        ctrl.enqueue(chunk);
      },
    });
    const res = await fetch(`${s.url}/v1/completions`, {
      method: "POST",
      body,
      duplex: "half",
    } as RequestInit);
    assertStrictEquals(res.status, 413);
    assertStrictEquals((await res.json()).error.code, "request_too_large");
    assert(sent < TOTAL / 2, `the server stopped reading early (client sent ${sent} bytes)`);
  } finally {
    await s.close();
  }
}, { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON });
