import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assertEquals, assertMatch, assertThrows } from "../tests/assert.ts";
import { test } from "../tests/harness.ts";
import { DEFAULT_AMD_ARCHS, isaBitcodeName, isaBitcodeSource, isaVersion } from "./_amd_targets.ts";
import { planAmd } from "./_amd_toolchain.ts";

test("AMD targets: ISA versions as the device libraries spell them", () => {
  assertEquals(
    DEFAULT_AMD_ARCHS.map(isaVersion),
    [9010, 9402, 10300, 11000, 11001, 11002, 12000, 12001],
  );
  assertEquals(isaBitcodeName("gfx90a"), "oclc_isa_version_90a.bc");
  assertEquals(isaBitcodeName("gfx1201"), "oclc_isa_version_1201.bc");
  assertEquals(isaBitcodeSource("gfx942"), "const __constant int __oclc_ISA_version = 9402;\n");
  assertThrows(() => isaVersion("sm_90"), RangeError);
});

test("AMD plan: hipcc where the device libraries have the target, clang-19 for the rest", () => {
  const libs = mkdtempSync(join(tmpdir(), "rf-libs-"));
  try {
    for (const f of ["ocml.bc", "oclc_isa_version_90a.bc", "oclc_isa_version_1030.bc"]) {
      writeFileSync(join(libs, f), "");
    }
    const archs = ["gfx90a", "gfx1030", "gfx1100", "gfx1201"];
    const tools = { hipcc: "hipcc", clang: "clang++-19", bundler: "b", deviceLibs: libs };
    assertEquals(planAmd(archs, tools), {
      ok: true,
      hipcc: ["gfx90a", "gfx1030"],
      clang: ["gfx1100", "gfx1201"],
    });
    assertEquals(planAmd(archs, { ...tools, hipcc: undefined }), {
      ok: true,
      hipcc: [],
      clang: archs,
    });
    const noClang = planAmd(archs, { ...tools, clang: undefined });
    assertEquals(noClang.ok, false);
    if (!noClang.ok) {
      assertMatch(noClang.reason, /clang-19 not found; gfx1100,gfx1201 need it.*clang-19 lld-19/);
    }
    assertEquals(planAmd(["gfx90a"], { ...tools, clang: undefined }).ok, true);
    assertEquals(planAmd(archs, { ...tools, deviceLibs: undefined }).ok, false);
  } finally {
    rmSync(libs, { recursive: true, force: true });
  }
});
