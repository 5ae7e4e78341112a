/**
 * Reads a committed test fixture (tests/fixtures/NAME). Under Node the suite runs transpiled
 * from npm/tests/, so the folder is looked up there first and then in the repository's tests/.
 *
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import { fromFileUrl } from "./_path.ts";

/** The fixture's text. */
export function readFixture(name: string): string {
  for (const rel of [`./fixtures/${name}`, `../../tests/fixtures/${name}`]) {
    const p = fromFileUrl(new URL(rel, import.meta.url));
    if (existsSync(p)) return readFileSync(p, "utf8");
  }
  throw new Error(`fixture ${name} not found beside ${import.meta.url}`);
}
