/**
 * The WebGPU backend: runs graph segments through WebGPU (Vulkan, Metal, D3D12 underneath)
 * with WGSL kernels generated per weight type, in Deno (built-in `navigator.gpu`) or Node (the
 * optional `webgpu` package). Weights stay in GGUF block form; each compute call is one
 * submit whose requested outputs come back in one readback.
 *
 * When the runtime has no WebGPU, no adapter is found or the device cannot be opened,
 * `probe()` reports `available: false` with the reason and the scheduler uses the CPU.
 *
 * @module
 */
import {
  type Backend,
  BACKEND_API_VERSION,
  type BackendContext,
  type BackendProbe,
  type WeightTensor,
} from "../../core/backend.ts";
import { BackendError, InvalidArgumentError } from "../../core/errors.ts";
import type { GraphNode } from "../../core/graph.ts";
import type { GGMLType } from "../../gguf/ggml_types.ts";
import { WebGpuContext } from "./context.ts";
import { env, systemMemory } from "../../runtime/host.ts";

/** Bytes of device memory to assume (WebGPU reports none). */
export const MEMORY_ENV = "ROCMFORGE_WEBGPU_MEMORY";
import { type GpuDevice, openDevice, SOFTWARE_ENV } from "./device.ts";
import { webgpuSupportsOp } from "./support.ts";
import { WebGpuWeights } from "./weights.ts";

/**
 * The device memory ROCMFORGE_WEBGPU_MEMORY sets: undefined when unset or empty; anything but a
 * positive whole number of bytes is an INVALID_ARGUMENT error (never a silent fallback).
 */
export function memoryOverride(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const n = Number(value.trim());
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new InvalidArgumentError(
      `${MEMORY_ENV} must be a positive whole number of bytes, got ${JSON.stringify(value)}`,
      { expected: "positive integer (bytes)", actual: value },
    );
  }
  return n;
}

/** Options of createWebGpuBackend. */
export interface WebGpuBackendOptions {
  /** Scheduling priority (default 50: after HIP's 100, ahead of the CPU's -1000). */
  readonly priority?: number;
  /**
   * Use a software adapter (llvmpipe) when it is the only one (default: env
   * ROCMFORGE_WEBGPU_SOFTWARE=1). Off, such an adapter makes the backend unavailable.
   */
  readonly software?: boolean;
}

/** The WebGPU backend with its WebGPU-only member. */
export interface WebGpuBackend extends Backend {
  /** The opened device (after a successful probe), for tools and tests. */
  device(): Promise<GpuDevice>;
}

/** Creates the WebGPU backend. Nothing is opened until probe() or another call needs it. */
export function createWebGpuBackend(opts: WebGpuBackendOptions = {}): WebGpuBackend {
  let devicePromise: Promise<GpuDevice> | undefined;
  let disposed = false;
  const contexts = new Set<WebGpuContext>();
  const device = (): Promise<GpuDevice> => {
    if (disposed) {
      return Promise.reject(new BackendError("BACKEND_DISPOSED", "webgpu backend was disposed"));
    }
    devicePromise ??= openDevice(opts.software ?? env(SOFTWARE_ENV) === "1");
    return devicePromise;
  };

  return {
    apiVersion: BACKEND_API_VERSION,
    name: "webgpu",
    priority: opts.priority ?? 50,

    device,

    async probe(): Promise<BackendProbe> {
      const set = memoryOverride(env(MEMORY_ENV));
      try {
        const d = await device();
        d.assertLive();
        const memory = set !== undefined ? { total: set, free: set } : await systemMemory();
        return { available: true, devices: [d.info(0, memory)] };
      } catch (e) {
        return {
          available: false,
          reason: e instanceof Error ? e.message : String(e),
          devices: [],
        };
      }
    },

    supportsOp(node: GraphNode, weightType: (name: string) => GGMLType | undefined): boolean {
      return webgpuSupportsOp(node, weightType);
    },

    async createContext(
      tensors: readonly WeightTensor[],
      o?: { signal?: AbortSignal },
    ): Promise<BackendContext> {
      const d = await device();
      const w = await WebGpuWeights.load(d, tensors, o?.signal);
      const c: WebGpuContext = new WebGpuContext(d, w, () => contexts.delete(c));
      contexts.add(c);
      return c;
    },

    dispose(): void {
      if (disposed) return;
      for (const c of [...contexts]) c.dispose();
      disposed = true;
      void devicePromise?.then((d) => d.destroy(), () => {});
    },
  };
}
