/**
 * The alias architecture plugin, through mod.ts only: stories260K renamed to "myllama" fails
 * to load without the plugin (a typed error naming the registered architectures) and, with
 * `registry.architecture("llama")` registered under the new name, generates exactly the tokens
 * the llama original does.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assert, assertEquals, assertRejects, assertThrows } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "../../tests/shared_data.ts";
import {
  createCpuBackend,
  createSession,
  generate,
  InvalidArgumentError,
  loadModel,
  type Model,
  ModelConfigError,
  openGGUF,
  PluginError,
  PluginRegistry,
  registry,
} from "../../mod.ts";
import { aliasArchitecture, renameArchitecture } from "./mod.ts";

const shared = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };

async function greedy(model: Model, n: number): Promise<number[]> {
  const s = createSession(model);
  const out: number[] = [];
  try {
    for await (const c of generate(s, "Once upon a time", { maxTokens: n })) out.push(c.token);
  } finally {
    s.dispose();
  }
  return out;
}

test(
  "alias: a renamed llama loads only with the alias plugin and generates like llama",
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "rf-alias-"));
    const src = openGGUF(sharedPath("models", "stories260K.gguf"));
    try {
      const path = join(dir, "myllama.gguf");
      writeFileSync(path, renameArchitecture(src, "myllama"));
      const renamed = openGGUF(path);
      try {
        assertEquals(renamed.metadata.get("general.architecture")?.value, "myllama");
        assertEquals(renamed.metadata.get("myllama.block_count")?.value, 5);
        assert(![...renamed.metadata.keys()].some((k) => k.startsWith("llama.")));
      } finally {
        renamed.source.close();
      }
      const log = () => {};
      await assertRejects(
        () => loadModel(path, { backend: "cpu", log }),
        (e: unknown) =>
          e instanceof ModelConfigError && e.code === "UNSUPPORTED_ARCHITECTURE" &&
          e.facts.actual === "myllama" && /registered: .*llama/.test(e.message),
      );
      const mine = new PluginRegistry();
      mine.registerBackend(createCpuBackend());
      mine.registerArchitecture({
        ...registry.architecture("llama"),
        name: "myllama",
        architectures: ["myllama"],
      });
      const alias = await loadModel(path, { registry: mine, log });
      const original = await loadModel(sharedPath("models", "stories260K.gguf"), {
        backend: "cpu",
        log,
      });
      try {
        assertEquals(alias.architecture.name, "myllama");
        assertEquals(alias.config.arch, "myllama");
        const want = await greedy(original, 24);
        assertEquals(want.length, 24);
        assertEquals(await greedy(alias, 24), want);
      } finally {
        alias.dispose();
        original.dispose();
      }
    } finally {
      src.source.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
  shared,
);

test("alias: the helper keeps the base builder; claims are exclusive and validated", () => {
  const llama = registry.architecture("llama");
  const a = aliasArchitecture(llama, ["llama-fork", "llama-fork2"]);
  assertEquals([a.name, a.architectures, a.build], [
    "llama-fork",
    ["llama-fork", "llama-fork2"],
    llama.build,
  ]);
  assertThrows(() => aliasArchitecture(llama, []), InvalidArgumentError);
  const r = new PluginRegistry();
  r.registerArchitecture(a);
  assertEquals(r.architectureFor("llama-fork2"), a);
  assertThrows(
    () => r.registerArchitecture(aliasArchitecture(llama, ["other", "llama-fork"])),
    (e: unknown) =>
      e instanceof PluginError && e.code === "PLUGIN_DUPLICATE" && /llama-fork/.test(e.message),
  );
  assertThrows(
    () => r.registerArchitecture({ ...a, name: "x", architectures: [] }),
    (e: unknown) =>
      e instanceof PluginError && e.code === "PLUGIN_INVALID" && /architectures/.test(e.message),
  );
  assertThrows(
    () => r.registerArchitecture({ ...a, name: "y", build: undefined as never }),
    (e: unknown) => e instanceof PluginError && /build/.test(e.message),
  );
  assertThrows(
    () => r.architecture("nope"),
    (e: unknown) => e instanceof PluginError && e.code === "PLUGIN_NOT_FOUND",
  );
  assertThrows(
    () => r.architectureFor("gemma3"),
    (e: unknown) =>
      e instanceof ModelConfigError && e.code === "UNSUPPORTED_ARCHITECTURE" &&
      (e.facts.expected as string[]).join() === "llama-fork,llama-fork2",
  );
  // Replacing a plugin swaps its claims.
  r.registerArchitecture({ ...a, architectures: ["llama-fork3"] }, { replace: true });
  assertEquals(r.architectureNames(), ["llama-fork3"]);
});
