/**
 * With several HIP library builds present, openHipNative takes the first whose runtime finds
 * a GPU and otherwise reports the most telling failure: a candidate that does not load (here
 * package.json) must not hide a built library's own answer ("no GPU found (...)" on a machine
 * without a GPU, the opened library where there is one). Skips when no library is built.
 *
 * @module
 */
import { libraryCandidates, openHipNative } from "../src/backends/hip/native.ts";
import { fileExists } from "../src/runtime/ffi_load.ts";
import { assert, assertMatch } from "./assert.ts";
import { test } from "./harness.ts";
import { join } from "./_path.ts";
import { REPO_ROOT } from "./shared_data.ts";

const built = libraryCandidates(REPO_ROOT).filter((p) => fileExists(p));

test("HIP library choice: a candidate that cannot load does not hide a built one", async () => {
  const bogus = join(REPO_ROOT, "package.json");
  let opened: { path: string; close(): void } | undefined;
  let error = "";
  try {
    opened = await openHipNative(undefined, [bogus, ...built]);
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }
  if (opened) {
    // A GPU is present: the first built library whose runtime found it.
    assert(built.includes(opened.path), opened.path);
    opened.close();
  } else {
    assert(!error.includes("package.json"), error);
    assertMatch(error, /no GPU found|rf_init failed/);
  }
}, {
  ignore: built.length === 0,
  reason: "no HIP library built under build/native (deno task build:native)",
});
