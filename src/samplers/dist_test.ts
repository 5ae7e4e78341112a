import { assert, assertEquals, assertStrictEquals, assertThrows } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { InvalidArgumentError } from "../core/errors.ts";
import { cands, candsFromProbs } from "./_testing.ts";
import { DistSampler, sampleIndex } from "./dist.ts";

function draws(d: DistSampler, probs: number[], n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = candsFromProbs(probs);
    d.apply(c);
    out.push(c.ids[c.selected]);
  }
  return out;
}

test("dist: frequencies follow the probabilities", () => {
  const probs = [0.1, 0.6, 0.3];
  const n = 30000;
  const counts = [0, 0, 0];
  for (const t of draws(new DistSampler(2024), probs, n)) counts[t]++;
  const chi2 = counts.reduce((acc, k, i) => acc + (k - n * probs[i]) ** 2 / (n * probs[i]), 0);
  assert(chi2 < 13.8, `chi-square ${chi2} for counts ${counts} (2 dof, p=0.001 limit 13.8)`);
});

test("dist: same seed, same tokens; clone() and reset() reproduce the stream", () => {
  const probs = [0.2, 0.2, 0.2, 0.2, 0.2];
  const a = new DistSampler(7), b = new DistSampler(7);
  const first = draws(a, probs, 50);
  assertEquals(draws(b, probs, 50), first);
  assert(new Set(first).size > 1);
  const copy = a.clone();
  const next = draws(a, probs, 50);
  assertEquals(draws(copy, probs, 50), next);
  a.reset();
  assertEquals(draws(a, probs, 50), first);
  assertStrictEquals(a.seed, 7);
  const other = draws(new DistSampler(8), probs, 50);
  assert(other.some((t, i) => t !== first[i]));
});

test("dist: RNG state snapshots restore the stream", () => {
  const probs = [0.5, 0.25, 0.25];
  const d = new DistSampler(3);
  draws(d, probs, 10);
  const state = JSON.parse(JSON.stringify(d.getRngState()));
  const next = draws(d, probs, 30);
  const e = new DistSampler(99);
  e.setRngState(state);
  assertEquals(draws(e, probs, 30), next);
});

test("dist: random seed when omitted or -1; bad seeds are typed errors", () => {
  const s = new DistSampler().seed;
  assert(Number.isInteger(s) && s >= 0 && s < 2 ** 32);
  assert(Number.isInteger(new DistSampler(-1).seed));
  assertThrows(
    () => new DistSampler(2 ** 32),
    (e: unknown) => e instanceof InvalidArgumentError && e.facts.field === "seed",
  );
});

test("dist: zero-probability tokens are never picked; nothing left is an error", () => {
  const probs = Float32Array.from([0, 0.5, 0, 0.5, 0]);
  assertStrictEquals(sampleIndex(probs, 5, 0), 1);
  assertStrictEquals(sampleIndex(probs, 5, 0.4999), 1);
  assertStrictEquals(sampleIndex(probs, 5, 0.5), 3);
  assertStrictEquals(sampleIndex(probs, 5, 1 - 2 ** -53), 3);
  assertStrictEquals(sampleIndex(new Float32Array(3), 3, 0.5), -1);
  assertThrows(() => new DistSampler(1).apply(cands([-Infinity, -Infinity])), InvalidArgumentError);
  assertThrows(() => new DistSampler(1).apply(cands([])), /empty/);
});
