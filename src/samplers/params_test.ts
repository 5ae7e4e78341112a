import {
  assert,
  assertEquals,
  assertMatch,
  assertStrictEquals,
  assertThrows,
} from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { InvalidArgumentError } from "../core/errors.ts";
import { randomLogits } from "./_testing.ts";
import {
  createSamplerChain,
  DEFAULT_SAMPLING_PARAMS,
  type SamplingParams,
  validateSamplingParams,
} from "./params.ts";

test("params: each bad field is an InvalidArgumentError naming it", () => {
  const cases: [SamplingParams, string][] = [
    [{ temperature: -0.1 }, "temperature"],
    [{ temperature: NaN }, "temperature"],
    [{ topK: -1 }, "topK"],
    [{ topK: 1.5 }, "topK"],
    [{ topP: 1.5 }, "topP"],
    [{ topP: -0.5 }, "topP"],
    [{ minP: 2 }, "minP"],
    [{ typicalP: -1 }, "typicalP"],
    [{ repeatPenalty: 0 }, "repeatPenalty"],
    [{ presencePenalty: Infinity }, "presencePenalty"],
    [{ frequencyPenalty: NaN }, "frequencyPenalty"],
    [{ penaltyLastN: -2 }, "penaltyLastN"],
    [{ seed: 2 ** 32 }, "seed"],
    [{ seed: 0.5 }, "seed"],
    [{ minKeep: -1 }, "minKeep"],
    [{ topP: "0.5" as unknown as number }, "topP"],
  ];
  for (const [p, field] of cases) {
    assertThrows(
      () => validateSamplingParams(p),
      (e: unknown) =>
        e instanceof InvalidArgumentError && e.facts.field === field && e.message.startsWith(field),
      JSON.stringify(p),
    );
    assertThrows(() => createSamplerChain(p), InvalidArgumentError);
  }
  assertThrows(() => validateSamplingParams({ topP: 1.5 }), /topP must be in \[0, 1\], got 1.5/);
  const bias = { logitBias: { x: 1 } as unknown as Record<number, number> };
  assertThrows(() => validateSamplingParams(bias), /logitBias\["x"\]/);
  validateSamplingParams({ temperature: 0, topK: 0, topP: 1, minP: 0, seed: -1, penaltyLastN: -1 });
});

test("params: the default policy is greedy; a temperature turns on llama.cpp's chain", () => {
  assertStrictEquals(DEFAULT_SAMPLING_PARAMS.temperature, 0);
  assertEquals(createSamplerChain({}).samplers.map((s) => s.name), ["greedy"]);
  assertEquals(createSamplerChain({ seed: 3 }).samplers.map((s) => s.name), ["greedy"]);
  assertEquals(createSamplerChain({ temperature: 0.8 }).samplers.map((s) => s.name), [
    "top-k",
    "top-p",
    "min-p",
    "temp",
    "dist",
  ]);
  const full = createSamplerChain({
    logitBias: { 3: 1 },
    repeatPenalty: 1.1,
    typicalP: 0.9,
    temperature: 1,
  });
  assertEquals(full.samplers.map((s) => s.name), [
    "logit-bias",
    "penalties",
    "top-k",
    "typical",
    "top-p",
    "min-p",
    "dist",
  ]);
  assertEquals(createSamplerChain({ temperature: 0, topK: 5 }).samplers.map((s) => s.name), [
    "greedy",
  ]);
});

test("params: temperature 0 is argmax after logit bias and penalties", () => {
  const logits = randomLogits(1000, 8);
  let best = 0, second = -1;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  for (let i = 0; i < logits.length; i++) {
    if (i !== best && (second < 0 || logits[i] > logits[second])) second = i;
  }
  assertStrictEquals(createSamplerChain({ temperature: 0 }).sample(logits), best);
  const banned = createSamplerChain({ temperature: 0, logitBias: { [best]: -Infinity } });
  assertStrictEquals(banned.sample(logits), second);
  const gap = logits[best] - logits[second];
  const penalized = createSamplerChain({ temperature: 0, presencePenalty: gap + 1 });
  assertStrictEquals(penalized.sample(logits, [best]), second);
  assertStrictEquals(penalized.sample(logits, []), best);
});

test("params: same seed reproduces samples; different seeds diverge", () => {
  const logits = randomLogits(32000, 4).map((x) => x * 0.4);
  const run = (seed: number) => {
    const chain = createSamplerChain({ seed, temperature: 1.2, topK: 100, minP: 0 });
    const history: number[] = [];
    for (let i = 0; i < 30; i++) history.push(chain.sample(logits, history));
    return history;
  };
  const a = run(99);
  assertEquals(run(99), a);
  assert(a.some((t, i) => t !== run(100)[i]));
  assertStrictEquals(createSamplerChain({ seed: 99, temperature: 0.8 }).seed, 99);
  assertMatch(String(createSamplerChain({ temperature: 0.8 }).seed), /^\d+$/);
});

test("params: an unknown key is an error naming it and the closest valid key", () => {
  for (
    const [p, key, near] of [
      [{ topk: 3 }, "topk", "topK"],
      [{ temprature: 2 }, "temprature", "temperature"],
      [{ temperature: 1, seeed: 1 }, "seeed", "seed"],
    ] as const
  ) {
    let e: unknown;
    try {
      createSamplerChain(p as unknown as SamplingParams);
    } catch (x) {
      e = x;
    }
    assert(e instanceof InvalidArgumentError, String(e));
    assertEquals([e.facts.field, e.facts.actual, e.facts.expected], [`sampling.${key}`, key, near]);
    assertMatch(e.message, new RegExp(`sampling\\.${key} \\(did you mean ${near}\\?\\)`));
  }
  assertThrows(() => validateSamplingParams([] as unknown as SamplingParams), InvalidArgumentError);
});
