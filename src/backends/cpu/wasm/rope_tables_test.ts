/**
 * RopeTableCache: tables are shared only between identical parameters, positions and frequency
 * factors — two models' factors with the same tensor name but other values get their own tables.
 *
 * @module
 */
import { test } from "../../../../tests/harness.ts";
import { assert, assertEquals, assertStrictEquals } from "../../../../tests/assert.ts";
import type { RopeParams } from "../../../core/graph.ts";
import { ropeAngles } from "../ops/rope.ts";
import { RopeTableCache } from "./elementwise.ts";

const P: RopeParams = {
  mode: "normal",
  nRot: 8,
  freqBase: 10000,
  freqScale: 1,
  extFactor: 0,
  attnFactor: 1,
  betaFast: 32,
  betaSlow: 1,
  nCtxOrig: 4096,
};

test("RopeTableCache keys frequency factors by their values' array, not their name", () => {
  const cache = new RopeTableCache();
  const a = { name: "rope_freqs.weight", values: new Float32Array([1, 1, 4, 8]) };
  const b = { name: "rope_freqs.weight", values: new Float32Array([1, 2, 2, 2]) };
  const ta = cache.get(P, 5, 2, a);
  const tb = cache.get(P, 5, 2, b);
  assert(ta !== tb, "other factors under the same name must not share tables");
  const cos = new Float32Array(4), sin = new Float32Array(4);
  ropeAngles(P, 6, cos, sin, b.values);
  assertEquals([...tb.cos.subarray(4, 8)], [...cos]);
  assertEquals([...tb.sin.subarray(4, 8)], [...sin]);
  assertStrictEquals(cache.get(P, 5, 2, a), ta, "the same factors reuse their tables");
  assert(cache.get(P, 5, 2) !== ta, "no factors is another table");
});
