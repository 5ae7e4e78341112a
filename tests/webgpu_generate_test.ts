/**
 * generate() on the WebGPU backend's on-device greedy loop (Session.decodeGreedy, chunks of
 * DEVICE_CHUNK tokens): stories260K's text and tokens equal the per-token path's, a stop string
 * hit mid-chunk leaves the session at the per-token path's position, and a continuation after
 * it equals the per-token path's too. Samplers that need the host's logits keep the per-token
 * path.
 *
 * @module
 */
import { WebGpuContext } from "../src/backends/webgpu/context.ts";
import {
  DEVICE_CHUNK,
  generate,
  type GenerateOptions,
  type GenerateResult,
  usesDeviceGreedy,
} from "../src/core/generate.ts";
import { Model } from "../src/core/model.ts";
import { Session } from "../src/core/session.ts";
import { builtinArchitectures } from "../src/model/mod.ts";
import { GreedySampler } from "../src/samplers/greedy.ts";
import { createSamplerChain } from "../src/samplers/params.ts";
import { type Sampler, SAMPLER_API_VERSION } from "../src/samplers/types.ts";
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { goldenModelPath } from "./golden_util.ts";
import { test } from "./harness.ts";
import { cpu, opts, webgpu } from "./webgpu_setup.ts";
import { HAVE_SHARED, NO_SHARED_REASON } from "./shared_data.ts";

/** Greedy selection that is not a lone GreedySampler chain: generate keeps the per-token path. */
function hostGreedy(): Sampler {
  const g = new GreedySampler();
  return { apiVersion: SAMPLER_API_VERSION, name: "host-greedy", apply: (c) => g.apply(c) };
}

interface Run {
  readonly text: string;
  readonly result: GenerateResult;
  readonly cached: readonly number[];
}

async function collect(s: Session, prompt: string, o: GenerateOptions): Promise<Run> {
  const it = generate(s, prompt, o);
  let text = "";
  for (;;) {
    const r = await it.next();
    if (r.done) return { text, result: r.value, cached: [...s.tokens] };
    text += r.value.text;
  }
}

async function withModel(fn: (m: Model, calls: () => number) => Promise<void>): Promise<void> {
  const model = await Model.load(goldenModelPath("stories260K.gguf"), {
    architectures: builtinArchitectures,
    backends: [webgpu, cpu],
  });
  try {
    const ctx = model.contexts.get(webgpu);
    assert(ctx instanceof WebGpuContext, "the model has a WebGPU context");
    let n = 0;
    const loop = ctx.decodeGreedy.bind(ctx);
    ctx.decodeGreedy = (req) => (n++, loop(req));
    await fn(model, () => n);
  } finally {
    model.dispose();
  }
}

const PROMPT = "Once upon a time";

test("webgpu generate: the device loop's text and tokens equal the per-token path's", async () => {
  await withModel(async (model, calls) => {
    const dev = new Session(model);
    const host = new Session(model);
    try {
      assert(dev.canDecodeGreedy, "stories260K runs wholly on the WebGPU context");
      // Not a multiple of the chunk: the last call picks fewer tokens.
      const maxTokens = 2 * DEVICE_CHUNK + 5;
      const a = await collect(dev, PROMPT, { maxTokens });
      const used = calls();
      assert(used >= 2, `the device loop ran (${used} calls)`);
      const b = await collect(host, PROMPT, { maxTokens, sampler: hostGreedy() });
      assertEquals(calls(), used, "the per-token path does not use the device loop");
      assertEquals(a.result.tokens, b.result.tokens);
      assertEquals(a.text, b.text);
      assertEquals(a.result.text, b.result.text);
      assertEquals(a.result.finishReason, b.result.finishReason);
      assertEquals(a.cached, b.cached);
    } finally {
      dev.dispose();
      host.dispose();
    }
  });
}, opts);

test(
  "webgpu generate: a stop string mid-chunk rewinds the session; a continuation equals the per-token path's",
  async () => {
    await withModel(async (model) => {
      const probeRun = new Session(model);
      let stopAt: string;
      try {
        // The text of a token that lands inside the second chunk ends the generation there.
        const r = await collect(probeRun, PROMPT, { maxTokens: 3 * DEVICE_CHUNK });
        const tok = model.tokenizer;
        const k = DEVICE_CHUNK + 5;
        const before = tok.decode(r.result.tokens.slice(0, k)).length;
        const upTo = tok.decode(r.result.tokens.slice(0, k + 1));
        stopAt = upTo.slice(before).trim();
        assert(stopAt.length > 0 && !upTo.slice(0, before).includes(stopAt), `stop "${stopAt}"`);
      } finally {
        probeRun.dispose();
      }
      const dev = new Session(model);
      const host = new Session(model);
      try {
        const o = { maxTokens: 3 * DEVICE_CHUNK, stop: [stopAt] };
        const a = await collect(dev, PROMPT, o);
        const b = await collect(host, PROMPT, { ...o, sampler: hostGreedy() });
        assertEquals(a.result.finishReason, "stop");
        assertEquals(a.result, b.result);
        assertEquals(a.text, b.text);
        assert(a.result.tokens.length > DEVICE_CHUNK && a.result.tokens.length < 2 * DEVICE_CHUNK);
        // The tokens the loop picked past the stop are not in the cache.
        assertEquals(a.cached, b.cached);
        assertEquals(a.cached.length, a.result.promptTokens + a.result.tokens.length - 1);
        // Continue each session: prompt + the text so far + more.
        const next = `${PROMPT}${a.result.text} and then`;
        const c = await collect(dev, next, { maxTokens: DEVICE_CHUNK + 3 });
        const d = await collect(host, next, { maxTokens: DEVICE_CHUNK + 3, sampler: hostGreedy() });
        assertEquals(c.result, d.result);
        assertEquals(c.text, d.text);
        assertEquals(c.cached, d.cached);
      } finally {
        dev.dispose();
        host.dispose();
      }
    });
  },
  opts,
);

test(
  "webgpu generate: a consumer that stops reading mid-chunk leaves the per-token path's cache",
  async () => {
    await withModel(async (model) => {
      const cached: number[][] = [];
      for (const sampler of [undefined, hostGreedy()]) {
        const s = new Session(model);
        try {
          const it = generate(s, PROMPT, { maxTokens: 3 * DEVICE_CHUNK, sampler });
          for (let i = 0; i < DEVICE_CHUNK + 3; i++) assert(!(await it.next()).done);
          await it.return(undefined as never);
          cached.push([...s.tokens]);
        } finally {
          s.dispose();
        }
      }
      assertEquals(cached[0], cached[1]);
    });
  },
  opts,
);

test(
  "session: without a backend loop, canDecodeGreedy is false and decodeGreedy a typed error",
  async () => {
    const model = await Model.load(goldenModelPath("stories260K.gguf"), {
      architectures: builtinArchitectures,
      backends: [cpu],
    });
    const s = new Session(model);
    try {
      assert(!s.canDecodeGreedy);
      assert(!usesDeviceGreedy(s, createSamplerChain({ temperature: 0 }), {}));
      await assertRejects(() => s.decodeGreedy(1, 4), { code: "INVALID_ARGUMENT" });
    } finally {
      s.dispose();
      model.dispose();
    }
  },
  { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON },
);

test("webgpu generate: logprobs, penalties and sampling keep the per-token path", async () => {
  await withModel(async (model, calls) => {
    const s = new Session(model);
    try {
      await collect(s, PROMPT, { maxTokens: 4, logprobs: 0 });
      await collect(s, PROMPT, { maxTokens: 4, sampling: { temperature: 0, repeatPenalty: 1.1 } });
      assertEquals(calls(), 0, "no device loop for logprobs or penalties");
      assert(usesDeviceGreedy(s, createSamplerChain({ temperature: 0 }), {}));
      assert(!usesDeviceGreedy(s, createSamplerChain({ temperature: 0 }), { logprobs: 0 }));
      assert(!usesDeviceGreedy(s, createSamplerChain({ temperature: 0, repeatPenalty: 1.1 }), {}));
      assert(!usesDeviceGreedy(s, createSamplerChain({ temperature: 0, presencePenalty: 1 }), {}));
      assert(!usesDeviceGreedy(s, createSamplerChain({ temperature: 0.8, seed: 1 }), {}));
      assert(!usesDeviceGreedy(s, hostGreedy(), {}));
      const shifted = new Session(model, { contextShift: { keep: 4 } });
      try {
        assert(!shifted.canDecodeGreedy, "a context shift keeps the per-token path");
      } finally {
        shifted.dispose();
      }
    } finally {
      s.dispose();
    }
  });
}, opts);
