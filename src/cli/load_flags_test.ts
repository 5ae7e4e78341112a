/**
 * The model flags every loading command shares (generate, score, serve): `--plugin` modules
 * land in the command's registry, `-t` builds the CPU backend with that many threads, and
 * bad values are usage errors before anything loads.
 */
import { assert, assertEquals, assertRejects, assertThrows } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "../../tests/shared_data.ts";
import { joinPath, makeTempDir, removeTree } from "../runtime/fs_tree.ts";
import { writeFile } from "../runtime/host.ts";
import { InvalidArgumentError } from "../core/errors.ts";
import { UsageError } from "./args.ts";
import { checkModelFlags, loadFromFlags, registryFromFlags } from "./_load.ts";

test("model flags: usage errors before loading", () => {
  for (
    const f of [
      { backend: "auto" },
      { model: "m.gguf", backend: "auto", ctx: 0 },
      { model: "m.gguf", backend: "auto", threads: 0 },
      { model: "m.gguf", backend: "auto", threads: 999 },
      { model: "m.gguf", backend: "auto", "gpu-layers": -1 },
    ]
  ) assertThrows(() => checkModelFlags(f), UsageError, JSON.stringify(f));
});

test("model flags: --plugin backends and -t threads reach the loaded model", async () => {
  const dir = makeTempDir("rf-flags-");
  try {
    const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
    const cpu = new URL(`../backends/cpu/backend${ext}`, import.meta.url).href;
    const plugin = joinPath(dir, "plug.mjs");
    writeFile(
      plugin,
      `import { createCpuBackend } from ${JSON.stringify(cpu)};\n` +
        `export default (r) => r.registerBackend({ ...createCpuBackend({ threads: 1 }), name: "plugcpu" });\n`,
    );
    const flags = { model: sharedPath("models", "stories260K.gguf"), backend: "plugcpu" };
    const reg = await registryFromFlags({ ...flags, plugin: [plugin], threads: 2 });
    assert(reg.backends().some((b) => b.name === "plugcpu"));
    // -t reaches createCpuBackend: a count it refuses (past the usage check) is its error.
    await assertRejects(
      () => registryFromFlags({ ...flags, threads: 300 }),
      (e: unknown) => e instanceof InvalidArgumentError && /threads/.test(e.message),
    );
    let err = "";
    const io = { stdout: () => {}, stderr: (t: string) => void (err += t) };
    const model = await loadFromFlags({ ...flags, plugin: [plugin] }, io);
    try {
      assert(model.placement.includes("plugcpu"), model.placement);
      assert(/^loaded .* plugcpu/m.test(err), err);
    } finally {
      model.dispose();
    }
    await assertRejects(
      () => loadFromFlags({ ...flags, backend: "auto", plugin: [joinPath(dir, "none.mjs")] }, io),
      (e: unknown) => e instanceof Error && "code" in e && e.code === "PLUGIN_NOT_FOUND",
    );
    assertEquals(err.includes("error"), false);
  } finally {
    removeTree(dir);
  }
}, { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON });
