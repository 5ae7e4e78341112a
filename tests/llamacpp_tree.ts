/**
 * Locates llama.cpp's own source tree (vocab GGUFs with tokenizer vectors, grammar and
 * JSON-schema tests, chat templates, the server README), unpacked from node-llama-cpp by
 * `sh ../shared/ref/llamacpp_assets.sh`. `scripts/test_all.sh` runs that script and passes the
 * folder as ROCMFORGE_LLAMACPP; tests that need the tree skip with one clear line without it.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import process from "node:process";
import { join } from "./_path.ts";

const fromEnv = process.env.ROCMFORGE_LLAMACPP;
const fallback = join(
  process.env.RF_REF_DIR ?? join(homedir(), ".cache", "rocmforge-ref"),
  "llama.cpp",
);
const dir = fromEnv ?? fallback;

/** The tree's folder, or undefined when it is not unpacked. */
export const LLAMACPP_TREE: string | undefined = existsSync(join(dir, "CMakeLists.txt"))
  ? dir
  : undefined;

/** Skip reason for tests that need the tree. */
export const NO_LLAMACPP_REASON =
  `llama.cpp source tree not found at ${dir} (run: sh ../shared/ref/llamacpp_assets.sh, or set ROCMFORGE_LLAMACPP)`;

/** A path inside the tree (call only when LLAMACPP_TREE is set). */
export function llamacppPath(...parts: string[]): string {
  if (!LLAMACPP_TREE) throw new Error(NO_LLAMACPP_REASON);
  return join(LLAMACPP_TREE, ...parts);
}
