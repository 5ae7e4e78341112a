import { test } from "../../tests/harness.ts";
import { assertEquals, assertMatch, assertStrictEquals } from "../../tests/assert.ts";
import { createApp, Engine } from "./app.ts";

const call = (app: ReturnType<typeof createApp>, method: string, path: string, body?: unknown) =>
  app.fetch(
    new Request(`http://local${path}`, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  );

test("app: while the model loads, /health is 503 and model routes answer 503", async () => {
  const engine = new Engine({ parallel: 2 });
  const app = createApp({ engine });
  const h = await call(app, "GET", "/health");
  assertStrictEquals(h.status, 503);
  assertEquals(await h.json(), { status: "loading" });
  for (
    const [m, p, b] of [["GET", "/v1/models"], ["POST", "/v1/completions", {
      prompt: "x",
    }]] as const
  ) {
    const r = await call(app, m, p, b);
    assertStrictEquals(r.status, 503);
    const e = (await r.json()).error;
    assertEquals([e.code, e.type], ["model_loading", "unavailable_error"]);
  }
  const metrics = await (await call(app, "GET", "/metrics")).text();
  assertMatch(metrics, /^rocmforge_model_loaded 0$/m);
  assertMatch(metrics, /^rocmforge_requests_total\{endpoint="\/health",status="503"\} 1$/m);
  assertStrictEquals((await call(app, "GET", "/openapi.json")).status, 200);
  assertStrictEquals((await call(app, "GET", "/nope")).status, 404);
  const wrong = await call(app, "PUT", "/v1/chat/completions");
  assertStrictEquals(wrong.status, 405);
  assertStrictEquals(wrong.headers.get("allow"), "POST");

  engine.fail(new Error("file is not GGUF"));
  const failed = await call(app, "GET", "/health");
  assertStrictEquals(failed.status, 503);
  assertEquals(await failed.json(), { status: "error" });
  const r = await call(app, "POST", "/v1/completions", { prompt: "x" });
  assertMatch((await r.json()).error.message, /file is not GGUF/);
});

test("app: the API key guards everything but /health, even while loading", async () => {
  const app = createApp({ engine: new Engine({ apiKey: "k" }) });
  assertStrictEquals((await call(app, "GET", "/health")).status, 503);
  assertStrictEquals((await call(app, "GET", "/metrics")).status, 401);
  const ok = await app.fetch(
    new Request("http://local/metrics", { headers: { authorization: "Bearer k" } }),
  );
  assertStrictEquals(ok.status, 200);
});
