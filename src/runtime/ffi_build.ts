/**
 * File-system helpers for building native libraries (scripts/build_native.ts): directory
 * listing, creation and modification times.
 *
 * @module
 */
import { mkdirSync, readdirSync, realpathSync, statSync } from "node:fs";

/** Creates a directory and its parents. */
export function makeDir(path: string): void {
  mkdirSync(path, { recursive: true });
}

/** Names of the entries of a directory (empty when it does not exist). */
export function listDir(path: string): string[] {
  try {
    return readdirSync(path).sort();
  } catch {
    return [];
  }
}

/** Modification time in ms, or -1 when the path does not exist. */
export function modifiedMs(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

/** The canonical path (links resolved). */
export function realPath(path: string): string {
  return realpathSync(path);
}
