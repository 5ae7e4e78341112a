/**
 * The npm build's parts: specifier rewriting, import-map versions, the transpiler's graph
 * and externals on a small tree, reachability, the manifest, the CommonJS guard and TAP
 * summary parsing. (The whole build, the suite under Node and the packed package are
 * checked by `deno task build:npm --test`.)
 *
 * @module
 */
import { assert, assertEquals, assertMatch, assertRejects } from "../tests/assert.ts";
import { test } from "../tests/harness.ts";
import { makeDir, makeTempDir, removeTree } from "../src/runtime/fs_tree.ts";
import { readTextFile, writeFile } from "../src/runtime/host.ts";
import { tapCounts } from "./_npm_node_checks.ts";
import {
  importMapVersions,
  makeManifest,
  packageVersion,
  REQUIRE_MESSAGE,
  REQUIRE_SOURCE,
} from "./_npm_package.ts";
import { collectModules, packageName, reachable, reaching, transpile } from "./_npm_transpile.ts";
import { declarationPackages, rewriteTsSpecifiers } from "./_npm_types.ts";
import { NATIVE_PACKAGE_FILE, NATIVE_PLATFORM } from "./_npm_native.ts";
import {
  CPU_PREBUILT_PLATFORMS,
  nativeLibraryCandidates,
} from "../src/backends/cpu/native/native_kernels.ts";
import { hostPlatform } from "../src/runtime/prebuilt.ts";
import { env } from "../src/runtime/host.ts";

test("npm build: relative .ts specifiers in declarations become .js", () => {
  const src = [
    `import { A } from "./a.ts";`,
    `export * from '../b/c.ts';`,
    `type T = import("./t.ts").T;`,
    `import "zod";`,
    `import { x } from "./x.tsx";`,
    `const s = "./not-an-import.ts";`,
  ].join("\n");
  assertEquals(rewriteTsSpecifiers(src).split("\n"), [
    `import { A } from "./a.js";`,
    `export * from '../b/c.js';`,
    `type T = import("./t.js").T;`,
    `import "zod";`,
    `import { x } from "./x.tsx";`,
    `const s = "./not-an-import.ts";`,
  ]);
  assertEquals(
    declarationPackages(
      `import type { Hono } from "hono";\nimport("@a/b/c").X;\n` +
        `import { z } from "zod";\nimport { r } from "./r.js";\nimport { f } from "node:fs";`,
    ),
    ["@a/b", "hono", "zod"],
  );
});

test("npm build: versions come from deno.json's npm: import map entries", () => {
  const json = JSON.stringify({
    version: "1.2.3",
    imports: {
      "hono": "npm:hono@4.13.19",
      "hono/": "npm:/hono@4.13.19/",
      "@hono/zod-validator": "npm:@hono/zod-validator@0.9.1",
      "local": "./src/local.ts",
    },
  });
  assertEquals([...importMapVersions(json)], [
    ["hono", "4.13.19"],
    ["@hono/zod-validator", "0.9.1"],
  ]);
  assertEquals(packageVersion(json), "1.2.3");
  assertEquals(packageVersion("{}"), "0.1.0");
  assertEquals(
    ["hono", "hono/streaming", "@a/b", "@a/b/c"].map(packageName),
    ["hono", "hono", "@a/b", "@a/b"],
  );
});

test("npm build: reachable modules follow the graph from the entries", () => {
  const g = new Map([["m", ["a", "b"]], ["a", ["c"]], ["c", ["a"]], ["x", ["y"]]]);
  assertEquals(reachable(g, ["m"]), ["a", "b", "c", "m"]);
  assertEquals(reachable(g, ["x"]), ["x", "y"]);
});

test("npm build: tests that reach scripts/ through a helper are found (Deno-only)", () => {
  const g = new Map([
    ["tests/a_test.ts", ["tests/helper.ts"]],
    ["tests/helper.ts", ["scripts/make_model.ts"]],
    ["tests/b_test.ts", ["src/x.ts"]],
    ["tests/c_test.ts", ["scripts/make_model.ts"]],
  ]);
  const tests = ["tests/a_test.ts", "tests/b_test.ts", "tests/c_test.ts"];
  assertEquals(reaching(g, tests, "scripts/"), ["tests/a_test.ts", "tests/c_test.ts"]);
});

test("npm build: transpile keeps modules apart, rewrites specifiers, records imports", async () => {
  const root = makeTempDir("rf-npm-build-");
  try {
    makeDir(`${root}/src/sub`);
    makeDir(`${root}/tests`);
    writeFile(`${root}/mod.ts`, `export { a } from "./src/a.ts";\n`);
    writeFile(
      `${root}/src/a.ts`,
      [
        `import { b } from "./sub/b.ts";`,
        `import type { T } from "./types.ts";`,
        `import { Hono } from "hono";`,
        `import { readFileSync } from "node:fs";`,
        `export const a = (t: T): number => b + t.n + (Hono ? 1 : 0) + (readFileSync ? 1 : 0);`,
        `export const lazy = () => import("./sub/c.ts");`,
      ].join("\n"),
    );
    writeFile(`${root}/src/types.ts`, `export interface T { n: number }\n`);
    writeFile(`${root}/src/sub/b.ts`, `export const b: number = 2;\n`);
    writeFile(`${root}/src/sub/c.ts`, `export const c = 3;\n`);
    writeFile(`${root}/tests/a_test.ts`, `import { a } from "../src/a.ts";\nvoid a;\n`);
    const modules = collectModules(root);
    assertEquals(modules, [
      "mod.ts",
      "src/a.ts",
      "src/sub/b.ts",
      "src/sub/c.ts",
      "src/types.ts",
      "tests/a_test.ts",
    ]);
    const out = `${root}/out`;
    const r = await transpile(root, out, modules);
    const js = readTextFile(`${out}/src/a.js`);
    assertMatch(js, /from "\.\/sub\/b\.js"/);
    assertMatch(js, /import\("\.\/sub\/c\.js"\)/);
    assertMatch(js, /from "hono"/);
    assert(!js.includes("types"), "a type-only import leaves no trace");
    assert(!js.includes("export const b"), "b is not bundled into a");
    assertEquals(r.graph.get("src/a.ts"), ["src/sub/b.ts", "src/sub/c.ts"]);
    assertEquals(r.packages.get("src/a.ts"), ["hono"]);
    assertEquals(reachable(r.graph, ["mod.ts"]), [
      "mod.ts",
      "src/a.ts",
      "src/sub/b.ts",
      "src/sub/c.ts",
    ]);

    writeFile(`${root}/src/bad.ts`, `import { b } from "./sub/b";\nexport const x = b;\n`);
    await assertRejects(
      () => transpile(root, out, ["src/bad.ts"]),
      /relative import "\.\/sub\/b" must name a \.ts file/,
    );
  } finally {
    removeTree(root);
  }
});

test("npm build: manifest is ESM with a require guard, bin, engines and sorted deps", () => {
  const m = makeManifest({
    version: "0.2.0",
    dependencies: new Map([["zod", "4.6.7"], ["hono", "4.13.19"]]),
    devDependencies: new Map([["openai", "7.57.0"]]),
    files: ["src/b.js", "mod.js"],
  });
  assertEquals(m.type, "module");
  assertEquals(m.engines, { node: ">=20" });
  assertEquals(m.bin, { rocmforge: "bin/rocmforge.js" });
  assertEquals((m.exports as Record<string, unknown>)["."], {
    types: "./mod.d.ts",
    import: "./mod.js",
    require: "./require.cjs",
  });
  assertEquals(Object.keys(m.dependencies as object), ["hono", "zod"]);
  assertEquals(m.optionalDependencies, { koffi: "3.3.4", webgpu: "0.6.2" });
  assertEquals(m.files, ["mod.js", "src/b.js"]);
  assert(REQUIRE_SOURCE.includes(JSON.stringify(REQUIRE_MESSAGE)));
  assert(REQUIRE_SOURCE.includes(`"ERR_REQUIRE_ESM"`));
});

test("npm build: TAP summaries are read from the last summary block", () => {
  const tap = "ok 1 - a\n# pass 3\n# fail 1\n# skipped 2\nok 2\n# pass 10\n# fail 0\n";
  assertEquals(tapCounts(tap), { pass: 10, fail: 0, skipped: 2, cancelled: 0 });
  assertEquals(tapCounts("ok 1 - a\n"), undefined);
});

test("npm build: the packaged native CPU library lies where the runtime looks for it", () => {
  assertEquals(CPU_PREBUILT_PLATFORMS, [NATIVE_PLATFORM]);
  const root = "/pkg";
  const found = nativeLibraryCandidates(root);
  if (env("ROCMFORGE_CPU_LIB")) {
    assertEquals(found, [env("ROCMFORGE_CPU_LIB")]);
  } else if (hostPlatform() === NATIVE_PLATFORM) {
    // a checkout's own build first, then the package's prebuilt library
    assertEquals(found, [
      `${root}/build/native/cpu/librocmforge_cpu.so`,
      `${root}/${NATIVE_PACKAGE_FILE}`,
    ]);
  } else {
    assertEquals(found, [`${root}/build/native/cpu/librocmforge_cpu.so`]);
  }
});
