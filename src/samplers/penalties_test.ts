import { assertEquals, assertStrictEquals, assertThrows } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { InvalidArgumentError } from "../core/errors.ts";
import { cands, liveIds, liveLogits } from "./_testing.ts";
import { PenaltiesSampler } from "./penalties.ts";
import { TopKSampler } from "./top_k.ts";

test("penalties: repetition divides positive logits and multiplies non-positive ones", () => {
  const c = cands([4, -4, 0, 2]);
  new PenaltiesSampler({ repeat: 2, lastN: 8 }).apply(c, { history: [0, 1, 2, 1] });
  assertEquals(liveLogits(c), [2, -8, 0, 2]);
  assertStrictEquals(c.sorted, false);
});

test("penalties: frequency and presence subtract count*freq + (count>0)*presence", () => {
  const c = cands([1, 1, 1, 1]);
  new PenaltiesSampler({ frequency: 0.5, presence: 0.25, lastN: -1 }).apply(c, {
    history: [2, 2, 2, 0],
  });
  assertEquals(liveLogits(c), [1 - 0.5 - 0.25, 1, 1 - 1.5 - 0.25, 1]);
});

test("penalties: only the last N tokens count; N=0 disables; -1 is the whole history", () => {
  const history = [3, 3, 0, 1, 1];
  const c = cands([5, 5, 5, 5]);
  new PenaltiesSampler({ lastN: 3, frequency: 1 }).apply(c, { history });
  assertEquals(liveLogits(c), [4, 3, 5, 5]); // window [0, 1, 1]: token 3 is outside
  const off = cands([5, 5, 5, 5]);
  new PenaltiesSampler({ lastN: 0, frequency: 1 }).apply(off, { history });
  assertEquals(liveLogits(off), [5, 5, 5, 5]);
  const all = cands([5, 5, 5, 5]);
  new PenaltiesSampler({ lastN: -1, frequency: 1 }).apply(all, { history });
  assertEquals(liveLogits(all), [4, 3, 5, 3]);
  const long = cands([5, 5, 5, 5]);
  new PenaltiesSampler({ lastN: 100, frequency: 1 }).apply(long, { history });
  assertEquals(liveLogits(long), [4, 3, 5, 3]);
});

test("penalties: reordered candidates are penalized by id, out-of-vocab history ignored", () => {
  const c = cands([1, 9, 3, 7, 5]);
  new TopKSampler(4).apply(c); // ids now [1, 3, 4, 2]
  new PenaltiesSampler({ lastN: 10, presence: 1 }).apply(c, { history: [3, 0, 99999, 2] });
  assertEquals(liveIds(c), [1, 3, 4, 2]);
  assertEquals(liveLogits(c), [9, 6, 5, 2]);
});

test("penalties: settings are validated with the field named", () => {
  const field = (f: string) => (e: unknown) =>
    e instanceof InvalidArgumentError && e.facts.field === f;
  assertThrows(() => new PenaltiesSampler({ lastN: -2 }), field("penaltyLastN"));
  assertThrows(() => new PenaltiesSampler({ repeat: 0 }), field("repeatPenalty"));
  assertThrows(() => new PenaltiesSampler({ frequency: NaN }), field("frequencyPenalty"));
  assertThrows(() => new PenaltiesSampler({ presence: Infinity }), field("presencePenalty"));
});
