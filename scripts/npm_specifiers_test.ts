/**
 * Source imports need no import map: every external package a source module imports is an
 * `npm:` specifier (in src/deps/ or, for the lazily loaded native packages, src/runtime),
 * pinned to the version deno.json's import map has; the npm build turns them into bare names.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { assert, assertEquals } from "../tests/assert.ts";
import { test } from "../tests/harness.ts";
import { REPO_ROOT } from "../tests/shared_data.ts";
import { importMapVersions } from "./_npm_package.ts";
import { npmBare } from "./_npm_transpile.ts";
import { rewriteTsSpecifiers } from "./_npm_types.ts";

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith(".ts") && !p.endsWith("_test.ts") ? [p] : [];
  });
}

test("npm specifiers: bare names for the npm build", () => {
  assertEquals(
    ["npm:zod@4.6.7", "npm:hono@4.13.19/streaming", "npm:@huggingface/jinja@0.5.11", "npm:x"]
      .map(npmBare),
    ["zod", "hono/streaming", "@huggingface/jinja", "x"],
  );
});

test("npm specifiers: declarations name bare packages", () => {
  assertEquals(
    rewriteTsSpecifiers(
      `import { z } from "npm:zod@4.6.7";\nexport * from "npm:@huggingface/jinja@0.5.11";\nimport("./a.ts");`,
    ),
    `import { z } from "zod";\nexport * from "@huggingface/jinja";\nimport("./a.js");`,
  );
});

test("npm specifiers: source modules import no bare package, and pin deno.json's versions", () => {
  const versions = importMapVersions(readFileSync(join(REPO_ROOT, "deno.json"), "utf8"));
  const files = [
    join(REPO_ROOT, "mod.ts"),
    ...sources(join(REPO_ROOT, "src")),
    ...sources(join(REPO_ROOT, "plugins")),
  ];
  let pinned = 0;
  for (const f of files) {
    const text = readFileSync(f, "utf8");
    for (const m of text.matchAll(/(?:\bfrom|\bimport\()\s*"([^".\s][^"\s]*)"/g)) {
      const spec = m[1];
      if (spec.startsWith("node:")) continue;
      assert(spec.startsWith("npm:"), `${f}: bare import "${spec}" needs deno.json's import map`);
      const v = /^npm:((?:@[^/@]+\/)?[^/@]+)@([^/]+)/.exec(spec);
      assert(v, `${f}: ${spec} has no version`);
      assertEquals(v[2], versions.get(v[1]), `${f}: ${spec} differs from deno.json`);
      pinned++;
    }
  }
  assert(pinned >= 5, `${pinned} npm specifiers found`);
});
