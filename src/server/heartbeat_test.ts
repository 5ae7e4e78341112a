import { test } from "../../tests/harness.ts";
import { assert, assertEquals, assertStrictEquals } from "../../tests/assert.ts";
import { ApiError } from "./errors.ts";
import { jsonWithHeartbeat } from "./heartbeat.ts";

test("heartbeat: a quick answer is plain JSON; an error before it starts throws", async () => {
  const r = await jsonWithHeartbeat(Promise.resolve({ a: 1 }), { onCancel: () => {} });
  assertEquals(await r.json(), { a: 1 });
  let thrown: unknown;
  try {
    await jsonWithHeartbeat(Promise.reject(new ApiError(400, "invalid_value", "bad")), {
      onCancel: () => {},
    });
  } catch (e) {
    thrown = e;
  }
  assert(thrown instanceof ApiError);
});

test("heartbeat: a slow answer streams spaces then JSON; cancelling the body aborts", async () => {
  const slow = new Promise((r) => setTimeout(() => r({ done: true }), 80));
  const r = await jsonWithHeartbeat(slow, { afterMs: 10, everyMs: 10, onCancel: () => {} });
  const text = await r.text();
  assert(/^ +\{/.test(text), JSON.stringify(text.slice(0, 10)));
  assertEquals(JSON.parse(text), { done: true });
  let cancelled = false;
  let finish!: (v: unknown) => void;
  const never = new Promise((r) => finish = r);
  const r2 = await jsonWithHeartbeat(never, {
    afterMs: 5,
    everyMs: 5,
    onCancel: () => cancelled = true,
  });
  const reader = r2.body!.getReader();
  await reader.read();
  await reader.cancel();
  assertStrictEquals(cancelled, true);
  finish(null);
});
