/**
 * The WebGPU entry point of this runtime: Deno's built-in `navigator.gpu`, or under Node the
 * optional npm package `webgpu` (Dawn's `dawn.node`), imported only when it is installed. The
 * backend (src/backends/webgpu/) reaches WebGPU only through here.
 *
 * @module
 */
import { mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { RUNTIME } from "./host.ts";

/** A WebGPU API object, or why this runtime has none. */
export type WebGpuAccess =
  | { readonly gpu: GPU; readonly source: string }
  | { readonly gpu?: undefined; readonly reason: string };

/** The npm package that brings WebGPU to Node (an optional dependency). */
export const NODE_WEBGPU_PACKAGE = "webgpu";

let cached: Promise<WebGpuAccess> | undefined;

/** This runtime's WebGPU (looked up once). Never throws: a missing API becomes a reason. */
export function webgpuAccess(): Promise<WebGpuAccess> {
  cached ??= find();
  return cached;
}

/**
 * The Vulkan loader's window-system probes (Wayland) print "error: XDG_RUNTIME_DIR is invalid or
 * not set" to stderr, twice, on machines without a login session (servers, containers, CI) —
 * noise that reads like a failure. Where the variable is unset, point it at a private empty folder
 * (one per user, mode 0700, as the XDG spec asks) before the first adapter request; nothing connects there.
 */
function quietWindowSystemProbe(): void {
  try {
    if (process.env.XDG_RUNTIME_DIR) return;
    const dir = join(tmpdir(), `rocmforge-runtime-${process.getuid?.() ?? "user"}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    process.env.XDG_RUNTIME_DIR = dir;
  } catch {
    // No permission to read or set the environment: the probe only prints a line.
  }
}

async function find(): Promise<WebGpuAccess> {
  if (RUNTIME === "deno") quietWindowSystemProbe();
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return { gpu: nav.gpu, source: `${RUNTIME} navigator.gpu` };
  if (RUNTIME === "deno") return { reason: "this Deno has no navigator.gpu" };
  try {
    // A variable specifier: the package is optional and absent from most installs.
    const spec = NODE_WEBGPU_PACKAGE;
    const mod = await import(spec) as { create?: (flags: string[]) => GPU };
    if (typeof mod.create !== "function") {
      return { reason: `the ${spec} package has no create() export` };
    }
    return { gpu: mod.create([]), source: `node ${spec} (Dawn)` };
  } catch (e) {
    return {
      reason: `WebGPU under Node needs the optional npm package "${NODE_WEBGPU_PACKAGE}" ` +
        `(npm install ${NODE_WEBGPU_PACKAGE}): ${e instanceof Error ? e.message : String(e)}`,
    };
  }
}
