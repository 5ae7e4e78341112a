/**
 * The HIP backend: runs graph segments on an AMD GPU through librocmforge_hip (or on an
 * NVIDIA GPU with the same sources built for CUDA). Weights stay in GGUF block form in one
 * device arena per model; each compute call is one native call that launches every op of the
 * segment on a stream and copies the requested outputs back.
 *
 * When the library is missing, no device is present or initialization fails, `probe()`
 * reports `available: false` with the reason, and the scheduler uses the CPU.
 *
 * @module
 */
import {
  type Backend,
  BACKEND_API_VERSION,
  type BackendContext,
  type BackendProbe,
  type DeviceInfo,
  type WeightTensor,
} from "../../core/backend.ts";
import { BackendError } from "../../core/errors.ts";
import type { GraphNode } from "../../core/graph.ts";
import type { GGMLType } from "../../gguf/ggml_types.ts";
import { HipContext } from "./context.ts";
import { type HipNative, openHipNative } from "./native.ts";
import { hipSupportsOp } from "./support.ts";
import { HipWeightStore } from "./weights.ts";

/** Options of createHipBackend. */
export interface HipBackendOptions {
  /** Library path; default: env ROCMFORGE_HIP_LIB, then build/native/<target>/. */
  readonly libraryPath?: string;
  /** Device index (default 0). */
  readonly device?: number;
  /** Scheduling priority (default 100, ahead of the CPU). */
  readonly priority?: number;
}

/** The HIP backend with its extra, HIP-only members. */
export interface HipBackend extends Backend {
  /** The opened native library (after a successful probe), for tools and tests. */
  native(): Promise<HipNative>;
}

/** Creates the HIP backend. Nothing is loaded until probe() or another call needs it. */
export function createHipBackend(opts: HipBackendOptions = {}): HipBackend {
  const device = opts.device ?? 0;
  let nativePromise: Promise<HipNative> | undefined;
  let ctx = 0;
  let disposed = false;
  const contexts = new Set<HipContext>();

  const native = (): Promise<HipNative> => {
    if (disposed) return Promise.reject(new BackendError("BACKEND_DISPOSED", "hip disposed"));
    nativePromise ??= (async () => {
      const n = await openHipNative(opts.libraryPath);
      const count = n.init();
      if (device < 0 || device >= count) {
        throw new BackendError("BACKEND_UNAVAILABLE", `no HIP device ${device} (${count} found)`, {
          expected: `0..${count - 1}`,
          actual: device,
        });
      }
      n.requireCodeObject(device); // an AMD chip this build has no code object for
      return n;
    })();
    return nativePromise;
  };
  let nativeSync: HipNative | undefined;
  const context = async (): Promise<[HipNative, number]> => {
    const n = await native();
    nativeSync = n;
    if (!ctx) ctx = n.contextCreate(device);
    return [n, ctx];
  };

  return {
    apiVersion: BACKEND_API_VERSION,
    name: "hip",
    priority: opts.priority ?? 100,
    // Batched rope, attention and last_row run over a sequence table (native/rf_seqs.cpp).
    multiSequence: true,

    native,

    async probe(): Promise<BackendProbe> {
      try {
        const n = await native();
        const count = n.init();
        const devices: DeviceInfo[] = [];
        for (let i = 0; i < count; i++) {
          const p = n.deviceProps(i);
          devices.push({
            id: i,
            name: p.name,
            totalMemory: p.totalMemory,
            freeMemory: p.freeMemory,
            arch: p.arch,
            computeUnits: p.computeUnits,
            warpSize: p.warpSize,
          });
        }
        return { available: true, devices: devices.filter((d) => d.id === device) };
      } catch (e) {
        return {
          available: false,
          reason: e instanceof Error ? e.message : String(e),
          devices: [],
        };
      }
    },

    supportsOp(node: GraphNode, weightType: (name: string) => GGMLType | undefined): boolean {
      return hipSupportsOp(node, weightType);
    },

    async createContext(
      tensors: readonly WeightTensor[],
      o?: { signal?: AbortSignal },
    ): Promise<BackendContext> {
      const [n, c] = await context();
      const w = await HipWeightStore.load(n, c, tensors, o?.signal);
      const hc: HipContext = new HipContext(n, c, w, () => contexts.delete(hc));
      contexts.add(hc);
      return hc;
    },

    dispose(): void {
      if (disposed) return;
      for (const c of [...contexts]) c.dispose();
      if (nativeSync && ctx) nativeSync.contextDestroy(ctx);
      ctx = 0;
      disposed = true;
    },
  };
}
