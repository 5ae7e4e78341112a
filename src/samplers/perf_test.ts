import { assert } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { randomLogits } from "./_testing.ts";
import { createSamplerChain, type SamplingParams } from "./params.ts";
import { candidatesFromLogits, createCandidates, sortByLogit } from "./types.ts";

// Timings compare against a full sort measured the same way at the same time, taking the best
// of several rounds, so that a loaded machine slows both sides instead of failing the test.

function bestMs(f: () => void, rounds = 7, iters = 5): number {
  for (let i = 0; i < iters * 2; i++) f(); // warm up the JIT
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) f();
    best = Math.min(best, (performance.now() - t0) / iters);
  }
  return best;
}

function fullSortMs(logits: Float32Array): number {
  const c = createCandidates(0);
  return bestMs(() => {
    candidatesFromLogits(logits, c);
    sortByLogit(c);
  });
}

function chainMs(logits: Float32Array, params: SamplingParams): number {
  const chain = createSamplerChain({ seed: 1, ...params });
  const history = Array.from({ length: 256 }, (_, i) => (i * 7919) % logits.length);
  return bestMs(() => chain.sample(logits, history), 7, 20);
}

test("perf: 32000-vocab default chain (penalties, bias, top-k/p, min-p) beats a sort", () => {
  const logits = randomLogits(32000, 31);
  const ms = chainMs(logits, { repeatPenalty: 1.1, logitBias: { 2: -Infinity } });
  const sortMs = fullSortMs(logits);
  assert(ms < sortMs / 4, `chain ${ms.toFixed(3)} ms/token vs full sort ${sortMs.toFixed(3)} ms`);
  assert(ms < 50, `chain ${ms.toFixed(3)} ms/token`);
});

test("perf: 152k vocab, top-p without top-k does not fully sort a peaked distribution", () => {
  const logits = randomLogits(152000, 32);
  for (let i = 0; i < 100; i++) logits[(i * 1511) % logits.length] += 12;
  const ms = chainMs(logits, { topK: 0, topP: 0.9, minP: 0 });
  const sortMs = fullSortMs(logits);
  assert(ms < sortMs / 2, `top-p ${ms.toFixed(3)} ms/token vs full sort ${sortMs.toFixed(3)} ms`);
});
