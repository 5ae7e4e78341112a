/**
 * Opening librocmforge_hip: which of the candidate builds to take, and the hint for a missing
 * one (native.ts binds the library itself and re-exports these).
 *
 * @module
 */
import { BackendError } from "../../core/errors.ts";
import { fileExists } from "../../runtime/ffi_load.ts";
import { RUNTIME } from "../../runtime/host.ts";
import { HipNative, libraryCandidates } from "./native.ts";

/**
 * How to get the library: a checkout builds it; a package user (Node) points at one built in
 * a checkout, since the npm package ships no native build step.
 */
export function libraryHint(runtime: "deno" | "node"): string {
  return runtime === "deno"
    ? "run `deno task build:native`"
    : "set ROCMFORGE_HIP_LIB to a librocmforge_hip.so built in a ROCmForge checkout " +
      "(`deno task build:native`, see the README's HIP backend section)";
}

/**
 * Opens the first library candidate that exists; the error lists every path tried. With
 * several builds present (build/native/amd and build/native/cuda on a machine with both
 * compilers), the first whose runtime finds a GPU: an AMD build on an NVIDIA machine must not
 * hide the CUDA build. When none finds one, the most telling error is thrown.
 */
export async function openHipNative(
  path?: string,
  candidates: readonly string[] = path ? [path] : libraryCandidates(),
): Promise<HipNative> {
  const found = candidates.filter((p) => fileExists(p));
  if (found.length === 0) {
    throw new BackendError(
      "BACKEND_UNAVAILABLE",
      `HIP library not found (tried ${candidates.join(", ")}); ${libraryHint(RUNTIME)}`,
      { expected: candidates.join(", ") },
    );
  }
  if (found.length === 1) return await HipNative.open(found[0]);
  const openErrors: unknown[] = [];
  const initErrors: unknown[] = [];
  for (const p of found) {
    let n: HipNative;
    try {
      n = await HipNative.open(p);
    } catch (e) {
      openErrors.push(e);
      continue;
    }
    try {
      n.init();
      return n;
    } catch (e) {
      n.close();
      initErrors.push(e);
    }
  }
  // The most telling failure: a library that loaded but failed for a reason other than "no GPU".
  const noGpu = (e: unknown) => e instanceof Error && e.message.startsWith("no GPU found");
  throw initErrors.find((e) => !noGpu(e)) ?? initErrors[0] ?? openErrors[0];
}
