/**
 * Locates ../shared (test models, goldens). Tests that need it skip with a clear reason
 * when it is absent, as in a user's clone.
 *
 * @module
 */
import { existsSync } from "node:fs";
import process from "node:process";
import { dirname, fromFileUrl, join } from "./_path.ts";

const here = dirname(fromFileUrl(import.meta.url));
/** Repository root. */
export const REPO_ROOT: string = join(here, "..");
/** Absolute path of the shared data folder (env ROCMFORGE_SHARED overrides). */
export const SHARED_DIR: string = process.env.ROCMFORGE_SHARED ?? join(REPO_ROOT, "..", "shared");
/** True when the shared folder with models and goldens exists. */
export const HAVE_SHARED: boolean = existsSync(join(SHARED_DIR, "models"));
/** Skip reason for tests that need the shared data. */
export const NO_SHARED_REASON =
  `shared test data not found at ${SHARED_DIR} (set ROCMFORGE_SHARED)`;

/** Path inside the shared folder. */
export function sharedPath(...parts: string[]): string {
  return join(SHARED_DIR, ...parts);
}
