import { test } from "../../tests/harness.ts";
import { assertStrictEquals } from "../../tests/assert.ts";
import { Hono } from "hono";
import { allowedOrigin, cors } from "./cors.ts";

test("cors: allowed origins, preflight answered before later middleware", async () => {
  assertStrictEquals(allowedOrigin(["*"], "http://x"), "*");
  assertStrictEquals(allowedOrigin(["http://a"], "http://a"), "http://a");
  assertStrictEquals(allowedOrigin(["http://a"], "http://b"), undefined);
  const app = new Hono();
  app.use("*", cors(["http://a"]));
  app.use("*", () => {
    throw new Error("auth ran");
  });
  const pre = await app.request("/v1/models", {
    method: "OPTIONS",
    headers: { origin: "http://a", "access-control-request-method": "GET" },
  });
  assertStrictEquals(pre.status, 204);
  assertStrictEquals(pre.headers.get("access-control-allow-origin"), "http://a");
  const off = await new Hono().use("*", cors([])).request("/x", {
    method: "OPTIONS",
    headers: { origin: "http://a", "access-control-request-method": "GET" },
  });
  assertStrictEquals(off.status, 403);
});
