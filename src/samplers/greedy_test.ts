import { assertStrictEquals, assertThrows } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { InvalidArgumentError } from "../core/errors.ts";
import { cands, randomLogits } from "./_testing.ts";
import { GreedySampler } from "./greedy.ts";
import { candidatesFromLogits, sortByLogit } from "./types.ts";

test("greedy: selects the argmax, the first one on ties", () => {
  const g = new GreedySampler();
  const c = cands([0.5, 3, -1, 3, 2]);
  g.apply(c);
  assertStrictEquals(c.selected, 1);
  const sorted = cands([1, 9, 4]);
  sortByLogit(sorted);
  g.apply(sorted);
  assertStrictEquals(sorted.ids[sorted.selected], 1);
});

test("greedy: equals argmax over random vocabularies", () => {
  const g = new GreedySampler();
  for (let seed = 1; seed <= 20; seed++) {
    const logits = randomLogits(3000, seed);
    let best = 0;
    for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
    const c = candidatesFromLogits(logits);
    g.apply(c);
    assertStrictEquals(c.ids[c.selected], best);
  }
});

test("greedy: +Infinity wins; all -Infinity or empty is a typed error", () => {
  const g = new GreedySampler();
  const c = cands([-Infinity, Infinity, 5]);
  g.apply(c);
  assertStrictEquals(c.selected, 1);
  const banned = (e: unknown) => e instanceof InvalidArgumentError && e.code === "INVALID_ARGUMENT";
  assertThrows(() => g.apply(cands([-Infinity, -Infinity])), banned);
  assertThrows(() => g.apply(cands([])), /empty/);
});
