/**
 * Call-time option checks of the library facade (loadModel, createSession, generate,
 * session.eval) on the real stories260K model: unknown keys name the closest valid key, bad
 * values and prompts throw at the call, plugin samplers are validated, and model paths give
 * ModelFileError before the GGUF reader runs.
 */
import { assert, assertEquals, assertRejects, assertThrows } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "../../tests/shared_data.ts";
import { createSession, loadModel } from "../api.ts";
import { makeTempDir, removeTree } from "../runtime/fs_tree.ts";
import { writeFile } from "../runtime/host.ts";
import type { Sampler } from "../samplers/types.ts";
import { InvalidArgumentError, ModelFileError, PluginError } from "./errors.ts";
import { generate, type GenerateOptions } from "./generate.ts";
import type { Model } from "./model.ts";

const shared = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };
const MODEL = sharedPath("models", "stories260K.gguf");
const quiet = { backend: "cpu", log: () => {} };

let cached: Promise<Model> | undefined;
const model = () => cached ??= loadModel(MODEL, quiet);

/** Checks that `fn` throws an InvalidArgumentError for `field`, suggesting `near`. */
function throwsUnknown(fn: () => unknown, field: string, near: string): void {
  assertThrows(fn, (e: unknown) => {
    assert(e instanceof InvalidArgumentError, String(e));
    assertEquals([e.facts.field, e.facts.expected], [field, near]);
    assert(e.message.includes(`${field} (did you mean ${near}?)`), e.message);
    return true;
  });
}

const bad = (o: unknown) => o as GenerateOptions;

test("options: unknown generate/sampling/session keys name the closest valid key", async () => {
  const m = await model();
  const s = createSession(m);
  try {
    throwsUnknown(() => generate(s, "hi", bad({ maxTokes: 3 })), "maxTokes", "maxTokens");
    throwsUnknown(
      () => generate(s, "hi", bad({ sampling: { topk: 3, temperature: 1 } })),
      "sampling.topk",
      "topK",
    );
    throwsUnknown(
      () => generate(s, "hi", bad({ sampling: { temprature: 2 } })),
      "sampling.temprature",
      "temperature",
    );
    throwsUnknown(
      () => createSession(m, { contextLenght: 8 } as never),
      "contextLenght",
      "contextLength",
    );
  } finally {
    s.dispose();
  }
}, shared);

test("options: bad values and prompts throw at the call, before any next()", async () => {
  const m = await model();
  const s = createSession(m);
  try {
    for (
      const [prompt, opts, field] of [
        ["hi", { maxTokens: -1 }, "maxTokens"],
        ["hi", { maxTokens: 1.5 }, "maxTokens"],
        ["hi", { stop: [""] }, "stop.0"],
        ["hi", { logprobs: -2 }, "logprobs"],
        ["hi", { signal: "soon" }, "signal"],
        ["hi", { sampling: { topP: 2 } }, "topP"],
        [42, {}, "prompt"],
        [[1, "x"], {}, "prompt"],
        ["hi", { sampling: {}, sampler: { apiVersion: 1, name: "x", apply() {} } }, "sampler"],
      ] as const
    ) {
      assertThrows(
        () => generate(s, prompt as never, bad(opts)),
        (e: unknown) => e instanceof InvalidArgumentError && e.facts.field === field,
        `${JSON.stringify(prompt)} ${JSON.stringify(opts)}`,
      );
    }
    await assertRejects(
      () => s.eval([1], "bogus" as never),
      (e: unknown) => e instanceof InvalidArgumentError && e.facts.field === "logits",
    );
    assertThrows(() => createSession(m, { batchSize: 0 }), InvalidArgumentError);
    assertEquals(s.nPast, 0);
  } finally {
    s.dispose();
  }
}, shared);

test("options: plugin samplers are validated; an out-of-range pick names the sampler", async () => {
  const m = await model();
  const s = createSession(m);
  try {
    assertThrows(
      () => generate(s, "hi", { sampler: {} as Sampler }),
      (e: unknown) => e instanceof PluginError && e.code === "PLUGIN_INVALID",
    );
    const wild: Sampler = {
      apiVersion: 1,
      name: "wild",
      apply(c) {
        c.selected = 99999;
      },
    };
    const it = generate(s, "hi", { sampler: wild, maxTokens: 3 });
    await assertRejects(() => it.next(), (e: unknown) => {
      assert(e instanceof PluginError && e.code === "PLUGIN_INVALID", String(e));
      assert(e.message.includes("sampler wild"), e.message);
      return true;
    });
    // A filter-only sampler (never selects) still works: the best candidate is taken.
    const filter: Sampler = { apiVersion: 1, name: "noop", apply() {} };
    const greedy = await collect(generate(s, "Once upon a time", { maxTokens: 4 }));
    s.reset();
    assertEquals(
      await collect(generate(s, "Once upon a time", { maxTokens: 4, sampler: filter })),
      greedy,
    );
  } finally {
    s.dispose();
  }
}, shared);

async function collect(it: AsyncGenerator<{ text: string }, unknown>): Promise<string> {
  let t = "";
  for await (const c of it) t += c.text;
  return t;
}

test("options: loadModel checks its options and the file before reading GGUF", async () => {
  await assertRejects(
    () => loadModel(MODEL, { ...quiet, gpuLayer: 3 } as never),
    (e: unknown) => e instanceof InvalidArgumentError && e.facts.expected === "gpuLayers",
  );
  const dir = makeTempDir("rf-model-file-");
  try {
    const tiny = `${dir}/tiny.gguf`;
    writeFile(tiny, new Uint8Array(10));
    for (
      const [path, code] of [
        [`${dir}/missing.gguf`, "MODEL_FILE_NOT_FOUND"],
        [dir, "MODEL_FILE_IS_DIRECTORY"],
        [tiny, "MODEL_FILE_TOO_SMALL"],
      ] as const
    ) {
      await assertRejects(
        () => loadModel(path, quiet),
        (e: unknown) => e instanceof ModelFileError && e.code === code && e.facts.path === path,
        path,
      );
    }
  } finally {
    removeTree(dir);
  }
});
