/**
 * Prebuilt native libraries shipped inside the npm package: `prebuilt/<platform>/<file>`
 * under the package root (scripts/build_npm.ts puts them there), where `<platform>` is
 * Node's `${process.platform}-${process.arch}` (e.g. linux-x64).
 *
 * @module
 */
import process from "node:process";
import { joinPath } from "./ffi_load.ts";

/** Folder of the prebuilt libraries, relative to the package root. */
export const PREBUILT_DIR = "prebuilt";

/** This process's platform in Node's names: linux-x64, linux-arm64, darwin-arm64, win32-x64. */
export function hostPlatform(): string {
  return `${process.platform}-${process.arch}`;
}

/**
 * The prebuilt `file` for this platform under `root`, or undefined where the package ships
 * none for it (`platforms`: those it is built for). The file may still be absent (a package
 * built on a machine that could not compile it).
 */
export function prebuiltLibrary(
  root: string,
  file: string,
  platforms: readonly string[],
): string | undefined {
  const p = hostPlatform();
  return platforms.includes(p) ? joinPath(root, PREBUILT_DIR, p, file) : undefined;
}
