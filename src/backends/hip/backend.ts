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
  type BackendProbe,
  type ComputeRequest,
  type DeviceInfo,
  type KVSpec,
  type KVStore,
  type WeightStore,
  type WeightTensor,
} from "../../core/backend.ts";
import { BackendError } from "../../core/errors.ts";
import type { Graph, GraphNode } from "../../core/graph.ts";
import type { GGMLType } from "../../gguf/ggml_types.ts";
import { HipKVStore } from "./kv.ts";
import { type HipNative, openHipNative } from "./native.ts";
import { type CompiledProgram, compileSegment, packInputs, unpackOutputs } from "./program.ts";
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
  const stores = new Set<HipWeightStore>();
  const kvs = new Set<HipKVStore>();
  const programs = new WeakMap<Graph, Map<string, CompiledProgram>>();

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
  const live = (): [HipNative, number] => {
    if (disposed) throw new BackendError("BACKEND_DISPOSED", "hip backend was disposed");
    if (!nativeSync || !ctx) {
      throw new BackendError("BACKEND_UNAVAILABLE", "hip backend used before loadWeights");
    }
    return [nativeSync, ctx];
  };

  const program = (req: ComputeRequest, w: HipWeightStore, kv?: HipKVStore) => {
    let byGraph = programs.get(req.graph);
    if (!byGraph) programs.set(req.graph, byGraph = new Map());
    const key = `${req.nodes.join(",")}|${req.outputs.join(",")}|${w.id}|${kv?.id ?? 0}`;
    let p = byGraph.get(key);
    if (!p) {
      p = compileSegment(req.graph, req.nodes, req.outputs, (name) => w.ref(name), (layer) => {
        if (!kv) throw new BackendError("BACKEND_CALL_FAILED", "attention without a KV cache");
        return kv.slot(layer);
      });
      byGraph.set(key, p);
    }
    return p;
  };

  return {
    apiVersion: BACKEND_API_VERSION,
    name: "hip",
    priority: opts.priority ?? 100,

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

    async loadWeights(
      tensors: readonly WeightTensor[],
      o?: { signal?: AbortSignal },
    ): Promise<WeightStore> {
      const [n, c] = await context();
      const s = await HipWeightStore.load(n, c, tensors, o?.signal);
      stores.add(s);
      const dispose = s.dispose.bind(s);
      s.dispose = () => {
        stores.delete(s);
        dispose();
      };
      return s;
    },

    createKV(spec: KVSpec): KVStore {
      const [n, c] = live();
      const kv = new HipKVStore(n, c, spec);
      kvs.add(kv);
      const dispose = kv.dispose.bind(kv);
      kv.dispose = () => {
        kvs.delete(kv);
        dispose();
      };
      return kv;
    },

    compute(req: ComputeRequest): Promise<Map<number, Float32Array>> {
      try {
        const [n, c] = live();
        const w = req.weights;
        if (!(w instanceof HipWeightStore) || !stores.has(w)) {
          throw new BackendError("BACKEND_CALL_FAILED", "weights do not belong to this backend");
        }
        const kv = req.kv;
        if (kv !== undefined && (!(kv instanceof HipKVStore) || !kvs.has(kv))) {
          throw new BackendError("BACKEND_CALL_FAILED", "KV cache does not belong to this backend");
        }
        const p = program(req, w, kv);
        if (p.usesKV && !kv) {
          throw new BackendError("BACKEND_CALL_FAILED", "segment has attention but no KV cache");
        }
        const rows = req.graph.nTokens;
        if (kv && req.pos0 + rows > kv.spec.capacity) {
          throw new BackendError("BACKEND_CALL_FAILED", "KV cache overflow", {
            expected: kv.spec.capacity,
            actual: req.pos0 + rows,
          });
        }
        const hostIn = packInputs(p, req.graph, req.tokens, req.inputs);
        const hostOut = new Uint8Array(p.outBytes);
        n.exec(c, w.arena, kv?.handle ?? 0, p.words, hostIn, hostOut, p.scratchBytes, req.pos0);
        return Promise.resolve(unpackOutputs(p, hostOut));
      } catch (e) {
        return Promise.reject(e);
      }
    },

    dispose(): void {
      if (disposed) return;
      for (const kv of [...kvs]) kv.dispose();
      for (const s of [...stores]) s.dispose();
      if (nativeSync && ctx) nativeSync.contextDestroy(ctx);
      ctx = 0;
      disposed = true;
    },
  };
}
