/**
 * AMD GPU targets of the native build: the default list, the ISA version each one's device
 * library constant holds, and the folder of device-library bitcode clang links into every
 * kernel. ROCm 5.2 (Debian's hipcc) ships `oclc_isa_version_<N>.bc` only up to gfx1036 and
 * gfx940; for newer chips the build writes that one-constant file itself, into its own folder
 * beside links to the system's files (the system is never changed).
 *
 * @module
 */
import { symlinkSync, unlinkSync } from "node:fs";
import { listDir, makeDir } from "../src/runtime/ffi_build.ts";
import { env, pathExists, readTextFile, writeFile } from "../src/runtime/host.ts";
import type { Step } from "./_native_steps.ts";

/**
 * Built by default: CDNA2 (MI200, gfx90a), CDNA3 (MI300, gfx942), RDNA2 (RX 6000, gfx1030),
 * RDNA3 (RX 7000, gfx1100-1102), RDNA4 (RX 9000, gfx1200-1201).
 */
export const DEFAULT_AMD_ARCHS = [
  "gfx90a",
  "gfx942",
  "gfx1030",
  "gfx1100",
  "gfx1101",
  "gfx1102",
  "gfx1200",
  "gfx1201",
] as const;

/** The ISA version of `arch` as the device libraries spell it: gfx942 -> 9402, gfx1201 -> 12001. */
export function isaVersion(arch: string): number {
  const m = /^gfx([0-9]+)([0-9a-f])([0-9a-f])$/.exec(arch);
  if (!m) throw new RangeError(`not an AMD GPU processor name: ${arch}`);
  return Number(m[1]) * 1000 + parseInt(m[2], 16) * 100 + parseInt(m[3], 16);
}

/** File name of `arch`'s ISA-version bitcode: gfx90a -> oclc_isa_version_90a.bc. */
export function isaBitcodeName(arch: string): string {
  return `oclc_isa_version_${arch.replace(/^gfx/, "")}.bc`;
}

/** The OpenCL source of `arch`'s ISA-version bitcode (the one constant it defines). */
export function isaBitcodeSource(arch: string): string {
  return `const __constant int __oclc_ISA_version = ${isaVersion(arch)};\n`;
}

/** The system's device-library folder (ocml.bc, ockl.bc, oclc_*.bc), or undefined. */
export function systemDeviceLibs(): string | undefined {
  const rocm = env("ROCM_PATH");
  const candidates = [
    ...(rocm ? [`${rocm}/amdgcn/bitcode`, `${rocm}/lib/x86_64-linux-gnu/amdgcn/bitcode`] : []),
    "/usr/lib/x86_64-linux-gnu/amdgcn/bitcode",
    "/usr/lib/amdgcn/bitcode",
    "/opt/rocm/amdgcn/bitcode",
  ];
  return candidates.find((d) => pathExists(`${d}/ocml.bc`));
}

/** True when the system's device libraries cover `arch` (hipcc alone can build it). */
export function systemHasArch(libs: string, arch: string): boolean {
  return pathExists(`${libs}/${isaBitcodeName(arch)}`);
}

/**
 * Fills `dir` with links to every bitcode file of `libs` and returns the steps that compile
 * the ISA-version files of `archs` the system lacks (with `clang`, an OpenCL-capable clang).
 */
export function deviceLibSteps(
  dir: string,
  libs: string,
  archs: readonly string[],
  clang: string,
): Step[] {
  makeDir(`${dir}/src`);
  for (const f of listDir(libs).filter((f) => f.endsWith(".bc"))) {
    const link = `${dir}/${f}`;
    if (pathExists(link)) unlinkSync(link);
    symlinkSync(`${libs}/${f}`, link);
  }
  return archs.filter((a) => !systemHasArch(libs, a)).map((a) => {
    const src = `${dir}/src/isa_version_${a}.cl`;
    const text = isaBitcodeSource(a);
    if (!pathExists(src) || readTextFile(src) !== text) writeFile(src, text);
    const out = `${dir}/${isaBitcodeName(a)}`;
    return {
      cmd: clang,
      args: [
        "-x",
        "cl",
        "-target",
        "amdgcn-amd-amdhsa",
        `-mcpu=${a}`,
        "-nogpulib",
        "-Xclang",
        "-mcode-object-version=none",
        "-emit-llvm",
        "-c",
        src,
        "-o",
        out,
      ],
      output: out,
      inputs: [src],
    };
  });
}
