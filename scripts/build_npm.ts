/**
 * Builds the npm package into npm/ (git-ignored) without dnt:
 * - ESM JavaScript for every module, transpiled one file at a time by esbuild (module
 *   structure kept, relative `.ts` specifiers rewritten to `.js`, npm packages external);
 * - `.d.ts` declarations from the TypeScript compiler;
 * - package.json (exports map, engines, bin, dependencies from deno.json's import map and
 *   koffi as an optional dependency), bin/rocmforge.js, the CommonJS guard, README, LICENSE;
 * - the web chat page's static files (src/server/web/), with its browser libraries as
 *   dependencies (src/server/web/assets.ts lists both);
 * - the native CPU kernels prebuilt for x86-64 Linux, prebuilt/linux-x64/librocmforge_cpu.so
 *   (_npm_native.ts; the runtime finds it beside the package and falls back to WebAssembly
 *   elsewhere).
 *
 * The runtime-neutral test suite is transpiled beside the package (kept out of the
 * published files). With `--test` the build then runs it under Node against the built
 * JavaScript, packs the package, installs the tarball into a temporary project and
 * exercises it as a user would (see _npm_node_checks.ts). The last lines are node's `# pass N` /
 * `# fail N`, covering the suite and the package checks together.
 *
 * usage: deno task build:npm [--test] [--keep-temp]
 *
 * @module
 */
import { args, exit, writeStderr, writeStdout } from "../src/runtime/host.ts";
import {
  copyFile,
  isDir,
  listDir,
  makeDir,
  removeTree,
  urlToPath,
} from "../src/runtime/fs_tree.ts";
import { WEB_FILES, WEB_LIBRARIES } from "../src/server/web/assets.ts";
import {
  importMapVersions,
  KOFFI,
  makeManifest,
  packageVersion,
  readDenoJson,
  TEST_ONLY_PACKAGES,
  WEBGPU,
  writePackageFiles,
} from "./_npm_package.ts";
import { collectModules, reachable, reaching, transpile } from "./_npm_transpile.ts";
import { emitDeclarations } from "./_npm_types.ts";
import { buildNativeForPackage } from "./_npm_native.ts";

/** Repository root (no trailing separator). */
export const ROOT: string = urlToPath(new URL("..", import.meta.url)).replace(/[\\/]$/, "");
/** Output folder. */
export const OUT_DIR = `${ROOT}/npm`;
/** Modules the package's users reach: the library and the CLI. */
export const ENTRY_MODULES = ["mod.ts", "src/cli/main.ts"] as const;
/** Entries of npm/ that survive a rebuild (installed test dependencies). */
const KEEP = new Set(["node_modules"]);

/** What a build produced. */
export interface BuildResult {
  /** Published files, relative to npm/. */
  readonly files: readonly string[];
  /** Test modules (repository-relative .ts paths) transpiled beside the package. */
  readonly testModules: readonly string[];
  /** Those of them that import scripts/ (directly or through helpers): not in the package. */
  readonly scriptTests: readonly string[];
  readonly dependencies: ReadonlyMap<string, string>;
  /** The packaged native CPU library (relative to npm/), when this machine built it. */
  readonly nativeLibrary?: string;
}

const log = (s: string) => writeStdout(s + "\n");

/** Empties npm/ except for the installed test dependencies. */
function cleanOut(): void {
  makeDir(OUT_DIR);
  for (const name of listDir(OUT_DIR)) {
    if (!KEEP.has(name)) removeTree(`${OUT_DIR}/${name}`);
  }
}

/** Builds npm/; throws on any error. */
export async function buildNpm(): Promise<BuildResult> {
  const t0 = performance.now();
  cleanOut();
  const denoJson = readDenoJson(ROOT);
  const versions = importMapVersions(denoJson);
  const modules = collectModules(ROOT);
  const result = await transpile(ROOT, OUT_DIR, modules);
  const published = reachable(result.graph, ENTRY_MODULES);
  const testsDir = (m: string) => m.startsWith("tests/") || m.endsWith("_test.ts");
  const leaked = published.filter(testsDir);
  if (leaked.length > 0) {
    throw new Error(`npm build: published modules import test code: ${leaked.join(", ")}`);
  }

  const dependencies = new Map<string, string>();
  const needed = (m: string, into: Map<string, string>) => {
    for (const p of result.packages.get(m) ?? []) {
      const v = versions.get(p);
      if (!v) throw new Error(`npm build: ${m} imports "${p}", which deno.json does not map`);
      into.set(p, v);
    }
  };
  for (const m of published) needed(m, dependencies);
  const devDependencies = new Map<string, string>();
  for (const m of modules) needed(m, devDependencies);
  for (const p of dependencies.keys()) devDependencies.delete(p);
  for (const p of TEST_ONLY_PACKAGES) {
    const v = versions.get(p);
    if (v) devDependencies.set(p, v);
  }
  log(`transpiled ${modules.length} modules (${published.length} published)`);

  const declarations = emitDeclarations(ROOT, OUT_DIR, published);
  const dts = declarations.files;
  for (const p of declarations.packages) {
    const v = versions.get(p);
    if (!v) throw new Error(`npm build: declarations import "${p}", which deno.json does not map`);
    dependencies.set(p, v);
    devDependencies.delete(p);
  }
  log(`wrote ${dts.length} declaration files`);

  // The web chat page: its static files beside routes_web.js, its browser libraries as
  // dependencies (served from the installed packages).
  const web = WEB_FILES.map((f) => `src/server/web/${f.file}`);
  for (const f of web) copyFile(`${ROOT}/${f}`, `${OUT_DIR}/${f}`);
  for (const l of WEB_LIBRARIES) {
    const v = versions.get(l.package);
    if (!v) throw new Error(`npm build: the web page needs "${l.package}", not in deno.json`);
    dependencies.set(l.package, v);
    devDependencies.delete(l.package);
  }

  // The native CPU kernels for x86-64 Linux (found at run time by nativeLibraryCandidates).
  const native = await buildNativeForPackage(ROOT, OUT_DIR);
  log(
    "reason" in native
      ? `native CPU kernels: not in the package (${native.reason}); ` +
        "its users get the WebAssembly kernels"
      : `native CPU kernels: ${native.file} (${(native.bytes / 1024).toFixed(0)} KiB)`,
  );

  const js = (m: string) => m.replace(/\.ts$/, ".js");
  const files = [
    ...published.map(js),
    ...dts,
    ...web,
    ...(native.file ? [native.file] : []),
    "bin/rocmforge.js",
    "require.cjs",
  ].sort();
  const manifest = makeManifest({
    version: packageVersion(denoJson),
    dependencies,
    devDependencies,
    files,
  });
  writePackageFiles(ROOT, OUT_DIR, manifest);
  const deps = [...dependencies].map(([n, v]) => `${n}@${v}`).join(", ");
  log(
    `dependencies: ${deps}; optional: ${KOFFI.name}@${KOFFI.version}, ` +
      `${WEBGPU.name}@${WEBGPU.version}`,
  );
  log(`npm/ built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const testModules = modules.filter((m) => m.endsWith("_test.ts"));
  const scriptTests = reaching(result.graph, testModules, "scripts/");
  return { files, testModules, scriptTests, dependencies, nativeLibrary: native.file };
}

async function main(argv: readonly string[]): Promise<number> {
  const unknown = argv.filter((a) => a !== "--test" && a !== "--keep-temp");
  if (unknown.length > 0) {
    writeStderr(`usage: deno task build:npm [--test] [--keep-temp] (unknown: ${unknown})\n`);
    return 2;
  }
  const build = await buildNpm();
  if (!argv.includes("--test")) return 0;
  if (!isDir(`${OUT_DIR}/src`)) throw new Error("npm build produced no src/");
  const { runNodeChecks } = await import("./_npm_node_checks.ts");
  return await runNodeChecks({
    root: ROOT,
    outDir: OUT_DIR,
    testModules: build.testModules,
    scriptTests: build.scriptTests,
    nativeLibrary: build.nativeLibrary,
    keepTemp: argv.includes("--keep-temp"),
  });
}

if (import.meta.main) {
  try {
    exit(await main(args()));
  } catch (e) {
    writeStderr(`${e instanceof Error ? e.message : String(e)}\n`);
    exit(1);
  }
}
