/** A context's KV registry: its own caches pass, foreign ones are typed errors, close once. */
import { assertEquals, assertStrictEquals, assertThrows } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import type { KVStore } from "./backend.ts";
import { BackendError } from "./errors.ts";
import { KVRegistry } from "./kv_registry.ts";

class Mine implements KVStore {
  readonly backend = "mine";
  readonly spec = { layers: [0], capacity: 1, nHeadKV: 1, headDim: 1, valueDim: 1 };
  readonly bytes = 0;
  disposed = 0;
  dispose(): void {
    this.disposed++;
  }
}

test("kv registry: own caches pass, foreign and wrong-typed ones are BackendErrors", () => {
  const r = new KVRegistry((kv): kv is Mine => kv instanceof Mine);
  const a = r.add(new Mine());
  assertStrictEquals(r.own(a), a);
  assertStrictEquals(r.own(undefined), undefined);
  assertThrows(() => r.own(new Mine()), BackendError); // same type, another context's
  const other: KVStore = { ...a, backend: "other", dispose() {} };
  assertThrows(() => r.own(other), BackendError);
  assertEquals([r.close(), r.close(), r.closed, a.disposed], [true, false, true, 1]);
});
