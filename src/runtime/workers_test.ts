/**
 * Host workers: a worker started from source shares a SharedArrayBuffer and a shared
 * WebAssembly.Memory with its creator and answers messages.
 *
 * @module
 */
import { test } from "../../tests/harness.ts";
import { assertStrictEquals } from "../../tests/assert.ts";
import { spawnWorker } from "./workers.ts";

test("spawnWorker shares memory with the worker and exchanges messages", async () => {
  const w = spawnWorker(`
hostOnMessage((m) => {
  const a = new Int32Array(m.sab);
  const b = new Int32Array(m.memory.buffer);
  Atomics.store(a, 1, a[0] * 2);
  Atomics.store(b, 0, 77);
  Atomics.notify(a, 1);
  hostPost({ sum: a[0] + 1 });
});`);
  w.keepAlive(true);
  const sab = new SharedArrayBuffer(8);
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true });
  new Int32Array(sab)[0] = 21;
  const reply = await new Promise<unknown>((resolve, reject) => {
    w.onMessage(resolve);
    w.onError(reject);
    w.post({ sab, memory });
  });
  w.terminate();
  assertStrictEquals((reply as { sum: number }).sum, 22);
  assertStrictEquals(new Int32Array(sab)[1], 42);
  assertStrictEquals(new Int32Array(memory.buffer)[0], 77);
});

test("spawnWorker reports an uncaught error of the worker", async () => {
  const w = spawnWorker(`hostOnMessage(() => { throw new Error("boom in worker"); });`);
  w.keepAlive(true);
  const err = await new Promise<Error>((resolve) => {
    w.onError(resolve);
    w.post(1);
  });
  w.terminate();
  assertStrictEquals(/boom in worker/.test(String(err.message)), true);
});
