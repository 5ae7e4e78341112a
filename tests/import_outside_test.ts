/**
 * A Deno script outside the repository, with no deno.json beside it, imports mod.ts by path and
 * by file URL and generates text: the sources need no import map (issue 17).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { runCommand } from "../src/runtime/subprocess.ts";
import { assertEquals } from "./assert.ts";
import { test } from "./harness.ts";
import { HAVE_SHARED, NO_SHARED_REASON, REPO_ROOT, sharedPath } from "./shared_data.ts";

const isDeno = typeof process.versions.deno === "string";
const opts = !isDeno
  ? { ignore: true, reason: "Deno-only: imports mod.ts from TypeScript source" }
  : { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };

test("mod.ts imports from a folder outside the repository, by path and by file URL", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rf-outside-"));
  try {
    const mod = join(REPO_ROOT, "mod.ts");
    for (const [name, spec] of [["path", mod], ["url", pathToFileURL(mod).href]]) {
      const script = join(dir, `${name}.ts`);
      writeFileSync(
        script,
        `import { createSession, generate, loadModel } from ${JSON.stringify(spec)};
const model = await loadModel(${
          JSON.stringify(sharedPath("models", "stories260K.gguf"))
        }, { backend: "cpu", log: () => {} });
const s = createSession(model);
const ids: number[] = [];
for await (const c of generate(s, "Once upon a time", { maxTokens: 4 })) ids.push(c.token);
console.log(JSON.stringify(ids));
s.dispose();
model.dispose();
`,
      );
      const r = await runCommand(process.execPath, ["run", "-A", "--no-config", script], {
        cwd: dir,
      });
      assertEquals(r.code, 0, `${name}: ${r.stderr.slice(-2000)}`);
      // llama.cpp's greedy continuation of the prompt (tests/engine_e2e_test.ts).
      assertEquals(JSON.parse(r.stdout.trim().split("\n").pop()!), [432, 383, 286, 261], name);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, opts);
