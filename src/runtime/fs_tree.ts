/**
 * Directory-level file operations for build scripts and tests: recursive listing, creating
 * and removing folders, copying files, temporary folders. `node:fs` works under both Deno
 * and Node.
 *
 * @module
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Every regular file below `root`, as '/'-separated paths relative to it, sorted. Folders
 * whose name is in `skipDirs` are not entered.
 */
export function listFiles(root: string, skipDirs: readonly string[] = []): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, e.name);
      if (e.isDirectory()) {
        if (!skipDirs.includes(e.name)) walk(full);
      } else if (e.isFile()) {
        out.push(relative(root, full).split(sep).join("/"));
      }
    }
  };
  walk(root);
  return out.sort();
}

/** Creates `path` and its missing parents. */
export function makeDir(path: string): void {
  mkdirSync(path, { recursive: true });
}

/** Removes a file or a folder tree; nothing happens when it does not exist. */
export function removeTree(path: string): void {
  rmSync(path, { recursive: true, force: true });
}

/** Copies one file, creating the destination's folder. */
export function copyFile(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
}

/** Creates a fresh folder under the system's temporary folder; `prefix` starts its name. */
export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** True when `path` is a folder. */
export function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Names of the entries directly inside a folder (files and folders), sorted. */
export function listDir(path: string): string[] {
  return readdirSync(path).sort();
}

/** Joins path parts (platform separators). */
export function joinPath(...parts: string[]): string {
  return join(...parts);
}

/** The folder part of a path. */
export function dirName(path: string): string {
  return dirname(path);
}

/** The file-system path of a `file:` URL, e.g. of `new URL("..", import.meta.url)`. */
export function urlToPath(url: string | URL): string {
  return fileURLToPath(url);
}
