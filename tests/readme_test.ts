/**
 * The README's Library and Plugins sections are true: every `ts` code block in them runs (on
 * the real stories260K model) from a temporary folder outside the repo, importing mod.ts by
 * file URL, after `deno check` passes on them; a block that exports a default function is
 * also loaded as a plugin module.
 * Deno only (the blocks are TypeScript).
 */
import { spawnSync } from "node:child_process";
import process from "node:process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { pathToFileURL } from "node:url";
import { assert, assertEquals } from "./assert.ts";
import { test } from "./harness.ts";
import { join } from "./_path.ts";
import { HAVE_SHARED, NO_SHARED_REASON, REPO_ROOT, sharedPath } from "./shared_data.ts";
import { createRegistry } from "../src/api.ts";
import { loadPluginModule } from "../src/core/plugin_loader.ts";

/** The `ts` blocks of a `## title` section. */
export function sectionBlocks(readme: string, title: string): string[] {
  const start = readme.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README has no section ${title}`);
  const end = readme.indexOf("\n## ", start + 4);
  const body = readme.slice(start, end < 0 ? undefined : end);
  return [...body.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
}

const isDeno = "Deno" in globalThis;
const skip = !isDeno
  ? { ignore: true, reason: "README blocks are TypeScript: run under Deno" }
  : { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };

test("README: the Library and Plugins code blocks run", async () => {
  const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
  const modUrl = pathToFileURL(join(REPO_ROOT, "mod.ts")).href;
  const model = sharedPath("models", "stories260K.gguf");
  const dir = mkdtempSync(join(tmpdir(), "rf-readme-"));
  const rewrite = (block: string) =>
    block.replaceAll('"./mod.ts"', JSON.stringify(modUrl))
      .replaceAll('"../shared/models/stories260K.gguf"', JSON.stringify(model));
  const logged: string[] = [];
  const log = console.log;
  try {
    const files: string[] = [];
    for (const section of ["Library", "Plugins"]) {
      const blocks = sectionBlocks(readme, section);
      blocks.forEach((block, i) => {
        const file = join(dir, `${section.toLowerCase()}_${i}.ts`);
        writeFileSync(file, rewrite(block));
        files.push(file);
      });
    }
    const check = spawnSync(
      process.execPath,
      ["check", "--quiet", "--config", join(REPO_ROOT, "deno.json"), ...files],
      { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } },
    );
    assertEquals(check.status, 0, check.stderr);
    for (const section of ["Library", "Plugins"]) {
      const blocks = sectionBlocks(readme, section);
      assert(blocks.length > 0, `${section} has code blocks`);
      for (let i = 0; i < blocks.length; i++) {
        const file = join(dir, `${section.toLowerCase()}_${i}.ts`);
        const before = logged.length;
        console.log = (...a: unknown[]) => void logged.push(a.join(" "));
        try {
          const ns = await import(pathToFileURL(file).href);
          if (typeof ns.default === "function") {
            const reg = createRegistry();
            const r = await loadPluginModule(reg, file);
            assertEquals(r.registered, ["function"]);
            assert(reg.samplerNames().length > createRegistry().samplerNames().length);
          } else assert(logged.length > before, `${section} block ${i} printed nothing`);
        } finally {
          console.log = log;
        }
      }
    }
    assert(logged.some((l) => /^(length|stop|abort) \d+$/.test(l)), logged.join("\n"));
  } finally {
    console.log = log;
    rmSync(dir, { recursive: true, force: true });
  }
}, skip);
