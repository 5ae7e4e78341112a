import {
  assert,
  assertClose,
  assertEquals,
  assertStrictEquals,
  assertThrows,
} from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { InvalidArgumentError } from "../core/errors.ts";
import {
  candsFromProbs,
  liveIds,
  liveProbs,
  randomLogits,
  referenceOrder,
  referenceSoftmax,
} from "./_testing.ts";
import { TopPSampler } from "./top_p.ts";
import { candidatesFromLogits } from "./types.ts";

function closeAll(actual: number[], expected: number[], what: string): void {
  assertStrictEquals(actual.length, expected.length, `${what}: length`);
  actual.forEach((a, i) => assertClose(a, expected[i], 1e-6, `${what}[${i}]`));
}

test("top-p: keeps the smallest sorted prefix reaching p, renormalized", () => {
  const c = candsFromProbs([0.05, 0.5, 0.15, 0.3]);
  new TopPSampler(0.7).apply(c);
  assertEquals(liveIds(c), [1, 3]);
  closeAll(liveProbs(c), [0.625, 0.375], "probs");
  assert(c.sorted);
  const d = candsFromProbs([0.05, 0.5, 0.15, 0.3]);
  new TopPSampler(0.85).apply(d);
  assertEquals(liveIds(d), [1, 3, 2]);
  closeAll(liveProbs(d), [0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95], "probs");
});

test("top-p: p=0 keeps one, p=1 keeps all, minKeep is honored", () => {
  const c = candsFromProbs([0.2, 0.1, 0.7]);
  new TopPSampler(0).apply(c);
  assertEquals(liveIds(c), [2]);
  closeAll(liveProbs(c), [1], "probs");
  const d = candsFromProbs([0.2, 0.1, 0.7]);
  new TopPSampler(1).apply(d);
  assertEquals(liveIds(d), [0, 1, 2]);
  const e = candsFromProbs([0.2, 0.1, 0.7]);
  new TopPSampler(0.1, 2).apply(e);
  assertEquals(liveIds(e), [2, 0]);
});

test("top-p: matches a full-sort reference on flat and peaked large vocabularies", () => {
  for (const [n, seed, p, scale] of [[5000, 1, 0.9, 0.1], [32000, 2, 0.95, 1], [2000, 3, 0.5, 0]]) {
    const logits = randomLogits(n, seed).map((x) => x * scale);
    const order = referenceOrder(logits);
    const probs = referenceSoftmax(logits);
    let cum = 0, keep = n;
    for (let i = 0; i < n; i++) {
      cum += probs[order[i]];
      if (cum >= p) {
        keep = i + 1;
        break;
      }
    }
    const c = candidatesFromLogits(logits);
    new TopPSampler(p).apply(c);
    // float32 vs double sums may move the cut by one token at most
    assert(Math.abs(c.size - keep) <= 1, `n=${n}: kept ${c.size}, reference ${keep}`);
    assertEquals(liveIds(c), order.slice(0, c.size), `n=${n}`);
    assert(keep > 128 || n !== 2000, "flat case must need more than the first prefix");
    const total = liveProbs(c).reduce((a, b) => a + b, 0);
    assertClose(total, 1, 1e-4, "renormalized total");
  }
});

test("top-p: p outside [0, 1] is a typed error naming the field", () => {
  for (const bad of [-0.1, 1.5, NaN]) {
    assertThrows(
      () => new TopPSampler(bad),
      (e: unknown) => e instanceof InvalidArgumentError && e.facts.field === "topP",
    );
  }
});
