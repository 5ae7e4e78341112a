/**
 * The CPU backend: the readable reference implementation of the backend contract. It runs
 * every op for every weight type that has a row decoder. One WebAssembly kernel pool (worker
 * threads over shared memory) serves every context the backend opens.
 *
 * @module
 */
import {
  type Backend,
  BACKEND_API_VERSION,
  type BackendContext,
  type BackendProbe,
  type ComputeRequest,
  type KVSpec,
  type KVStore,
  type WeightTensor,
} from "../../core/backend.ts";
import { BackendError, DisposedError, InvalidArgumentError } from "../../core/errors.ts";
import type { GraphNode } from "../../core/graph.ts";
import type { GGMLType } from "../../gguf/ggml_types.ts";
import { canDequantize } from "../../gguf/quants/mod.ts";
import { KVRegistry } from "../../core/kv_registry.ts";
import { cpuCount, systemMemory } from "../../runtime/host.ts";
import { CpuKVStore } from "./kv.ts";
import { runCpuNode } from "./run_node.ts";
import type { KernelVariant } from "./wasm/module.ts";
import { WasmKernels } from "./wasm/runtime.ts";
import { CpuWeightStore } from "./weights.ts";

/** One model on the CPU: its weights, the kernels it runs on, and its KV caches. */
export class CpuContext implements BackendContext {
  readonly backend = "cpu";
  private readonly kvs = new KVRegistry((kv): kv is CpuKVStore => kv instanceof CpuKVStore);

  constructor(
    readonly weights: CpuWeightStore,
    readonly kernels: WasmKernels | undefined,
    private readonly onDispose: () => void = () => {},
  ) {}

  get weightBytes(): number {
    return this.weights.bytes;
  }

  has(name: string): boolean {
    return this.weights.has(name);
  }

  createKV(spec: KVSpec): CpuKVStore {
    this.assertLive();
    return this.kvs.add(new CpuKVStore(spec, this.kernels));
  }

  copyKV(from: KVStore, to: KVStore, positions: number): void {
    this.assertLive();
    const [src, dst] = [this.kvs.own(from), this.kvs.own(to)];
    if (!src || !dst) throw new InvalidArgumentError("copyKV needs two caches of this context");
    dst.copyFrom(src, positions);
  }

  compute(req: ComputeRequest): Promise<Map<number, Float32Array>> {
    try {
      this.assertLive();
      const kv = this.kvs.own(req.kv);
      const seqs = req.sequences?.map((q) => ({ ...q, kv: this.kvs.own(q.kv) }));
      const vals = new Map(req.inputs);
      for (const i of req.nodes) {
        runCpuNode(req.graph.nodes[i], req, vals, this.weights, this.kernels, kv, seqs);
      }
      const outs = new Map<number, Float32Array>();
      for (const id of req.outputs) {
        const v = vals.get(id);
        if (!v) throw new BackendError("BACKEND_CALL_FAILED", `output value ${id} not computed`);
        outs.set(id, v);
      }
      return Promise.resolve(outs);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  dispose(): void {
    if (!this.kvs.close()) return;
    this.weights.dispose();
    this.onDispose();
  }

  private assertLive(): void {
    if (this.kvs.closed) throw new DisposedError("cpu context was disposed");
  }
}

/** Options of createCpuBackend. */
export interface CpuBackendOptions {
  /** Threads for matrix products, the caller's included (default: all cores, cpuCount()). */
  readonly threads?: number;
  /**
   * Use the WebAssembly SIMD kernels (default true). Where the runtime lacks WebAssembly
   * SIMD or shared memory, or with false, every op runs on the TypeScript reference path.
   */
  readonly wasm?: boolean;
  /** Polls an idle kernel thread makes before it sleeps (default 2e6, about 1 ms). */
  readonly spin?: number;
  /**
   * WebAssembly kernel build (default: relaxed SIMD where the runtime has it, else the plain
   * 128-bit SIMD one). A build the runtime cannot run means the TypeScript path.
   */
  readonly wasmVariant?: KernelVariant;
}

/** Creates the CPU backend. */
export function createCpuBackend(opts: CpuBackendOptions = {}): Backend {
  if (
    opts.threads !== undefined &&
    !(Number.isInteger(opts.threads) && opts.threads >= 1 && opts.threads <= 256)
  ) {
    throw new InvalidArgumentError("threads must be an integer in 1..256", {
      actual: opts.threads,
    });
  }
  let kernels: Promise<WasmKernels | undefined> | undefined;
  const contexts = new Set<CpuContext>();
  const getKernels = (): Promise<WasmKernels | undefined> => {
    if (opts.wasm === false) return Promise.resolve(undefined);
    kernels ??= (async () =>
      WasmKernels.create({
        threads: opts.threads ?? await cpuCount(),
        spin: opts.spin,
        variant: opts.wasmVariant,
      }))();
    return kernels;
  };
  return {
    apiVersion: BACKEND_API_VERSION,
    name: "cpu",
    priority: -1000,
    multiSequence: true,
    async probe(): Promise<BackendProbe> {
      const mem = await systemMemory();
      return {
        available: true,
        devices: [{
          id: 0,
          name: `CPU (${await cpuCount()} threads)`,
          totalMemory: mem.total,
          freeMemory: mem.free,
        }],
      };
    },
    supportsOp(node: GraphNode, weightType: (name: string) => GGMLType | undefined): boolean {
      if (node.op === "matmul" || node.op === "embed") {
        const t = weightType(node.weight);
        return t !== undefined && canDequantize(t);
      }
      return true;
    },
    async createContext(tensors: readonly WeightTensor[]): Promise<BackendContext> {
      const k = await getKernels();
      const store = new CpuWeightStore(k);
      store.addAll(tensors);
      const c: CpuContext = new CpuContext(store, k, () => contexts.delete(c));
      contexts.add(c);
      return c;
    },
    dispose(): void {
      for (const c of [...contexts]) c.dispose();
      const k = kernels;
      kernels = undefined;
      void k?.then((x) => x?.dispose());
    },
  };
}
