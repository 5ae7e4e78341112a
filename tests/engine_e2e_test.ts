/**
 * End to end through the public facade (src/api.ts): backend "auto" on a machine without a
 * usable GPU logs one notice and falls back to the CPU; asking for "hip" explicitly there is
 * a typed BACKEND_UNAVAILABLE error; unknown backends are PLUGIN_NOT_FOUND; a registry with
 * an extra backend plugin is honoured.
 */
import { createSession, loadModel, registry } from "../src/api.ts";
import { createCpuBackend } from "../src/backends/cpu/backend.ts";
import { countingBackend } from "./counting_backend.ts";
import type { Backend } from "../src/core/backend.ts";
import { BackendError, OutOfMemoryError, PluginError } from "../src/core/errors.ts";
import { generate } from "../src/core/generate.ts";
import { PluginRegistry } from "../src/core/registry.ts";
import { assert, assertEquals, assertMatch, assertRejects } from "./assert.ts";
import { test } from "./harness.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "./shared_data.ts";

const MODEL = sharedPath("models", "stories260K.gguf");
/** llama.cpp's greedy continuation of "Once upon a time" (golden), first 12 tokens. */
const GOLDEN = [432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338];

const accelerators = registry.backends().slice(0, -1);
const available = await Promise.all(accelerators.map(async (b) => (await b.probe()).available));
const hasGpu = available.some(Boolean);
const noGpu = {
  ignore: !HAVE_SHARED || hasGpu,
  reason: !HAVE_SHARED ? NO_SHARED_REASON : "a GPU backend is available on this machine",
};
const shared = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };

async function greedy(model: Awaited<ReturnType<typeof loadModel>>, n: number) {
  const session = createSession(model);
  const it = generate(session, "Once upon a time", { maxTokens: n, ignoreEos: true });
  let r = await it.next();
  while (!r.done) r = await it.next();
  session.dispose();
  return r.value;
}

test("e2e: the default registry has the CPU last", () => {
  const names = registry.backends().map((b) => b.name);
  assertEquals(names.at(-1), "cpu");
  assert(names.includes("hip"), names.join(", "));
});

test(
  "e2e: backend auto without a GPU logs one notice per accelerator, generates on the CPU",
  async () => {
    const log: string[] = [];
    const model = await loadModel(MODEL, { backend: "auto", log: (l) => log.push(l) });
    try {
      assertEquals(log.length, accelerators.length, log.join("\n"));
      accelerators.forEach((b, i) =>
        assertMatch(log[i], new RegExp(`^rocmforge: ${b.name} unavailable \\(.+\\); using cpu$`))
      );
      assertEquals(model.placement, "cpu: input, layers 0–4, output");
      const r = await greedy(model, GOLDEN.length);
      assertEquals(r.tokens, GOLDEN);
      assertEquals(r.finishReason, "length");
    } finally {
      model.dispose();
    }
  },
  noGpu,
);

test("e2e: backend hip without its library or device is BACKEND_UNAVAILABLE", async () => {
  const log: string[] = [];
  await assertRejects(
    () => loadModel(MODEL, { backend: "hip", log: (l) => log.push(l) }),
    (e: unknown) =>
      e instanceof BackendError && e.code === "BACKEND_UNAVAILABLE" &&
      typeof e.facts.actual === "string" && /hip/.test(e.message),
  );
  assertEquals(log, []);
}, noGpu);

test("e2e: backend cpu logs nothing; an unknown backend is PLUGIN_NOT_FOUND", async () => {
  const log: string[] = [];
  const model = await loadModel(MODEL, { backend: "cpu", log: (l) => log.push(l) });
  try {
    assertEquals(log, []);
    assertEquals((await greedy(model, 4)).tokens, GOLDEN.slice(0, 4));
  } finally {
    model.dispose();
  }
  await assertRejects(
    () => loadModel(MODEL, { backend: "tpu", log: () => {} }),
    (e: unknown) => e instanceof PluginError && e.code === "PLUGIN_NOT_FOUND",
  );
  await assertRejects(
    () => loadModel(MODEL, { registry: new PluginRegistry(), log: () => {} }),
    (e: unknown) => e instanceof PluginError && e.code === "PLUGIN_NOT_FOUND",
  );
}, shared);

test("e2e: a custom registry's backend is used; strict choice of a small one is OOM", async () => {
  const cpu = createCpuBackend();
  const counter = { rows: 0 };
  const small = (free: number): Backend =>
    countingBackend(cpu, counter, {
      name: "mini",
      priority: 5,
      probe: () =>
        Promise.resolve({
          available: true,
          devices: [{ id: 0, name: "mini", totalMemory: free, freeMemory: free }],
        }),
    });
  const reg = new PluginRegistry();
  reg.registerBackend(cpu);
  reg.registerBackend(small(1 << 30));
  const log: string[] = [];
  const model = await loadModel(MODEL, { registry: reg, log: (l) => log.push(l) });
  try {
    assertMatch(model.placement, /^mini: input, layers 0–4, output \(/);
    assertEquals(log, [`rocmforge: ${model.placement}`]);
    assertEquals((await greedy(model, 4)).tokens, GOLDEN.slice(0, 4));
    assertEquals(counter.rows, 5 + 3);
  } finally {
    model.dispose();
  }
  // Named explicitly, a backend that cannot hold the model is an error, not a fallback.
  const tiny = new PluginRegistry();
  tiny.registerBackend(cpu);
  tiny.registerBackend(small(1 << 20));
  await assertRejects(
    () => loadModel(MODEL, { registry: tiny, backend: "mini", log: () => {} }),
    (e: unknown) =>
      e instanceof OutOfMemoryError && e.facts.actual === 1 << 20 &&
      (e.facts.expected as number) > 100 * (1 << 20),
  );
  // With auto it falls back to the CPU quietly but says so once.
  const autoLog: string[] = [];
  const m2 = await loadModel(MODEL, { registry: tiny, log: (l) => autoLog.push(l) });
  try {
    assertEquals(m2.placement, "cpu: input, layers 0–4, output");
    assertEquals(autoLog, ["rocmforge: cpu: input, layers 0–4, output"]);
  } finally {
    m2.dispose();
  }
}, shared);
