/**
 * The npm package's prebuilt native CPU kernels: librocmforge_cpu (native/cpu/, both kernel
 * builds, AVX2 and AVX512-VNNI, in one library that picks at run time) compiled by the cpu
 * target's steps (_native_cpu.ts) into build/npm/cpu/, then copied without symbols into
 * npm/prebuilt/linux-x64/, where the runtime looks for it (src/runtime/prebuilt.ts,
 * nativeLibraryCandidates). Only an x86-64 Linux machine with a C compiler builds it; elsewhere
 * the package ships without it and says why (its users get the WebAssembly kernels).
 *
 * @module
 */
import { copyFile, makeDir } from "../src/runtime/fs_tree.ts";
import { cpuCount, readFile } from "../src/runtime/host.ts";
import { hostPlatform, PREBUILT_DIR } from "../src/runtime/prebuilt.ts";
import { runCommand } from "../src/runtime/subprocess.ts";
import { CPU_LIBRARY_NAME } from "../src/backends/cpu/native/native_kernels.ts";
import { buildCpu, findCpuCompiler } from "./_native_cpu.ts";

/** The platform the package's library is built for (and the only one it can be built on). */
export const NATIVE_PLATFORM = "linux-x64";
/** The library's path inside the package. */
export const NATIVE_PACKAGE_FILE = `${PREBUILT_DIR}/${NATIVE_PLATFORM}/${CPU_LIBRARY_NAME}`;

/** What buildNativeForPackage did: the packaged file, or why there is none. */
export type NativePackageResult =
  | { readonly file: string; readonly bytes: number }
  | { readonly file?: undefined; readonly reason: string };

/**
 * Builds the library and copies it (stripped where `strip` exists) to
 * `outDir`/NATIVE_PACKAGE_FILE. Throws when the machine can build it and the build fails.
 */
export async function buildNativeForPackage(
  root: string,
  outDir: string,
): Promise<NativePackageResult> {
  const platform = hostPlatform();
  if (platform !== NATIVE_PLATFORM) {
    return { reason: `built on ${NATIVE_PLATFORM} only (this is ${platform})` };
  }
  const found = await findCpuCompiler();
  if (!found.cc) return { reason: found.reason ?? "no C compiler" };
  const buildDir = `${root}/build/npm/cpu`;
  if (!await buildCpu(root, found.cc, await cpuCount(), false, buildDir)) {
    throw new Error("npm build: the native CPU library failed to build (see above)");
  }
  const dest = `${outDir}/${NATIVE_PACKAGE_FILE}`;
  makeDir(`${outDir}/${PREBUILT_DIR}/${NATIVE_PLATFORM}`);
  const src = `${buildDir}/${CPU_LIBRARY_NAME}`;
  const stripped = await runCommand("strip", ["--strip-unneeded", "-o", dest, src])
    .catch(() => undefined);
  if (!stripped || stripped.code !== 0) copyFile(src, dest);
  return { file: NATIVE_PACKAGE_FILE, bytes: readFile(dest).byteLength };
}
