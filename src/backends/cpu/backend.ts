/**
 * The CPU backend: the readable reference implementation of the backend contract. It runs
 * every op for every weight type that has a row decoder. One WebAssembly kernel pool (worker
 * threads over shared memory) serves every context the backend opens, and where the native
 * x86-64 library is built (native/cpu/) its kernels take the quantized matrix products.
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
import { cpuCount, env, RUNTIME, systemMemory, writeStderr } from "../../runtime/host.ts";
import { CpuKVStore } from "./kv.ts";
import { runCpuNode } from "./run_node.ts";
import type { KernelVariant } from "./wasm/module.ts";
import { WasmKernels } from "./wasm/runtime.ts";
import { CpuWeightStore } from "./weights.ts";
import { NativeKernels, type NativeVariant } from "./native/native_kernels.ts";

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
   * SIMD or shared memory, or with false, every op runs on the TypeScript reference path
   * (the native kernels too stay off unless `kernels` is "native").
   */
  readonly wasm?: boolean;
  /**
   * Polls an idle WebAssembly kernel thread makes before it sleeps (default 2e6, about 1 ms;
   * 0 beside the native kernels, whose own pool polls).
   */
  readonly spin?: number;
  /**
   * WebAssembly kernel build (default: relaxed SIMD where the runtime has it, else the plain
   * 128-bit SIMD one). A build the runtime cannot run means the TypeScript path.
   */
  readonly wasmVariant?: KernelVariant;
  /**
   * Who multiplies the quantized matrices: "native" (librocmforge_cpu, x86-64 AVX2 /
   * AVX512-VNNI; an error when it cannot load), "wasm" (the WebAssembly kernels), or "auto"
   * (default, or env ROCMFORGE_CPU_KERNELS): native where it loads, else WebAssembly with a
   * one-line notice.
   */
  readonly kernels?: CpuKernelChoice;
  /**
   * Native library path (default: env ROCMFORGE_CPU_LIB, then build/native/cpu/, then the npm
   * package's prebuilt/linux-x64/).
   */
  readonly nativeLibrary?: string;
  /** Native kernel build (default: the best this CPU runs). */
  readonly nativeVariant?: NativeVariant;
  /** Polls (x86 `pause`) an idle native kernel thread makes before it sleeps (default 2000). */
  readonly nativeSpin?: number;
  /** Receives the notice when "auto" falls back to WebAssembly (default: stderr). */
  readonly log?: (line: string) => void;
}

/** Kernel provider choices of CpuBackendOptions.kernels. */
export type CpuKernelChoice = "auto" | "native" | "wasm";

/** The provider choice: the option, else env ROCMFORGE_CPU_KERNELS, else "auto". */
export function cpuKernelChoice(opt?: string): CpuKernelChoice {
  const v = opt ?? env("ROCMFORGE_CPU_KERNELS") ?? "auto";
  if (v !== "auto" && v !== "native" && v !== "wasm") {
    throw new InvalidArgumentError("CPU kernels must be auto, native or wasm", {
      field: opt === undefined ? "ROCMFORGE_CPU_KERNELS" : "kernels",
      actual: v,
    });
  }
  return v;
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
  // wasm: false alone means the TypeScript path for every op (native kernels only if asked)
  const choice = opts.wasm === false && opts.kernels === undefined
    ? "wasm"
    : cpuKernelChoice(opts.kernels);
  let kernels: Promise<WasmKernels | undefined> | undefined;
  let native: Promise<NativeKernels | undefined> | undefined;
  const contexts = new Set<CpuContext>();
  const getNative = (): Promise<NativeKernels | undefined> => {
    if (choice === "wasm") return Promise.resolve(undefined);
    native ??= (async () => {
      try {
        return await NativeKernels.open({
          threads: opts.threads ?? await cpuCount(),
          spin: opts.nativeSpin,
          variant: opts.nativeVariant,
          path: opts.nativeLibrary,
        });
      } catch (e) {
        if (choice === "native" || !(e instanceof BackendError)) throw e;
        (opts.log ?? ((l) => writeStderr(l + "\n")))(
          `rocmforge: native CPU kernels unavailable (${e.message}); using WebAssembly ` +
            (RUNTIME === "deno"
              ? "(build them with `deno task build:native --target cpu`)"
              : "(set ROCMFORGE_CPU_LIB to a librocmforge_cpu.so built in a ROCmForge checkout)"),
        );
        return undefined;
      }
    })();
    return native;
  };
  const getKernels = (): Promise<WasmKernels | undefined> => {
    if (opts.wasm === false) return Promise.resolve(undefined);
    kernels ??= (async () => {
      // Beside the native pool, the WebAssembly workers (attention, norms) sleep as soon as
      // they are idle: two pools polling on the same cores starve each other (TinyLlama
      // Q4_0, 2 threads: tg16 4.5 t/s with both polling, 17-27 with these sleeping).
      const native = await getNative().catch(() => undefined);
      return WasmKernels.create({
        threads: opts.threads ?? await cpuCount(),
        spin: opts.spin ?? (native ? 0 : undefined),
        variant: opts.wasmVariant,
      });
    })();
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
      const store = new CpuWeightStore(k, await getNative());
      store.addAll(tensors);
      const c: CpuContext = new CpuContext(store, k, () => contexts.delete(c));
      contexts.add(c);
      return c;
    },
    dispose(): void {
      for (const c of [...contexts]) c.dispose();
      const k = kernels;
      kernels = undefined;
      void k?.then((x) => x?.dispose(), () => {});
      const n = native;
      native = undefined;
      void n?.then((x) => x?.dispose(), () => {});
    },
  };
}
