import { test } from "../../tests/harness.ts";
import { assertEquals, assertRejects, assertThrows } from "../../tests/assert.ts";
import { z } from "zod";
import { readJson, validate } from "./body.ts";
import { ApiError } from "./errors.ts";

const req = (body: string, headers: Record<string, string> = {}) =>
  new Request("http://x/", { method: "POST", body, headers });

const isApi = (status: number, code: string, param: string | null = null) => (e: unknown) =>
  e instanceof ApiError && e.status === status && e.code === code && e.param === param;

test("body: JSON within the limit parses; past it is a 413; bad JSON is a 400", async () => {
  assertEquals(await readJson(req('{"a":[1,2]}'), 100), { a: [1, 2] });
  await assertRejects(readJson(req("x".repeat(101)), 100), isApi(413, "request_too_large"));
  await assertRejects(
    readJson(req("{}", { "content-length": "5000" }), 100),
    isApi(413, "request_too_large"),
  );
  await assertRejects(readJson(req("{nope"), 100), isApi(400, "invalid_json"));
  await assertRejects(readJson(req("  "), 100), isApi(400, "invalid_json"));
});

test("body: validation names the first bad field", () => {
  const S = z.object({
    n: z.number().int().min(0),
    items: z.array(z.object({ role: z.enum(["a", "b"]) })).min(1),
  });
  assertEquals(validate(S, { n: 1, items: [{ role: "a" }] }), { n: 1, items: [{ role: "a" }] });
  assertThrows(
    () => validate(S, { n: -1, items: [{ role: "a" }] }),
    isApi(400, "invalid_value", "n"),
  );
  assertThrows(
    () => validate(S, { n: "1", items: [{ role: "a" }] }),
    isApi(400, "invalid_type", "n"),
  );
  assertThrows(() => validate(S, { items: [{ role: "a" }] }), isApi(400, "missing_field", "n"));
  assertThrows(
    () => validate(S, { n: 1, items: [{ role: "a" }, { role: "c" }] }),
    isApi(400, "invalid_value", "items[1].role"),
  );
  assertThrows(() => validate(S, [1]), isApi(400, "invalid_type", null));
  assertThrows(() => validate(S, { n: 1, items: [] }), isApi(400, "invalid_value", "items"));
});
