import { assert, assertClose, assertEquals, assertStrictEquals } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { cands, liveIds, liveProbs, randomLogits, referenceOrder } from "./_testing.ts";
import {
  candidatesFromLogits,
  createCandidates,
  SAMPLER_API_VERSION,
  softmax,
  sortByLogit,
} from "./types.ts";

test("candidatesFromLogits: identity ids, fresh state, NaN becomes -Infinity", () => {
  const c = candidatesFromLogits(Float32Array.from([1, NaN, -2]));
  assertEquals(liveIds(c), [0, 1, 2]);
  assertEquals(Array.from(c.logits.subarray(0, 3)), [1, -Infinity, -2]);
  assertStrictEquals(c.size, 3);
  assertStrictEquals(c.sorted, false);
  assertStrictEquals(c.selected, -1);
  assertStrictEquals(SAMPLER_API_VERSION, 1);
});

test("candidatesFromLogits: reuses buffers of `out`, grows them only when too small", () => {
  const out = createCandidates(8);
  const ids = out.ids;
  out.selected = 3;
  out.sorted = true;
  const c = candidatesFromLogits(Float32Array.from([3, 2, 1]), out);
  assertStrictEquals(c, out);
  assertStrictEquals(c.ids, ids);
  assertStrictEquals(c.selected, -1);
  assertStrictEquals(c.sorted, false);
  candidatesFromLogits(new Float32Array(20), out);
  assert(out.ids.length >= 20 && out.logits.length >= 20 && out.probs.length >= 20);
  assertStrictEquals(out.size, 20);
});

test("softmax: normalized probabilities; -Infinity gets 0; +Infinity takes all", () => {
  const c = cands([0, Math.log(3), -Infinity]);
  softmax(c);
  assertClose(c.probs[0], 0.25, 1e-7, "p0");
  assertClose(c.probs[1], 0.75, 1e-7, "p1");
  assertStrictEquals(c.probs[2], 0);
  const inf = cands([5, Infinity, 1, Infinity]);
  softmax(inf);
  assertEquals(liveProbs(inf), [0, 0.5, 0, 0.5]);
  const none = cands([-Infinity, -Infinity]);
  softmax(none);
  assertEquals(liveProbs(none), [0, 0]);
});

test("sortByLogit: full sort matches a reference order and moves probs along", () => {
  for (const [n, distinct] of [[5, 0], [100, 0], [1000, 3], [5000, 0], [3000, 1]]) {
    const logits = randomLogits(n, n + distinct, distinct);
    const c = candidatesFromLogits(logits);
    softmax(c);
    const probOf = new Map(liveIds(c).map((id, i) => [id, c.probs[i]]));
    sortByLogit(c);
    assertEquals(liveIds(c), referenceOrder(logits), `n=${n}`);
    assert(c.sorted);
    for (let i = 0; i < n; i++) {
      assertStrictEquals(c.logits[i], logits[c.ids[i]]);
      assertStrictEquals(c.probs[i], probOf.get(c.ids[i]));
    }
  }
});

test("sortByLogit: partial sort puts the exact top k first and keeps the rest", () => {
  const cases = [[1000, 10, 0], [20000, 40, 0], [5000, 300, 7], [64, 63, 2], [20000, 2000, 0]];
  for (const [n, k, distinct] of cases) {
    const logits = randomLogits(n, k, distinct);
    const c = candidatesFromLogits(logits);
    softmax(c);
    const probOf = Array.from(c.probs.subarray(0, n));
    sortByLogit(c, k);
    assertEquals(liveIds(c).slice(0, k), referenceOrder(logits).slice(0, k), `n=${n} k=${k}`);
    assertStrictEquals(c.sorted, false);
    for (let i = 0; i < n; i++) {
      assertStrictEquals(c.logits[i], logits[c.ids[i]]);
      assertStrictEquals(c.probs[i], probOf[c.ids[i]]);
    }
    assertEquals([...liveIds(c)].sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i));
  }
});

test("sortByLogit: sorted, reverse-sorted and constant inputs", () => {
  const n = 10000;
  const inputs = [
    Float32Array.from({ length: n }, (_, i) => n - i),
    Float32Array.from({ length: n }, (_, i) => i),
    new Float32Array(n),
  ];
  for (const logits of inputs) {
    const c = candidatesFromLogits(logits);
    sortByLogit(c);
    assertEquals(liveIds(c), referenceOrder(logits));
    for (const k of [1, 50, 600]) {
      const p = candidatesFromLogits(logits);
      sortByLogit(p, k);
      assertEquals(liveIds(p).slice(0, k), referenceOrder(logits).slice(0, k), `k=${k}`);
      assertEquals([...liveIds(p)].sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i));
    }
  }
});
