/**
 * Where the npm package's prebuilt libraries are looked for: prebuilt/<platform>/<file>
 * under the package root, on the platforms the package is built for only.
 *
 * @module
 */
import { test } from "../../tests/harness.ts";
import { assert, assertEquals } from "../../tests/assert.ts";
import { joinPath } from "./ffi_load.ts";
import { hostPlatform, PREBUILT_DIR, prebuiltLibrary } from "./prebuilt.ts";

test("the platform is Node's os-cpu pair", () => {
  assert(/^[a-z0-9]+-[a-z0-9]+$/.test(hostPlatform()), hostPlatform());
});

test("a prebuilt library lies in prebuilt/<platform>/, for the listed platforms only", () => {
  const p = hostPlatform();
  assertEquals(
    prebuiltLibrary("/pkg", "libx.so", [p]),
    joinPath("/pkg", PREBUILT_DIR, p, "libx.so"),
  );
  assertEquals(prebuiltLibrary("/pkg", "libx.so", ["plan9-mips"]), undefined);
  assertEquals(prebuiltLibrary("/pkg", "libx.so", []), undefined);
});
