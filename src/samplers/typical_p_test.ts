import {
  assert,
  assertClose,
  assertEquals,
  assertStrictEquals,
  assertThrows,
} from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { InvalidArgumentError } from "../core/errors.ts";
import { candsFromProbs, liveIds, liveProbs, randomLogits, referenceSoftmax } from "./_testing.ts";
import { TypicalPSampler } from "./typical_p.ts";
import { candidatesFromLogits } from "./types.ts";

// probs 0.5, 0.3, 0.15, 0.05: entropy 1.1423 nats; |-ln p - H| = 0.449, 0.062, 0.755, 1.853
test("typical: keeps the most typical tokens until the mass exceeds p", () => {
  const c = candsFromProbs([0.5, 0.3, 0.15, 0.05]);
  new TypicalPSampler(0.5).apply(c);
  assertEquals(liveIds(c), [1, 0]);
  const [a, b] = liveProbs(c);
  assertClose(a, 0.375, 1e-6, "p(id 1)");
  assertClose(b, 0.625, 1e-6, "p(id 0)");
  assertStrictEquals(c.sorted, false);
  const d = candsFromProbs([0.5, 0.3, 0.15, 0.05]);
  new TypicalPSampler(0.9).apply(d);
  assertEquals(liveIds(d), [1, 0, 2]);
});

test("typical: p=1 disables it; mass must strictly exceed p; minKeep", () => {
  const c = candsFromProbs([0.5, 0.3, 0.15, 0.05]);
  new TypicalPSampler(1).apply(c);
  assertEquals(liveIds(c), [0, 1, 2, 3]);
  const z = candsFromProbs([0.5, 0.3, 0.15, 0.05]);
  new TypicalPSampler(0).apply(z);
  assertEquals(liveIds(z), [1]);
  const k = candsFromProbs([0.5, 0.3, 0.15, 0.05]);
  new TypicalPSampler(0.1, 3).apply(k);
  assertEquals(liveIds(k), [1, 0, 2]);
});

test("typical: matches a naive reference on a large vocabulary (growing partial sort)", () => {
  const logits = randomLogits(20000, 5).map((x) => x * 0.2);
  const probs = referenceSoftmax(logits);
  const h = -probs.reduce((acc, p) => acc + (p > 0 ? p * Math.log(p) : 0), 0);
  const dist = probs.map((p) => Math.fround(Math.abs(-Math.log(p) - h)));
  const order = dist.map((_, i) => i).sort((a, b) => dist[a] - dist[b] || a - b);
  let cum = 0, keep = order.length;
  for (let j = 0; j < order.length; j++) {
    cum += probs[order[j]];
    if (cum > 0.6) {
      keep = j + 1;
      break;
    }
  }
  const c = candidatesFromLogits(logits);
  new TypicalPSampler(0.6).apply(c);
  assert(keep > 128, "case must grow the prefix");
  assert(Math.abs(c.size - keep) <= 2, `kept ${c.size}, reference ${keep}`);
  // same typicality order up to float32 rounding of the distances
  const kept = liveIds(c);
  const tol = 1e-5;
  for (let j = 1; j < kept.length; j++) {
    assert(dist[kept[j - 1]] <= dist[kept[j]] + tol, `order at ${j}`);
  }
  const worstKept = Math.max(...kept.map((id) => dist[id]));
  const keptSet = new Set(kept);
  for (let i = 0; i < dist.length; i++) {
    if (!keptSet.has(i)) assert(dist[i] >= worstKept - tol, `token ${i} should have been kept`);
  }
  // reusing the sampler gives the same result (scratch buffers are reset)
  const again = candidatesFromLogits(logits);
  new TypicalPSampler(0.6).apply(again);
  assertEquals(liveIds(again), liveIds(c));
});

test("typical: p outside [0, 1] is a typed error naming the field", () => {
  assertThrows(
    () => new TypicalPSampler(-1),
    (e: unknown) => e instanceof InvalidArgumentError && e.facts.field === "typicalP",
  );
});
