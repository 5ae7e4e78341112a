import { test } from "../../tests/harness.ts";
import {
  assert,
  assertEquals,
  assertRejects,
  assertStrictEquals,
  assertThrows,
} from "../../tests/assert.ts";
import { ApiError } from "./errors.ts";
import { SlotPool } from "./slots.ts";

class FakeSession {
  tokens: number[] = [];
  disposed = false;
  dispose() {
    this.disposed = true;
  }
}

function pool(size: number, queueSize: number) {
  const made: FakeSession[] = [];
  const p = new SlotPool<FakeSession>({
    size,
    queueSize,
    create: () => {
      const s = new FakeSession();
      made.push(s);
      return s;
    },
  });
  return { p, made };
}

test("slots: sessions are created lazily and reused; counts track use", async () => {
  const { p, made } = pool(2, 4);
  assertStrictEquals(made.length, 0);
  const a = await p.acquire([1, 2]);
  const b = await p.acquire([3]);
  assertStrictEquals(made.length, 2);
  assert(a.slot !== b.slot);
  assertStrictEquals(p.active, 2);
  a.release();
  a.release(); // idempotent
  assertStrictEquals(p.active, 1);
  const c = await p.acquire([9]);
  assertStrictEquals(c.session, a.session);
  assertStrictEquals(made.length, 2);
  b.release();
  c.release();
  assertStrictEquals(p.active, 0);
});

test("slots: an idle slot whose tokens share the longest prefix is chosen", async () => {
  const { p } = pool(3, 0);
  const ls = [await p.acquire([]), await p.acquire([]), await p.acquire([])];
  (ls[0].session as FakeSession).tokens = [5, 6, 7];
  (ls[1].session as FakeSession).tokens = [1, 2, 3, 4];
  (ls[2].session as FakeSession).tokens = [1, 2];
  ls.forEach((l) => l.release());
  const x = await p.acquire([1, 2, 3, 9]);
  assertStrictEquals(x.slot, ls[1].slot);
  const y = await p.acquire([5, 6]);
  assertStrictEquals(y.slot, ls[0].slot);
});

test("slots: waiters are served first-in first-out; a full queue is a 429", async () => {
  const { p } = pool(1, 2);
  const first = await p.acquire([1]);
  const order: string[] = [];
  const w1 = p.acquire([2]).then((l) => (order.push("w1"), l));
  const w2 = p.acquire([3]).then((l) => (order.push("w2"), l));
  assertStrictEquals(p.queued, 2);
  await assertRejects(p.acquire([4]), (e: unknown) => {
    return e instanceof ApiError && e.status === 429 && e.code === "queue_full";
  });
  first.release();
  const l1 = await w1;
  assertStrictEquals(p.queued, 1);
  l1.release();
  (await w2).release();
  assertEquals(order, ["w1", "w2"]);
  assertStrictEquals(p.active, 0);
});

test("slots: an aborted waiter leaves the queue; whenIdle and close", async () => {
  const { p, made } = pool(1, 2);
  const held = await p.acquire([1]);
  const ac = new AbortController();
  const waiting = p.acquire([2], ac.signal);
  assertStrictEquals(p.queued, 1);
  ac.abort();
  await assertRejects(waiting, (e: unknown) => (e as { code?: string }).code === "ABORTED");
  assertStrictEquals(p.queued, 0);
  const queued = p.acquire([3]);
  let idle = false;
  const whenIdle = p.whenIdle().then(() => idle = true);
  p.close();
  await assertRejects(queued, (e: unknown) => e instanceof ApiError && e.status === 503);
  await assertRejects(p.acquire([4]), (e: unknown) => e instanceof ApiError && e.status === 503);
  assert(!idle);
  held.release();
  await whenIdle;
  assert(made[0].disposed, "a slot released after close disposes its session");
});

test("slots: bad sizes are typed errors", () => {
  assertThrows(
    () => pool(0, 1),
    (e: unknown) => (e as { code?: string }).code === "INVALID_ARGUMENT",
  );
  assertThrows(
    () => pool(1, -1),
    (e: unknown) => (e as { code?: string }).code === "INVALID_ARGUMENT",
  );
});

test("slots: a request for a given slot waits for that slot only", async () => {
  const { p } = pool(2, 4);
  const a = await p.acquire([1], undefined, 0);
  assertStrictEquals(a.slot, 0);
  const b = await p.acquire([1]);
  assertStrictEquals(b.slot, 1);
  const wantZero = p.acquire([2], undefined, 0);
  const any = p.acquire([3]);
  b.release();
  assertStrictEquals((await any).slot, 1, "slot 1 went to the request that takes any slot");
  a.release();
  assertStrictEquals((await wantZero).slot, 0);
  await assertRejects(() => p.acquire([1], undefined, 2), ApiError);
});
