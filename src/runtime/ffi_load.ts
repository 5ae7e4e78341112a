/**
 * One entry point for native libraries on both runtimes: Deno.dlopen under Deno, koffi under
 * Node. Also the file-system facts a library lookup needs.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { openLibraryDeno } from "./ffi_deno.ts";
import type { FfiLibrary, FfiSymbols } from "./ffi_types.ts";
import { RUNTIME } from "./host.ts";

export type { FfiArg, FfiLibrary, FfiParam, FfiSignature, FfiSymbols } from "./ffi_types.ts";

/** Opens the C library at `path` and binds `symbols`; rejects when it cannot be loaded. */
export async function openLibrary<S extends FfiSymbols>(
  path: string,
  symbols: S,
): Promise<FfiLibrary<S>> {
  if (RUNTIME === "deno") return openLibraryDeno(path, symbols);
  const { openLibraryNode } = await import("./ffi_node.ts");
  return await openLibraryNode(path, symbols);
}

/** The directory `levels` folders above the module at `moduleUrl` (a file: URL). */
export function ancestorDir(moduleUrl: string, levels: number): string {
  let d = dirname(fileURLToPath(moduleUrl));
  for (let i = 0; i < levels; i++) d = dirname(d);
  return d;
}

/** Joins path parts into an absolute path. */
export function joinPath(...parts: string[]): string {
  return resolve(join(...parts));
}

/** True when a file exists at `path`. */
export function fileExists(path: string): boolean {
  return existsSync(path);
}
