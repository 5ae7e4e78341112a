import {
  assert,
  assertClose,
  assertEquals,
  assertStrictEquals,
  assertThrows,
} from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { InvalidArgumentError } from "../core/errors.ts";
import { cands, liveIds, liveProbs, randomLogits, referenceOrder } from "./_testing.ts";
import { TopKSampler } from "./top_k.ts";
import { candidatesFromLogits } from "./types.ts";

test("top-k: keeps the k highest, sorted, renormalized", () => {
  const c = cands([1, 4, 3, Math.log(3) + 4, 2]);
  new TopKSampler(2).apply(c);
  assertEquals(liveIds(c), [3, 1]);
  assert(c.sorted);
  const [p0, p1] = liveProbs(c);
  assertClose(p0, 0.75, 1e-6, "p(id 3)");
  assertClose(p1, 0.25, 1e-6, "p(id 1)");
});

test("top-k: ties keep the lower id; k=0 and k>=size change nothing", () => {
  const c = cands([2, 7, 7, 1, 7]);
  new TopKSampler(2).apply(c);
  assertEquals(liveIds(c), [1, 2]);
  for (const k of [0, 5, 9]) {
    const d = cands([2, 7, 1]);
    new TopKSampler(k).apply(d);
    assertEquals(liveIds(d), [0, 1, 2]);
    assertStrictEquals(d.size, 3);
  }
});

test("top-k: matches a full reference sort on a 32000 vocabulary", () => {
  const logits = randomLogits(32000, 99);
  const c = candidatesFromLogits(logits);
  new TopKSampler(40).apply(c);
  assertEquals(liveIds(c), referenceOrder(logits).slice(0, 40));
});

test("top-k: k must be an integer >= 0", () => {
  for (const bad of [-1, 2.5, NaN]) {
    assertThrows(
      () => new TopKSampler(bad),
      (e: unknown) => e instanceof InvalidArgumentError && e.facts.field === "topK",
    );
  }
});
