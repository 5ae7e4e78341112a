/**
 * Plugin modules loaded by path: a default export function receiving the registry, named
 * plugin objects of every kind (backend, sampler, tokenizer, architecture), and the typed
 * errors for a module with no plugin or one that cannot be imported. The backend a module
 * exports really runs a model.
 */
import { assert, assertEquals, assertRejects } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "../../tests/shared_data.ts";
import { createRegistry, createSession, loadModel } from "../api.ts";
import { llamaArchitecture } from "../model/llama.ts";
import { joinPath, makeTempDir, removeTree } from "../runtime/fs_tree.ts";
import { writeFile } from "../runtime/host.ts";
import { tokenizerFromMetadata } from "../tokenizers/from_gguf.ts";
import { PluginError } from "./errors.ts";
import { generate } from "./generate.ts";
import { loadPluginModule, registerPluginExports } from "./plugin_loader.ts";

/** ".ts" here, ".js" in the npm build's transpiled suite (run under Node). */
const EXT = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const cpuUrl = new URL(`../backends/cpu/backend${EXT}`, import.meta.url).href;

test("plugin loader: named exports of every kind are registered by shape", async () => {
  const reg = createRegistry();
  const r = await registerPluginExports(reg, {
    arch: { ...llamaArchitecture, name: "llama-fork", architectures: ["llamafork"] },
    tok: {
      apiVersion: 1,
      name: "tok-any",
      matches: () => false,
      create: (md: ReadonlyMap<string, never>) => tokenizerFromMetadata(md),
    },
    list: [{
      apiVersion: 1,
      name: "always-first",
      create: () => ({ apiVersion: 1, name: "always-first", apply() {} }),
    }],
    helper: { notAPlugin: true },
    version: 3,
  });
  assertEquals(r.registered, [
    "architecture:llama-fork",
    "tokenizer:tok-any",
    "sampler:always-first",
  ]);
  assertEquals(reg.architectureFor("llamafork").name, "llama-fork");
  assert(reg.samplerNames().includes("always-first"));
  await assertRejects(
    () => registerPluginExports(reg, { x: { apiVersion: 1, name: "bad", create: 5 } }),
    (e: unknown) => e instanceof PluginError && e.code === "PLUGIN_INVALID",
  );
});

test("plugin loader: modules by path; no plugin or no module are typed errors", async () => {
  const dir = makeTempDir("rf-plugins-");
  try {
    const fnPath = joinPath(dir, "fn.mjs");
    writeFile(
      fnPath,
      `export default (registry) => registry.registerSampler({ apiVersion: 1, name: "by-fn", ` +
        `create: () => ({ apiVersion: 1, name: "by-fn", apply() {} }) });\n`,
    );
    const reg = createRegistry();
    assertEquals((await loadPluginModule(reg, fnPath)).registered, ["function"]);
    assert(reg.samplerNames().includes("by-fn"));
    writeFile(joinPath(dir, "none.mjs"), "export const answer = 42;\n");
    await assertRejects(
      () => loadPluginModule(reg, joinPath(dir, "none.mjs")),
      (e: unknown) =>
        e instanceof PluginError && e.code === "PLUGIN_INVALID" &&
        /exports no plugin/.test(e.message),
    );
    await assertRejects(
      () => loadPluginModule(reg, joinPath(dir, "missing.mjs")),
      (e: unknown) => e instanceof PluginError && e.code === "PLUGIN_NOT_FOUND",
    );
  } finally {
    removeTree(dir);
  }
});

test("plugin loader: a backend exported by a module file runs the model", async () => {
  const dir = makeTempDir("rf-plugins-");
  try {
    const path = joinPath(dir, "my_backend.mjs");
    writeFile(
      path,
      `import { createCpuBackend } from ${JSON.stringify(cpuUrl)};\n` +
        `export const mine = { ...createCpuBackend({ threads: 1 }), name: "mycpu", priority: 5 };\n`,
    );
    const reg = createRegistry();
    assertEquals((await loadPluginModule(reg, path)).registered, ["backend:mycpu"]);
    const model = await loadModel(sharedPath("models", "stories260K.gguf"), {
      registry: reg,
      backend: "mycpu",
      log: () => {},
    });
    const s = createSession(model);
    try {
      assert(model.placement.includes("mycpu"), model.placement);
      let text = "";
      for await (const c of generate(s, "Once upon a time", { maxTokens: 8 })) text += c.text;
      assert(text.startsWith(", there was"), text);
    } finally {
      s.dispose();
      model.dispose();
    }
  } finally {
    removeTree(dir);
  }
}, { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON });
