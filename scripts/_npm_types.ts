/**
 * The declaration half of the npm build: the TypeScript compiler (npm `typescript`, pinned
 * to 5.9 in package.json: TypeScript 7 is the Go port, whose package has no compiler API
 * yet) emits a `.d.ts` beside each published module. Type checking is `deno check`'s job,
 * so emission runs with `noCheck`; relative `.ts` specifiers in the declarations are
 * rewritten to `.js` as in the JavaScript.
 *
 * @module
 */
import ts from "typescript";
import { writeFile } from "../src/runtime/host.ts";
import { dirName, makeDir } from "../src/runtime/fs_tree.ts";

/**
 * Rewrites relative `.ts` module specifiers ("./a.ts", import("../b.ts")) to `.js`, and `npm:`
 * ones to bare package names ("npm:zod@4.6.7" -> "zod": the version is package.json's).
 */
export function rewriteTsSpecifiers(code: string): string {
  return code.replace(
    /((?:from|import)\s*\(?\s*["'])(\.\.?\/[^"']*?)\.ts(["'])/g,
    (_m, pre: string, path: string, q: string) => `${pre}${path}.js${q}`,
  ).replace(
    /((?:from|import)\s*\(?\s*["'])npm:((?:@[^/@"']+\/)?[^/@"']+)(?:@[^/"']+)?(\/[^"']*)?(["'])/g,
    (_m, pre: string, name: string, sub: string | undefined, q: string) =>
      `${pre}${name}${sub ?? ""}${q}`,
  );
}

/** Bare package names (not relative, not `node:`) that declaration text imports. */
export function declarationPackages(code: string): string[] {
  const out = new Set<string>();
  for (const m of code.matchAll(/(?:from|import)\s*\(?\s*["']([^"'.][^"']*)["']/g)) {
    const spec = m[1];
    if (spec.startsWith("node:")) continue;
    const parts = spec.split("/");
    out.add(spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]);
  }
  return [...out].sort();
}

/** What emitDeclarations wrote. */
export interface DeclarationResult {
  /** Written files, relative to the output folder, sorted. */
  readonly files: readonly string[];
  /** Bare packages the declarations import (their types must install with the package). */
  readonly packages: readonly string[];
}

/**
 * Emits declarations for `modules` (repository-relative .ts paths) into `outDir` at the same
 * relative paths. Returns the written files and the packages they import. Throws with the
 * compiler's messages when emission fails.
 */
export function emitDeclarations(
  root: string,
  outDir: string,
  modules: readonly string[],
): DeclarationResult {
  const options: ts.CompilerOptions = {
    declaration: true,
    emitDeclarationOnly: true,
    noCheck: true,
    allowImportingTsExtensions: true,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    target: ts.ScriptTarget.ES2022,
    lib: ["lib.es2023.d.ts", "lib.dom.d.ts"],
    strict: true,
    skipLibCheck: true,
    types: [],
    rootDir: root,
    outDir,
  };
  const program = ts.createProgram(modules.map((m) => `${root}/${m}`), options);
  const written: string[] = [];
  const packages = new Set<string>();
  const result = program.emit(
    undefined,
    (fileName, text) => {
      const relPath = fileName.slice(outDir.length + 1);
      makeDir(dirName(fileName));
      const out = rewriteTsSpecifiers(text);
      writeFile(fileName, out);
      written.push(relPath);
      for (const p of declarationPackages(out)) packages.add(p);
    },
    undefined,
    true,
  );
  const errors = result.diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (result.emitSkipped || errors.length > 0) {
    const text = ts.formatDiagnostics(errors, {
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => root,
      getNewLine: () => "\n",
    });
    throw new Error(`npm build: declaration emit failed\n${text}`);
  }
  return { files: written.sort(), packages: [...packages].sort() };
}
