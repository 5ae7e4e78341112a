/**
 * The built-in backends: HIP (when its library and a device are present), WebGPU (when the
 * runtime finds a hardware adapter) and the CPU, which is always last and runs every op.
 *
 * @module
 */
import type { PluginRegistry } from "../core/registry.ts";
import { createCpuBackend } from "./cpu/backend.ts";
import { createHipBackend } from "./hip/backend.ts";
import { createWebGpuBackend } from "./webgpu/backend.ts";

/** Registers the built-in backends into `registry`. */
export function registerDefaultBackends(registry: PluginRegistry): void {
  registry.registerBackend(createHipBackend());
  registry.registerBackend(createWebGpuBackend());
  registry.registerBackend(createCpuBackend());
}
