import { assert, assertEquals, assertStrictEquals, assertThrows } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { PluginError } from "../core/errors.ts";
import { cands, randomLogits } from "./_testing.ts";
import { SamplerChain } from "./chain.ts";
import { DistSampler } from "./dist.ts";
import { GreedySampler } from "./greedy.ts";
import { TemperatureSampler } from "./temperature.ts";
import { TopKSampler } from "./top_k.ts";
import type { Candidates, Sampler } from "./types.ts";

class Recorder implements Sampler {
  readonly apiVersion = 1;
  accepted: number[] = [];
  resets = 0;
  readonly name: string;
  readonly log: string[];
  constructor(name: string, log: string[]) {
    this.name = name;
    this.log = log;
  }
  apply(_c: Candidates): void {
    this.log.push(this.name);
  }
  accept(token: number): void {
    this.accepted.push(token);
  }
  reset(): void {
    this.resets++;
  }
}

test("chain: runs members in order and stops once one selects", () => {
  const log: string[] = [];
  const chain = new SamplerChain([
    new Recorder("a", log),
    new Recorder("b", log),
    new GreedySampler(),
    new Recorder("c", log),
  ]);
  const c = cands([1, 3, 2]);
  chain.apply(c, { history: [] });
  assertEquals(log, ["a", "b"]);
  assertStrictEquals(c.selected, 1);
});

test("chain: composes truncation and temperature before the fallback", () => {
  const chain = new SamplerChain([new TopKSampler(1), new TemperatureSampler(0.5)], {
    fallback: "dist",
    seed: 5,
  });
  for (let i = 0; i < 20; i++) assertStrictEquals(chain.sample(Float32Array.from([0, 1, 0.9])), 1);
  const greedy = new SamplerChain([], { fallback: "greedy" });
  assertStrictEquals(greedy.sample(Float32Array.from([0, 4, 5, 1])), 2);
  assertStrictEquals(greedy.lastCandidates.selected, 2);
});

test("chain: accept and reset reach every member; sample() accepts its token", () => {
  const log: string[] = [];
  const a = new Recorder("a", log), b = new Recorder("b", log);
  const inner = new SamplerChain([b], { fallback: "none" });
  const chain = new SamplerChain([a, inner], { fallback: "greedy" });
  const token = chain.sample(Float32Array.from([0, 2, 1]), [5, 6]);
  assertStrictEquals(token, 1);
  assertEquals(a.accepted, [1]);
  assertEquals(b.accepted, [1]);
  chain.reset();
  assertStrictEquals(a.resets, 1);
  assertStrictEquals(b.resets, 1);
  const c = cands([0, 2, 1]);
  inner.apply(c, { history: [] });
  assertStrictEquals(c.selected, -1, "a filter-only chain selects nothing");
  assertThrows(() => inner.sample(Float32Array.from([1, 2])), PluginError);
});

test("chain: same seed gives the same samples, also across clone()", () => {
  const logits = randomLogits(500, 17).map((x) => x * 0.3);
  const make = () => new SamplerChain([new TopKSampler(50), new DistSampler(1234)]);
  const a = make(), b = make();
  const seqA = Array.from({ length: 40 }, () => a.sample(logits));
  assertEquals(Array.from({ length: 40 }, () => b.sample(logits)), seqA);
  assert(new Set(seqA).size > 3, "samples must vary");
  const copy = a.clone();
  assertStrictEquals(copy.seed, 1234);
  const more = Array.from({ length: 40 }, () => a.sample(logits));
  assertEquals(Array.from({ length: 40 }, () => copy.sample(logits)), more);
  a.reset();
  assertEquals(Array.from({ length: 40 }, () => a.sample(logits)), seqA);
});

test("chain: rejects non-samplers and wrong API versions with PluginError", () => {
  const bad = { apiVersion: 2, name: "x", apply() {} } as unknown as Sampler;
  assertThrows(
    () => new SamplerChain([bad]),
    (e: unknown) => e instanceof PluginError && e.code === "PLUGIN_API_VERSION",
  );
  const noApply = { apiVersion: 1, name: "x" } as unknown as Sampler;
  assertThrows(
    () => new SamplerChain([noApply]),
    (e: unknown) => e instanceof PluginError && e.code === "PLUGIN_INVALID",
  );
  const rogue: Sampler = {
    apiVersion: 1,
    name: "rogue",
    apply(c) {
      c.selected = 99;
    },
  };
  assertThrows(
    () => new SamplerChain([rogue]).sample(Float32Array.from([1, 2])),
    (e: unknown) => e instanceof PluginError && e.code === "PLUGIN_INVALID",
  );
});
