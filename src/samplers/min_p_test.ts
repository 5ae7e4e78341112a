import {
  assert,
  assertClose,
  assertEquals,
  assertStrictEquals,
  assertThrows,
} from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { InvalidArgumentError } from "../core/errors.ts";
import { candsFromProbs, liveIds, liveProbs } from "./_testing.ts";
import { MinPSampler } from "./min_p.ts";

test("min-p: keeps tokens with p >= minP * pmax, order preserved, renormalized", () => {
  const c = candsFromProbs([0.15, 0.05, 0.5, 0.3]);
  new MinPSampler(0.2).apply(c);
  assertEquals(liveIds(c), [0, 2, 3]);
  const expected = [0.15 / 0.95, 0.5 / 0.95, 0.3 / 0.95];
  liveProbs(c).forEach((p, i) => assertClose(p, expected[i], 1e-6, `p[${i}]`));
  assertStrictEquals(c.sorted, false);
});

test("min-p: 0 disables; 1 keeps only the best; minKeep falls back to the top tokens", () => {
  const c = candsFromProbs([0.15, 0.05, 0.5, 0.3]);
  new MinPSampler(0).apply(c);
  assertStrictEquals(c.size, 4);
  const d = candsFromProbs([0.15, 0.05, 0.5, 0.3]);
  new MinPSampler(1).apply(d);
  assertEquals(liveIds(d), [2]);
  const e = candsFromProbs([0.15, 0.05, 0.5, 0.3]);
  new MinPSampler(0.9, 3).apply(e);
  assertEquals(liveIds(e), [2, 3, 0]);
  assert(e.sorted);
});

test("min-p: p outside [0, 1] is a typed error naming the field", () => {
  assertThrows(
    () => new MinPSampler(2),
    (e: unknown) => e instanceof InvalidArgumentError && e.facts.field === "minP",
  );
  assertThrows(
    () => new MinPSampler(0.1, -1),
    (e: unknown) => e instanceof InvalidArgumentError && e.facts.field === "minKeep",
  );
});
