import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { InvalidArgumentError } from "../core/errors.ts";
import { PluginRegistry } from "../core/registry.ts";
import { BUILTIN_SAMPLER_PLUGINS, registerDefaultSamplers } from "./builtin_plugins.ts";
import { candidatesFromLogits } from "./types.ts";

test("builtin sampler plugins: listed in the registry and built through it", () => {
  const reg = new PluginRegistry();
  registerDefaultSamplers(reg);
  assertEquals(reg.samplerNames(), BUILTIN_SAMPLER_PLUGINS.map((p) => p.name));
  for (
    const n of ["chain", "greedy", "temp", "top-k", "top-p", "min-p", "typical", "dist"]
  ) assert(reg.samplerNames().includes(n), n);
  const logits = Float32Array.from([0.1, 3, 0.5, 2]);
  const c = candidatesFromLogits(logits);
  reg.createSampler("top-k", { k: 2 }).apply(c, { history: [] });
  assertEquals(c.size, 2);
  const g = candidatesFromLogits(logits);
  reg.createSampler("greedy").apply(g, { history: [] });
  assertEquals(g.ids[g.selected], 1);
  assertEquals(reg.createSampler("chain", { temperature: 0.5, seed: 3 }).name, "chain");
  assertThrows(
    () => reg.createSampler("top-k", { kk: 2 }),
    (e: unknown) => e instanceof InvalidArgumentError && e.facts.expected === "k",
  );
  assertThrows(() => reg.createSampler("top-k", { k: -1 }), InvalidArgumentError);
});
