/**
 * On-device greedy decoding (src/backends/webgpu/decode.ts): stories260K's continuation
 * picked by the device's argmax, several steps per submit, equals llama.cpp's golden tokens
 * and the host-sampled path; bad requests are typed errors; copyKV clones a prefix.
 *
 * @module
 */
import { WebGpuContext } from "../src/backends/webgpu/context.ts";
import type { Backend, KVStore } from "../src/core/backend.ts";
import { Model } from "../src/core/model.ts";
import { Session } from "../src/core/session.ts";
import { builtinArchitectures } from "../src/model/mod.ts";
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { goldenModelPath, goldenRows } from "./golden_util.ts";
import { test } from "./harness.ts";
import { cpu, opts, webgpu } from "./webgpu_setup.ts";

/** A session whose cache on one backend the test reaches. */
class CacheSession extends Session {
  cache(b: Backend): KVStore {
    const kv = this.kv.get(b);
    if (!kv) throw new Error(`no cache on ${b.name}`);
    return kv;
  }
}

const argmax = (l: Float32Array) => l.reduce((best, v, i) => (v > l[best] ? i : best), 0);

async function withModel(fn: (m: Model, ctx: WebGpuContext) => Promise<void>): Promise<void> {
  const model = await Model.load(goldenModelPath("stories260K.gguf"), {
    architectures: builtinArchitectures,
    backends: [webgpu, cpu],
  });
  try {
    const ctx = model.contexts.get(webgpu);
    assert(ctx instanceof WebGpuContext, "the model has a WebGPU context");
    await fn(model, ctx);
  } finally {
    model.dispose();
  }
}

test("webgpu decode: device-side greedy tokens equal llama.cpp's", async () => {
  await withModel(async (model, ctx) => {
    const graph = model.plan(1, "last").graph;
    for (const row of goldenRows("stories260K.jsonl").slice(0, 2)) {
      const s = new CacheSession(model);
      try {
        const first = argmax(await s.eval(row.prompt_tokens, "last"));
        assertEquals(first, row.tokens[0]);
        const rest = await ctx.decodeGreedy({
          graph,
          kv: s.cache(webgpu),
          token: first,
          pos0: s.nPast,
          steps: row.tokens.length - 1,
          stepsPerSubmit: 5,
        });
        assertEquals([first, ...rest], row.tokens);
      } finally {
        s.dispose();
      }
    }
  });
}, opts);

test("webgpu decode: the cache it fills serves the host path afterwards", async () => {
  await withModel(async (model, ctx) => {
    const prompt = [1, 403, 407, 261, 378];
    const a = new CacheSession(model);
    const b = new Session(model);
    try {
      const first = argmax(await a.eval(prompt, "last"));
      const picked = await ctx.decodeGreedy({
        graph: model.plan(1, "last").graph,
        kv: a.cache(webgpu),
        token: first,
        pos0: a.nPast,
        steps: 6,
      });
      // Host path: the same tokens one eval at a time.
      let tok = argmax(await b.eval(prompt, "last"));
      const host = [tok];
      for (let i = 0; i < 6; i++) host.push(tok = argmax(await b.eval([tok], "last")));
      assertEquals([first, ...picked], host.slice(0, 7));
    } finally {
      a.dispose();
      b.dispose();
    }
  });
}, opts);

test("webgpu decode: bad requests are typed errors", async () => {
  await withModel(async (model, ctx) => {
    const s = new CacheSession(model, { contextLength: 16 });
    try {
      await s.eval([1, 2, 3], "last");
      const base = { graph: model.plan(1, "last").graph, kv: s.cache(webgpu), token: 5, pos0: 3 };
      await assertRejects(() => ctx.decodeGreedy({ ...base, steps: 0 }), {
        code: "INVALID_ARGUMENT",
      });
      await assertRejects(() => ctx.decodeGreedy({ ...base, steps: 20 }), {
        code: "BACKEND_CALL_FAILED",
        message: /KV cache overflow/,
      });
      await assertRejects(
        () => ctx.decodeGreedy({ ...base, graph: model.plan(2, "last").graph, steps: 2 }),
        { code: "INVALID_ARGUMENT" },
      );
      await assertRejects(() => ctx.decodeGreedy({ ...base, token: 1 << 20, steps: 2 }), {
        code: "BACKEND_CALL_FAILED",
        message: /outside vocabulary/,
      });
    } finally {
      s.dispose();
    }
  });
}, opts);

test("webgpu decode: copyKV lets a second session continue from a copied prefix", async () => {
  await withModel(async (model) => {
    const prompt = [1, 403, 407, 261, 378, 432, 383];
    const a = new Session(model);
    const b = new Session(model);
    const c = new Session(model);
    try {
      await a.eval(prompt.slice(0, 5), "last");
      assert(b.adoptPrefix(a, 5), "the WebGPU context copies caches");
      const fromCopy = await b.eval(prompt.slice(5), "last");
      const fresh = await c.eval(prompt, "last");
      assertEquals(Array.from(fromCopy), Array.from(fresh));
    } finally {
      a.dispose();
      b.dispose();
      c.dispose();
    }
  });
}, opts);
