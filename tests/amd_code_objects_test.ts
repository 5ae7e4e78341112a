/**
 * The AMD build (`deno task build:native --target amd`) carries a code object for every default
 * target in every kernel bundle: read with the backend's own parser (code_objects.ts) and
 * checked against clang-offload-bundler --list. Skips with one line when the library is not
 * built or no clang-offload-bundler is installed.
 *
 * @module
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import {
  codeObjectTargets,
  elfSection,
  libraryProcessors,
} from "../src/backends/hip/code_objects.ts";
import { fileSource } from "../src/runtime/byte_source.ts";
import { pathExists } from "../src/runtime/host.ts";
import { runCommand } from "../src/runtime/subprocess.ts";
import { DEFAULT_AMD_ARCHS } from "../scripts/_amd_targets.ts";
import { bundlerCandidates } from "../scripts/_amd_toolchain.ts";
import { assert, assertEquals } from "./assert.ts";
import { test } from "./harness.ts";
import { join } from "./_path.ts";
import { REPO_ROOT } from "./shared_data.ts";

const LIB = join(REPO_ROOT, "build", "native", "amd", "librocmforge_hip.so");

async function findBundler(): Promise<string | undefined> {
  for (const c of bundlerCandidates(undefined)) {
    const r = await runCommand("sh", ["-c", `command -v ${c}`]);
    if (r.code === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  return undefined;
}

const bundler = await findBundler();
const skip = !pathExists(LIB)
  ? `AMD library not built at ${LIB} (deno task build:native --target amd)`
  : !bundler
  ? "clang-offload-bundler not installed (apt-get install -y hipcc clang-19 lld-19)"
  : undefined;

test("AMD library: every kernel bundle has a code object for every default target", async () => {
  const src = fileSource(LIB);
  try {
    const bundles = codeObjectTargets(src, LIB);
    assert(bundles !== undefined, "bundles are compressed");
    // One registered fat binary per kernel source: .hipFatBinSegment holds a 24-byte record
    // for each, so the parser must have found exactly that many bundles.
    const segments = elfSection(src, ".hipFatBinSegment", LIB);
    assert(segments !== undefined && bundles.length > 0);
    assertEquals(bundles.length, segments.size / 24);
    const want = [...DEFAULT_AMD_ARCHS].sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
    for (const ids of bundles) {
      for (const arch of want) assert(ids.includes(`hipv4-amdgcn-amd-amdhsa--${arch}`), arch);
    }
    assertEquals(libraryProcessors(bundles), want);

    // clang-offload-bundler reads the first bundle of the section the same way.
    const fatbin = elfSection(src, ".hip_fatbin", LIB)!;
    const dir = mkdtempSync(join(tmpdir(), "rf-amd-"));
    try {
      const file = join(dir, "fatbin.o");
      writeFileSync(file, src.read(fatbin.offset, fatbin.size));
      const r = await runCommand(bundler!, ["--list", "--type=o", `--input=${file}`]);
      assertEquals(r.code, 0, r.stderr);
      assertEquals(r.stdout.trim().split("\n").sort(), [...bundles[0]].sort());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    src.close();
  }
}, { ignore: skip !== undefined, reason: skip });
