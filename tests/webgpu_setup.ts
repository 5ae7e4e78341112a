/**
 * The WebGPU test suites' common setup: the backend on whatever adapter this machine has
 * (software ones included: Mesa's llvmpipe in CI), the CPU backend it is checked against, and
 * the skip options for a machine without the test data or without a WebGPU adapter.
 *
 * @module
 */
import { createCpuBackend } from "../src/backends/cpu/backend.ts";
import { createWebGpuBackend } from "../src/backends/webgpu/backend.ts";
import { HAVE_SHARED, NO_SHARED_REASON } from "./shared_data.ts";

export const webgpu = createWebGpuBackend({ software: true });
export const probe = await webgpu.probe();
export const cpu = createCpuBackend();
/** Skip options for suites that need only an adapter. */
export const adapterOpts = {
  ignore: !probe.available,
  reason: `WebGPU backend unavailable: ${probe.reason}`,
};
/** Skip options for suites that also read ../shared. */
export const opts = !HAVE_SHARED ? { ignore: true, reason: NO_SHARED_REASON } : adapterOpts;
