/**
 * Tests of the XTC sampler plugin: registration and manifest validation through a fresh
 * PluginRegistry, the filter's semantics on hand-made candidates, and generation on the real
 * stories260K model (XTC's choices follow from llama.cpp's golden distributions; a seed
 * reproduces a sampled run).
 */
import {
  builtinArchitectures,
  type Candidates,
  createCandidates,
  createCpuBackend,
  DistSampler,
  generate,
  GreedySampler,
  InvalidArgumentError,
  Model,
  PluginError,
  PluginRegistry,
  RocmForgeError,
  type Sampler,
  SamplerChain,
  Session,
} from "../../mod.ts";
import { readTextFile } from "../../src/runtime/host.ts";
import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "../../tests/shared_data.ts";
import { parseXtcOptions, xtcPlugin, XtcSampler } from "./mod.ts";

/** Candidates with these ids and probabilities (logits = log p), unsorted. */
function cands(ids: number[], probs: number[]): Candidates {
  const c = createCandidates(ids.length);
  ids.forEach((id, i) => {
    c.ids[i] = id;
    c.logits[i] = Math.log(probs[i]);
  });
  c.size = ids.length;
  return c;
}

const live = (c: Candidates) => Array.from(c.ids.subarray(0, c.size));

function throwsCode<E extends RocmForgeError>(
  fn: () => unknown,
  cls: new (...a: never[]) => E,
  code: string,
): E {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert(caught instanceof cls, `expected ${cls.name}, got ${String(caught)}`);
  assertEquals(caught.code, code);
  return caught;
}

function registryWithXtc(): PluginRegistry {
  const r = new PluginRegistry();
  r.registerSampler(xtcPlugin);
  return r;
}

test("xtc: registers and is created through the registry", () => {
  const r = registryWithXtc();
  assertEquals(r.samplerNames(), ["xtc"]);
  const s = r.createSampler("xtc", { threshold: 0.2, probability: 1, seed: 3 });
  assert(s instanceof XtcSampler);
  assertEquals([s.name, s.apiVersion, s.threshold, s.probability, s.seed], ["xtc", 1, 0.2, 1, 3]);
  throwsCode(() => r.registerSampler(xtcPlugin), PluginError, "PLUGIN_DUPLICATE");
  throwsCode(() => r.createSampler("xtx"), PluginError, "PLUGIN_NOT_FOUND");
});

test("xtc: bad manifests are rejected with the field named", () => {
  const r = new PluginRegistry();
  const v = throwsCode(
    () => r.registerSampler({ ...xtcPlugin, apiVersion: 2 as 1 }),
    PluginError,
    "PLUGIN_API_VERSION",
  );
  assertEquals([v.facts.expected, v.facts.actual], [1, 2]);
  const missing = { apiVersion: 1, name: "xtc" } as unknown as typeof xtcPlugin;
  const m = throwsCode(() => r.registerSampler(missing), PluginError, "PLUGIN_INVALID");
  assert(m.message.includes("create"), m.message);
  const n = throwsCode(
    () => r.registerSampler({ ...xtcPlugin, name: "XTC sampler" }),
    PluginError,
    "PLUGIN_INVALID",
  );
  assert(n.message.includes("name"), n.message);
  throwsCode(
    () => r.registerSampler(null as unknown as typeof xtcPlugin),
    PluginError,
    "PLUGIN_INVALID",
  );
  assertEquals(r.samplerNames(), []);
});

test("xtc: invalid options are InvalidArgumentErrors naming the option", () => {
  const r = registryWithXtc();
  for (
    const [opts, field] of [
      [{ threshold: 1.5 }, "threshold"],
      [{ threshold: "0.1" }, "threshold"],
      [{ probability: -0.1 }, "probability"],
      [{ probability: NaN }, "probability"],
      [{ seed: 1.5 }, "seed"],
      [{ seed: 2 ** 32 }, "seed"],
      [{ minKeep: 0 }, "minKeep"],
      [{ treshold: 0.1 }, "treshold"],
    ] as const
  ) {
    const e = throwsCode(
      () => r.createSampler("xtc", opts as Record<string, unknown>),
      InvalidArgumentError,
      "INVALID_ARGUMENT",
    );
    assertEquals(e.facts.field, field);
  }
  assertThrows(() => parseXtcOptions([]), InvalidArgumentError);
  assertEquals(parseXtcOptions({}), {
    threshold: 0.1,
    probability: 0.5,
    minKeep: 1,
    seed: undefined,
  });
});

test("xtc: removes every top choice but the least likely, keeping order", () => {
  const x = new XtcSampler({ threshold: 0.1, probability: 1, seed: 1 });
  const c = cands([7, 3, 9, 4, 5], [0.05, 0.5, 0.15, 0.28, 0.02]);
  x.apply(c);
  // 0.5, 0.28 and 0.15 are >= 0.1: the first two go, 0.15 stays; order is kept.
  assertEquals(live(c), [7, 9, 5]);
  assertEquals(c.selected, -1);
  const p = Array.from(c.probs.subarray(0, 3));
  const total = 0.05 + 0.15 + 0.02;
  p.forEach((v, i) => assert(Math.abs(v - [0.05, 0.15, 0.02][i] / total) < 1e-6, `p[${i}]=${v}`));
});

test("xtc: leaves candidates alone when it must not act", () => {
  const probs = [0.7, 0.2, 0.06, 0.04];
  const cases: [string, XtcSampler][] = [
    ["one token above threshold", new XtcSampler({ threshold: 0.25, probability: 1, seed: 1 })],
    ["probability 0", new XtcSampler({ threshold: 0.1, probability: 0, seed: 1 })],
    ["threshold above 0.5", new XtcSampler({ threshold: 0.6, probability: 1, seed: 1 })],
    ["minKeep not met", new XtcSampler({ threshold: 0.05, probability: 1, minKeep: 3, seed: 1 })],
  ];
  for (const [why, x] of cases) {
    const c = cands([0, 1, 2, 3], probs);
    x.apply(c);
    assertEquals(live(c), [0, 1, 2, 3], why);
  }
  const one = cands([5], [1]);
  new XtcSampler({ probability: 1, threshold: 0 }).apply(one);
  assertEquals(live(one), [5]);
  // minKeep exactly met: 4 - (3 - 1) = 2 remain.
  const c = cands([0, 1, 2, 3], probs);
  new XtcSampler({ threshold: 0.05, probability: 1, minKeep: 2, seed: 1 }).apply(c);
  assertEquals(live(c), [2, 3]);
});

test("xtc: acts with the given probability; seed, clone and reset reproduce decisions", () => {
  const decisions = (x: Sampler, n: number) => {
    const out: boolean[] = [];
    for (let i = 0; i < n; i++) {
      const c = cands([0, 1, 2], [0.5, 0.4, 0.1]);
      x.apply(c, { history: [] });
      out.push(c.size < 3);
    }
    return out;
  };
  const a = new XtcSampler({ threshold: 0.3, probability: 0.3, seed: 42 });
  const first = decisions(a, 2000);
  const rate = first.filter(Boolean).length / first.length;
  assert(rate > 0.25 && rate < 0.35, `acted on ${rate} of tokens, expected about 0.3`);
  assertEquals(
    decisions(new XtcSampler({ threshold: 0.3, probability: 0.3, seed: 42 }), 50),
    first.slice(0, 50),
  );
  const twin = a.clone();
  assertEquals(decisions(twin, 100), decisions(a, 100));
  a.reset();
  assertEquals(decisions(a, 50), first.slice(0, 50));
  const other = decisions(new XtcSampler({ threshold: 0.3, probability: 0.3, seed: 43 }), 50);
  assert(other.join() !== first.slice(0, 50).join(), "a different seed gives other decisions");
});

interface GoldenRow {
  prompt_tokens: number[];
  tokens: number[];
  top_logprobs: [number, number][][];
}

const shared = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };

async function loadStories(): Promise<Model> {
  return await Model.load(sharedPath("models", "stories260K.gguf"), {
    architectures: builtinArchitectures,
    backends: [createCpuBackend()],
  });
}

async function run(session: Session, prompt: readonly number[], sampler: Sampler, n: number) {
  const it = generate(session, prompt, { maxTokens: n, sampler, ignoreEos: true });
  let r = await it.next();
  while (!r.done) r = await it.next();
  return r.value;
}

test(
  "xtc: on stories260K, greedy after XTC picks what llama.cpp's distribution implies",
  async () => {
    const row: GoldenRow = JSON.parse(
      readTextFile(sharedPath("golden", "stories260K.jsonl")).split("\n")[0],
    );
    const threshold = 0.06;
    // The expected choice per step, from llama.cpp's top-8, up to the first step where XTC
    // changes the greedy token (after that the text diverges from the golden one).
    const expected: number[] = [];
    for (const top of row.top_logprobs) {
      const probs = top.map(([id, lp]) => [id, Math.exp(lp)] as const);
      assert(probs[probs.length - 1][1] < threshold, "top-8 covers every token above threshold");
      const above = probs.filter(([, p]) => p >= threshold);
      const pick = above.length >= 2 ? above[above.length - 1][0] : probs[0][0];
      expected.push(pick);
      if (pick !== probs[0][0]) break;
    }
    assert(expected.length < row.tokens.length, "XTC acts somewhere in the golden continuation");
    const model = await loadStories();
    try {
      const xtc = registryWithXtc().createSampler("xtc", { threshold, probability: 1, seed: 5 });
      const session = new Session(model);
      const res = await run(
        session,
        row.prompt_tokens,
        new SamplerChain([xtc, new GreedySampler()]),
        expected.length,
      );
      assertEquals(res.tokens, expected);
      assert(res.tokens.at(-1) !== row.tokens[expected.length - 1]);
      session.dispose();
    } finally {
      model.dispose();
    }
  },
  shared,
);

test("xtc: composed with dist in a chain, the same seeds give the same text", async () => {
  const model = await loadStories();
  try {
    const r = registryWithXtc();
    const prompt = model.tokenizer.encode("Once upon a time", { addSpecial: true });
    const chain = (xtcSeed: number) =>
      new SamplerChain([
        r.createSampler("xtc", { threshold: 0.05, probability: 0.5, seed: xtcSeed }),
        new DistSampler(1234),
      ]);
    const texts: string[] = [];
    for (const seed of [11, 11, 12]) {
      const session = new Session(model);
      const res = await run(session, prompt, chain(seed), 32);
      assertEquals(res.completionTokens, 32);
      texts.push(res.text);
      session.dispose();
    }
    assertEquals(texts[1], texts[0]);
    assert(texts[0].length > 40, texts[0]);
    assert(new Set(texts).size > 1, "other XTC seeds change the sampled text");
  } finally {
    model.dispose();
  }
}, shared);
