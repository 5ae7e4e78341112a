/**
 * native/gpu_arch.h's per-target macros against the compilers: tests/amd/arch_probe.hip takes
 * every path the macros enable, compiled for each default AMD target (clang-19; hipcc too for
 * the targets the build gives it), and the assembly must hold the matching instructions:
 * v_mfma on gfx90a/gfx942, v_wmma on gfx11/gfx12, a hardware v_dot4 everywhere. Skips with one
 * line without clang-19 or the build's device-library folder (build/native/amd/bitcode).
 *
 * @module
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { pathExists } from "../src/runtime/host.ts";
import { runCommand } from "../src/runtime/subprocess.ts";
import { DEFAULT_AMD_ARCHS, systemDeviceLibs, systemHasArch } from "../scripts/_amd_targets.ts";
import { assertEquals } from "./assert.ts";
import { test } from "./harness.ts";
import { join } from "./_path.ts";
import { REPO_ROOT } from "./shared_data.ts";

const BITCODE = join(REPO_ROOT, "build", "native", "amd", "bitcode");
const PROBE = join(REPO_ROOT, "tests", "amd", "arch_probe.hip");

async function which(cmd: string): Promise<string | undefined> {
  const r = await runCommand("sh", ["-c", `command -v ${cmd}`]);
  return r.code === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
}

const clang = await which("clang++-19");
const hipcc = await which("hipcc");
const skip = !clang
  ? "clang-19 not installed (apt-get install -y clang-19 lld-19)"
  : !pathExists(join(BITCODE, "ocml.bc"))
  ? `no device-library folder at ${BITCODE} (deno task build:native --target amd)`
  : undefined;

/** What the probe must compile to: [matrix-core instructions, dot4 instructions]. */
function expected(arch: string): { mma: string; dot4: boolean; warp: number } {
  const gfx9 = arch.startsWith("gfx9");
  const mma = arch === "gfx90a" || arch === "gfx942"
    ? "v_mfma"
    : /^gfx1[12]/.test(arch)
    ? "v_wmma"
    : "";
  return { mma, dot4: true, warp: gfx9 ? 64 : 32 };
}

async function assembly(cmd: string, arch: string, dir: string, clangFlags: boolean) {
  const out = join(dir, `${arch}.${cmd.split("/").pop()}.s`);
  const r = await runCommand(cmd, [
    "-x",
    "hip",
    "-std=c++20",
    "-O1",
    "-Wall",
    "-Wextra",
    "-Werror",
    // hipcc adds its link libraries even to -S, which -Werror would reject as unused.
    ...(clangFlags
      ? ["--rocm-path=/usr", `--rocm-device-lib-path=${BITCODE}`]
      : ["-Wno-unused-command-line-argument"]),
    `--offload-arch=${arch}`,
    "--cuda-device-only",
    "--no-gpu-bundle-output",
    "-S",
    PROBE,
    "-o",
    out,
  ], { env: { HIP_PLATFORM: "amd" } });
  assertEquals(r.code, 0, `${cmd} ${arch}: ${r.stderr}`);
  return readFileSync(out, "utf8");
}

test(
  "gpu_arch.h: each target's matrix-core and dot4 paths compile to their instructions",
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "rf-arch-"));
    const libs = systemDeviceLibs();
    try {
      const jobs: Promise<void>[] = [];
      for (const arch of DEFAULT_AMD_ARCHS) {
        const compilers: [string, boolean][] = [[clang!, true]];
        if (hipcc && libs && systemHasArch(libs, arch)) compilers.push([hipcc, false]);
        for (const [cmd, clangFlags] of compilers) {
          jobs.push((async () => {
            const s = await assembly(cmd, arch, dir, clangFlags);
            const want = expected(arch);
            const got = {
              mma: /\bv_mfma/.test(s) ? "v_mfma" : /\bv_wmma/.test(s) ? "v_wmma" : "",
              dot4: /\bv_dot4/.test(s),
              warp: Number(/\.wavefront_size:\s+(\d+)/.exec(s)?.[1] ?? 0),
            };
            assertEquals(got, want, `${cmd} ${arch}`);
          })());
        }
      }
      await Promise.all(jobs);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  { ignore: skip !== undefined, reason: skip },
);
