/**
 * The CPU backend: the readable reference implementation of the backend contract. It runs
 * every op for every weight type that has a row decoder.
 *
 * @module
 */
import {
  type Backend,
  BACKEND_API_VERSION,
  type BackendProbe,
  type ComputeRequest,
  kvBytes,
  type KVSpec,
  type KVStore,
  type WeightStore,
  type WeightTensor,
} from "../../core/backend.ts";
import { BackendError, InvalidArgumentError } from "../../core/errors.ts";
import type { GraphNode } from "../../core/graph.ts";
import type { GGMLType } from "../../gguf/ggml_types.ts";
import { canDequantize } from "../../gguf/quants/mod.ts";
import { cpuCount, systemMemory } from "../../runtime/host.ts";
import { attention, type LayerKV } from "./ops/attention.ts";
import { add, lastRow, rmsNorm, swiglu } from "./ops/elementwise.ts";
import { decodeRow, matmul } from "./ops/matmul.ts";
import { rope } from "./ops/rope.ts";
import type { KernelVariant } from "./wasm/module.ts";
import { WasmKernels } from "./wasm/runtime.ts";
import { CpuWeightStore } from "./weights.ts";

/**
 * KV cache in host memory, one K and one V matrix per layer. With WebAssembly kernels the
 * matrices live in their memory (so the attention kernel reads them in place) while it has
 * room, else in ordinary arrays.
 */
export class CpuKVStore implements KVStore {
  readonly backend = "cpu";
  readonly bytes: number;
  readonly layers = new Map<number, LayerKV>();
  constructor(readonly spec: KVSpec, private readonly kernels?: WasmKernels) {
    this.bytes = kvBytes(spec, 4);
    const floats = (n: number) => kernels?.allocFloats(n) ?? new Float32Array(n);
    for (const l of spec.layers) {
      this.layers.set(l, {
        k: floats(spec.capacity * spec.nHeadKV * spec.headDim),
        v: floats(spec.capacity * spec.nHeadKV * spec.valueDim),
      });
    }
  }
  dispose(): void {
    for (const { k, v } of this.layers.values()) {
      this.kernels?.freeFloats(k);
      this.kernels?.freeFloats(v);
    }
    this.layers.clear();
  }
}

/** Runs one node on host arrays. */
export function runCpuNode(
  node: GraphNode,
  req: ComputeRequest,
  vals: Map<number, Float32Array>,
  w: CpuWeightStore,
  kv: CpuKVStore | undefined,
): void {
  const g = req.graph;
  const outV = g.values[node.out];
  const out = new Float32Array(outV.rows * outV.cols);
  const get = (id: number) => {
    const v = vals.get(id);
    if (!v) throw new BackendError("BACKEND_CALL_FAILED", `value ${id} missing before ${node.op}`);
    return v;
  };
  switch (node.op) {
    case "embed": {
      const m = w.matrix(node.weight);
      for (let t = 0; t < outV.rows; t++) {
        const id = req.tokens[t];
        if (!(id >= 0 && id < m.rows)) {
          throw new BackendError("BACKEND_CALL_FAILED", `token id ${id} outside vocabulary`, {
            expected: `0..${m.rows - 1}`,
            actual: id,
          });
        }
        decodeRow(m, id, out, t * m.cols);
      }
      break;
    }
    case "rms_norm":
      if (w.kernels) {
        w.kernels.rmsNorm(get(node.x), w.vector(node.weight), outV.rows, outV.cols, node.eps, out);
      } else {
        rmsNorm(get(node.x), w.vector(node.weight), outV.rows, outV.cols, node.eps, out);
      }
      break;
    case "matmul": {
      const m = w.matrix(node.weight);
      const bias = node.bias ? w.vector(node.bias) : undefined;
      matmul(m, get(node.x), outV.rows, out, bias, w.kernels);
      break;
    }
    case "rope":
      if (w.kernels) w.kernels.rope(get(node.x), outV.rows, node, req.pos0, out);
      else rope(get(node.x), outV.rows, node.nHeads, node.headDim, node.rope, req.pos0, out);
      break;
    case "attention": {
      const layer = kv?.layers.get(node.layer);
      if (!layer) {
        throw new BackendError("BACKEND_CALL_FAILED", `no KV cache for layer ${node.layer}`);
      }
      if (req.pos0 + outV.rows > kv!.spec.capacity) {
        throw new BackendError("BACKEND_CALL_FAILED", "KV cache overflow", {
          expected: kv!.spec.capacity,
          actual: req.pos0 + outV.rows,
        });
      }
      const kern = w.kernels;
      if (kern?.owns(layer.k) && kern.owns(layer.v) && kern.supportsAttention(node)) {
        kern.attention(
          layer.k,
          layer.v,
          get(node.q),
          get(node.k),
          get(node.v),
          outV.rows,
          req.pos0,
          node,
          out,
        );
      } else {
        attention(get(node.q), get(node.k), get(node.v), outV.rows, req.pos0, layer, node, out);
      }
      break;
    }
    case "swiglu":
      if (w.kernels) w.kernels.swiglu(get(node.gate), get(node.up), out, outV.cols);
      else swiglu(get(node.gate), get(node.up), out, outV.cols);
      break;
    case "add":
      add(get(node.a), get(node.b), out);
      break;
    case "last_row": {
      const x = g.values[node.x];
      lastRow(get(node.x), x.rows, x.cols, out);
      break;
    }
  }
  vals.set(node.out, out);
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
  /** The kernels once started (by the first loadWeights). */
  let started: WasmKernels | undefined;
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
    async loadWeights(tensors: readonly WeightTensor[]): Promise<WeightStore> {
      started = await getKernels();
      const store = new CpuWeightStore(started);
      store.addAll(tensors);
      return store;
    },
    createKV(spec: KVSpec): KVStore {
      return new CpuKVStore(spec, started);
    },
    compute(req: ComputeRequest): Promise<Map<number, Float32Array>> {
      const vals = new Map(req.inputs);
      const w = req.weights as CpuWeightStore;
      const kv = req.kv as CpuKVStore | undefined;
      for (const i of req.nodes) runCpuNode(req.graph.nodes[i], req, vals, w, kv);
      const outs = new Map<number, Float32Array>();
      for (const id of req.outputs) {
        const v = vals.get(id);
        if (!v) throw new BackendError("BACKEND_CALL_FAILED", `output value ${id} not computed`);
        outs.set(id, v);
      }
      return Promise.resolve(outs);
    },
    dispose(): void {
      const k = kernels;
      kernels = undefined;
      started = undefined;
      void k?.then((x) => x?.dispose());
    },
  };
}
