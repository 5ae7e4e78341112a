import { assertEquals, assertStrictEquals, assertThrows } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { InvalidArgumentError } from "../core/errors.ts";
import { cands, liveIds, liveLogits } from "./_testing.ts";
import { DistSampler } from "./dist.ts";
import { GreedySampler } from "./greedy.ts";
import { LogitBiasSampler, parseLogitBias } from "./logit_bias.ts";
import { TopKSampler } from "./top_k.ts";

test("logit bias: adds to the biased tokens; unknown tokens are ignored", () => {
  const c = cands([1, 2, 3]);
  new LogitBiasSampler({ 0: 5, 2: -1.5, 77: 3 }).apply(c);
  assertEquals(liveLogits(c), [6, 2, 1.5]);
  const m = cands([1, 2, 3]);
  new LogitBiasSampler(new Map([[1, 0.5]])).apply(m);
  assertEquals(liveLogits(m), [1, 2.5, 3]);
});

test("logit bias: -Infinity bans a token for greedy and dist", () => {
  const c = cands([1, 10, 3]);
  new LogitBiasSampler({ 1: -Infinity }).apply(c);
  new GreedySampler().apply(c);
  assertStrictEquals(c.selected, 2);
  const dist = new DistSampler(11);
  const ban = new LogitBiasSampler({ 1: -Infinity });
  for (let i = 0; i < 2000; i++) {
    const d = cands([1, 10, 3]);
    ban.apply(d);
    dist.apply(d);
    assertStrictEquals(d.selected === 1, false);
  }
});

test("logit bias: works on reordered candidates; +Infinity cannot unban -Infinity", () => {
  const c = cands([1, 9, 3, 7]);
  new TopKSampler(3).apply(c); // ids [1, 3, 2]
  new LogitBiasSampler({ 2: 10, 0: 100 }).apply(c);
  assertEquals(liveIds(c), [1, 3, 2]);
  assertEquals(liveLogits(c), [9, 7, 13]);
  const d = cands([-Infinity, 0]);
  new LogitBiasSampler({ 0: Infinity }).apply(d);
  assertEquals(liveLogits(d), [-Infinity, 0]);
});

test("logit bias: bad entries are typed errors naming the entry", () => {
  const named = (f: string) => (e: unknown) =>
    e instanceof InvalidArgumentError && e.facts.field === f;
  assertThrows(() => parseLogitBias({ abc: 1 }), named('logitBias["abc"]'));
  assertThrows(() => parseLogitBias({ "-3": 1 }), named('logitBias["-3"]'));
  assertThrows(() => parseLogitBias({ 5: NaN }), named("logitBias[5]"));
  assertThrows(() => parseLogitBias({ 5: "x" }), named("logitBias[5]"));
  assertThrows(() => parseLogitBias(new Map([[1.5, 1]])), named("logitBias key"));
  assertThrows(() => parseLogitBias({ 4294967296: 1 }), named('logitBias["4294967296"]'));
  assertThrows(() => parseLogitBias([1, 2]), named("logitBias"));
  assertEquals(parseLogitBias({ 7: -Infinity }), new Map([[7, -Infinity]]));
});
