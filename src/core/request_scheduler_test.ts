import { test } from "../../tests/harness.ts";
import { assert, assertEquals, assertRejects, assertStrictEquals } from "../../tests/assert.ts";
import { AbortError, DisposedError } from "./errors.ts";
import { RequestScheduler } from "./request_scheduler.ts";

test("request scheduler: steps run one at a time in arrival order", async () => {
  const s = new RequestScheduler();
  const order: string[] = [];
  let running = 0;
  let maxRunning = 0;
  const step = (name: string) => async () => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    order.push(`start ${name}`);
    await new Promise((r) => setTimeout(r, 5));
    order.push(`end ${name}`);
    running--;
    return name;
  };
  const results = await Promise.all([s.run(step("a")), s.run(step("b")), s.run(step("c"))]);
  assertEquals(results, ["a", "b", "c"]);
  assertStrictEquals(maxRunning, 1);
  assertEquals(order, ["start a", "end a", "start b", "end b", "start c", "end c"]);
  assertStrictEquals(s.stats.steps.forward, 3);
  assert(!s.busy);
});

test("request scheduler: an aborted waiter leaves the queue at once; errors reach their step", async () => {
  const s = new RequestScheduler();
  let release!: () => void;
  const first = s.run(() => new Promise<void>((r) => release = r));
  const ac = new AbortController();
  let ran = false;
  const second = s.run(() => {
    ran = true;
  }, ac.signal);
  await new Promise((r) => setTimeout(r, 5));
  assertStrictEquals(s.pending, 1);
  ac.abort();
  await assertRejects(() => second, AbortError);
  assertStrictEquals(s.pending, 0);
  release();
  await first;
  assert(!ran, "the aborted step never ran");
  assertStrictEquals(s.stats.abandoned, 1);
  await assertRejects(() => s.run(() => Promise.reject(new Error("boom"))), Error, "boom");
  await assertRejects(() => s.run(() => 1, AbortSignal.abort()), AbortError);
});

test("request scheduler: the event loop gets a turn before every step", async () => {
  const s = new RequestScheduler();
  let ticks = 0;
  const timer = setInterval(() => ticks++, 0);
  const busy = () => {
    const t0 = performance.now();
    while (performance.now() - t0 < 3) { /* CPU-bound step */ }
  };
  const steps = Array.from({ length: 20 }, () => s.run(busy));
  await Promise.all(steps);
  clearInterval(timer);
  assert(ticks >= 5, `timers ran between CPU-bound steps (${ticks})`);
});

test("request scheduler: close fails queued steps and refuses new ones", async () => {
  const s = new RequestScheduler();
  let release!: () => void;
  const first = s.run(() => new Promise<void>((r) => release = r));
  const queued = s.run(() => 2);
  await new Promise((r) => setTimeout(r, 5));
  s.close();
  await assertRejects(() => queued, DisposedError);
  await assertRejects(() => s.run(() => 3), DisposedError);
  release();
  await first;
});
