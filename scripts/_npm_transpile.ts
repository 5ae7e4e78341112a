/**
 * The JavaScript half of the npm build: every TypeScript module of the package and of the
 * runtime-neutral test suite is transpiled by esbuild into one ESM file at the same relative
 * path (module structure kept; nothing is bundled together). Relative `.ts` specifiers
 * become `.js`; bare specifiers stay external and are recorded so the manifest can list
 * them as dependencies. The import graph is recorded too: the published files are exactly
 * those reachable from the package's entry points.
 *
 * @module
 */
import * as esbuild from "esbuild";
import { isDir, listFiles } from "../src/runtime/fs_tree.ts";

/** Folders (relative to the repository root) whose .ts files are transpiled. */
export const SOURCE_DIRS = ["src", "tests", "plugins"] as const;

/** Result of transpiling the tree. */
export interface TranspileResult {
  /** Every transpiled module, as repository-relative .ts paths, sorted. */
  readonly modules: readonly string[];
  /** Module -> the repository-relative .ts modules it imports (static and dynamic). */
  readonly graph: ReadonlyMap<string, readonly string[]>;
  /** Module -> bare package names it imports (node: builtins excluded). */
  readonly packages: ReadonlyMap<string, readonly string[]>;
}

/** The bare specifier of an `npm:` one: "npm:@a/b@1.2.3/sub" -> "@a/b/sub". */
export function npmBare(spec: string): string {
  const m = spec.slice(4).match(/^(@[^/@]+\/[^/@]+|[^/@]+)(?:@[^/]+)?(\/.*)?$/);
  if (!m) throw new Error(`cannot read npm specifier ${spec}`);
  return m[1] + (m[2] ?? "");
}

/** The package name of a bare specifier ("hono/streaming" -> "hono", "@a/b/c" -> "@a/b"). */
export function packageName(spec: string): string {
  const parts = spec.split("/");
  return spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/** True for "node:fs" and the other built-in module names a bare import may use. */
function isBuiltin(spec: string): boolean {
  return spec.startsWith("node:");
}

/** Resolves `spec` (relative, POSIX) against the module `from` (repository-relative). */
function resolveRelative(from: string, spec: string): string {
  const parts = from.split("/").slice(0, -1);
  for (const p of spec.split("/")) {
    if (p === "." || p === "") continue;
    if (p === "..") parts.pop();
    else parts.push(p);
  }
  return parts.join("/");
}

/** The repository's TypeScript modules that the build transpiles. */
export function collectModules(root: string): string[] {
  const out = ["mod.ts"];
  for (const dir of SOURCE_DIRS) {
    if (!isDir(`${root}/${dir}`)) continue;
    for (const f of listFiles(`${root}/${dir}`, ["node_modules"])) {
      if (f.endsWith(".ts") && !f.endsWith(".d.ts")) out.push(`${dir}/${f}`);
    }
  }
  return out.sort();
}

/**
 * Transpiles `modules` (repository-relative) from `root` into `outDir`. Throws when a module
 * uses a specifier the package cannot carry (a relative import without `.ts`, `jsr:`, a
 * URL; `npm:` specifiers become bare package names) or when esbuild reports an error.
 */
export async function transpile(
  root: string,
  outDir: string,
  modules: readonly string[],
): Promise<TranspileResult> {
  const graph = new Map<string, string[]>();
  const packages = new Map<string, string[]>();
  const rel = (abs: string) => abs.slice(root.length + 1).split("\\").join("/");
  const problems: string[] = [];
  const plugin: esbuild.Plugin = {
    name: "rocmforge-externals",
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === "entry-point") return undefined;
        const from = rel(args.importer);
        const spec = args.path;
        if (spec.startsWith("./") || spec.startsWith("../")) {
          if (!spec.endsWith(".ts")) {
            problems.push(`${from}: relative import "${spec}" must name a .ts file`);
            return { path: spec, external: true };
          }
          const list = graph.get(from) ?? [];
          list.push(resolveRelative(from, spec));
          graph.set(from, list);
          return { path: spec.slice(0, -3) + ".js", external: true };
        }
        if (spec.startsWith("npm:")) {
          // npm:zod@4.6.7 -> zod, npm:@a/b@1.2/sub -> @a/b/sub (the version lives in
          // package.json, from deno.json's import map).
          const bare = npmBare(spec);
          const list = packages.get(from) ?? [];
          list.push(packageName(bare));
          packages.set(from, list);
          return { path: bare, external: true };
        }
        if (/^[a-z]+:/.test(spec) && !isBuiltin(spec)) {
          problems.push(`${from}: specifier "${spec}" cannot be carried by the npm package`);
          return { path: spec, external: true };
        }
        if (!isBuiltin(spec)) {
          const list = packages.get(from) ?? [];
          list.push(packageName(spec));
          packages.set(from, list);
        }
        return { path: spec, external: true };
      });
    },
  };
  try {
    await esbuild.build({
      entryPoints: modules.map((m) => `${root}/${m}`),
      outdir: outDir,
      outbase: root,
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node20",
      charset: "utf8",
      legalComments: "inline",
      logLevel: "silent",
      plugins: [plugin],
      write: true,
    });
  } finally {
    await esbuild.stop();
  }
  if (problems.length > 0) throw new Error(`npm build: ${problems.join("\n")}`);
  return { modules: [...modules], graph, packages };
}

/** Every module reachable from `entries` through the import graph, sorted. */
export function reachable(
  graph: ReadonlyMap<string, readonly string[]>,
  entries: readonly string[],
): string[] {
  const seen = new Set<string>();
  const stack = [...entries];
  while (stack.length > 0) {
    const m = stack.pop()!;
    if (seen.has(m)) continue;
    seen.add(m);
    for (const d of graph.get(m) ?? []) stack.push(d);
  }
  return [...seen].sort();
}

/** Those of `modules` that reach a module under `prefix` (e.g. "scripts/") through the graph. */
export function reaching(
  graph: ReadonlyMap<string, readonly string[]>,
  modules: readonly string[],
  prefix: string,
): string[] {
  return modules.filter((m) => reachable(graph, [m]).some((d) => d.startsWith(prefix)));
}
