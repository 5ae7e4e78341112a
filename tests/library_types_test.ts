/**
 * The library's public types compile in a user's stricter project: `renderChat(...,
 * { template: chatTemplateFromMetadata(md) })` under `exactOptionalPropertyTypes`, checked by
 * `deno check` in a temporary folder outside the repo. Deno only (the check runs Deno).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import process from "node:process";
import { assertEquals } from "./assert.ts";
import { test } from "./harness.ts";
import { join } from "./_path.ts";
import { REPO_ROOT } from "./shared_data.ts";

const isDeno = "Deno" in globalThis;

test("types: renderChat with chatTemplateFromMetadata under exactOptionalPropertyTypes", () => {
  const dir = mkdtempSync(join(tmpdir(), "rf-types-"));
  try {
    writeFileSync(
      join(dir, "deno.json"),
      JSON.stringify({
        compilerOptions: { strict: true, exactOptionalPropertyTypes: true },
        imports: { "@huggingface/jinja": "npm:@huggingface/jinja@0.5.11" },
      }),
    );
    const src = join(REPO_ROOT, "src", "tokenizers", "chat_template.ts");
    writeFileSync(
      join(dir, "user.ts"),
      `import { chatTemplateFromMetadata, renderChat } from ${JSON.stringify(src)};\n` +
        `const md = new Map<string, string>();\n` +
        `export const text: string = renderChat([{ role: "user", content: "hi" }], {\n` +
        `  template: chatTemplateFromMetadata(md),\n});\n`,
    );
    const r = spawnSync(
      process.execPath,
      ["check", "--quiet", "--config", "deno.json", "user.ts"],
      {
        cwd: dir,
        encoding: "utf8",
        env: { ...process.env, NO_COLOR: "1" },
      },
    );
    assertEquals(r.status, 0, r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, { ignore: !isDeno, reason: "type check runs under Deno only" });
