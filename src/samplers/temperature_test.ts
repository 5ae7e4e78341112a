import { assertEquals, assertStrictEquals, assertThrows } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { InvalidArgumentError } from "../core/errors.ts";
import { cands, liveLogits } from "./_testing.ts";
import { TemperatureSampler } from "./temperature.ts";
import { sortByLogit } from "./types.ts";

test("temperature: divides logits and keeps the order flag", () => {
  const c = cands([1, -2, 3]);
  sortByLogit(c);
  new TemperatureSampler(0.5).apply(c);
  assertEquals(liveLogits(c), [6, 2, -4]);
  assertStrictEquals(c.sorted, true);
  const hot = cands([1, -2, 3]);
  new TemperatureSampler(2).apply(hot);
  assertEquals(liveLogits(hot), [0.5, -1, 1.5]);
  const one = cands([1.25, -2]);
  new TemperatureSampler(1).apply(one);
  assertEquals(liveLogits(one), [1.25, -2]);
});

test("temperature <= 0 keeps only the argmax (first on ties)", () => {
  for (const t of [0, -1]) {
    const c = cands([1, 4, 2, 4]);
    new TemperatureSampler(t).apply(c);
    assertEquals(liveLogits(c), [-Infinity, 4, -Infinity, -Infinity]);
  }
});

test("temperature: non-finite values are typed errors naming the field", () => {
  for (const bad of [NaN, Infinity, "1" as unknown as number]) {
    assertThrows(
      () => new TemperatureSampler(bad),
      (e: unknown) => e instanceof InvalidArgumentError && e.facts.field === "temperature",
    );
  }
});
