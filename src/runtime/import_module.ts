/**
 * Imports an ES module by file path or URL (a plugin given on the command line). Relative
 * paths resolve against the current folder.
 *
 * @module
 */
import { resolve } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";

/** The URL `spec` names: a URL as is (file:, https:, data:), a path made absolute. */
export function moduleUrl(spec: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(spec) && !/^[a-z]:[\\/]/i.test(spec)) return spec;
  return pathToFileURL(resolve(process.cwd(), spec)).href;
}

/** Imports the module `spec` names; returns its namespace object. */
export async function importModule(spec: string): Promise<Record<string, unknown>> {
  return await import(moduleUrl(spec));
}
