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
import { BackendError } from "../../core/errors.ts";
import type { GraphNode } from "../../core/graph.ts";
import type { GGMLType } from "../../gguf/ggml_types.ts";
import { canDequantize } from "../../gguf/quants/mod.ts";
import { cpuCount, systemMemory } from "../../runtime/host.ts";
import { actFormat, roundActivations } from "./ops/act_quant.ts";
import { attention, type LayerKV } from "./ops/attention.ts";
import { add, lastRow, rmsNorm, swiglu } from "./ops/elementwise.ts";
import { decodeRow, matmulRows } from "./ops/matmul.ts";
import { rope } from "./ops/rope.ts";
import { CpuWeightStore } from "./weights.ts";

/** KV cache in host memory, one K and one V matrix per layer. */
export class CpuKVStore implements KVStore {
  readonly backend = "cpu";
  readonly bytes: number;
  readonly layers = new Map<number, LayerKV>();
  constructor(readonly spec: KVSpec) {
    this.bytes = kvBytes(spec, 4);
    for (const l of spec.layers) {
      this.layers.set(l, {
        k: new Float32Array(spec.capacity * spec.nHeadKV * spec.headDim),
        v: new Float32Array(spec.capacity * spec.nHeadKV * spec.valueDim),
      });
    }
  }
  dispose(): void {
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
      rmsNorm(get(node.x), w.vector(node.weight), outV.rows, outV.cols, node.eps, out);
      break;
    case "matmul": {
      const m = w.matrix(node.weight);
      const bias = node.bias ? w.vector(node.bias) : undefined;
      const x = roundActivations(get(node.x), actFormat(m.type));
      matmulRows(m, x, outV.rows, out, 0, m.rows, bias);
      break;
    }
    case "rope":
      rope(get(node.x), outV.rows, node.nHeads, node.headDim, node.rope, req.pos0, out);
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
      attention(get(node.q), get(node.k), get(node.v), outV.rows, req.pos0, layer, node, out);
      break;
    }
    case "swiglu":
      swiglu(get(node.gate), get(node.up), out);
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

/** Creates the CPU backend. */
export function createCpuBackend(): Backend {
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
    loadWeights(tensors: readonly WeightTensor[]): Promise<WeightStore> {
      const store = new CpuWeightStore();
      for (const t of tensors) store.add(t);
      return Promise.resolve(store);
    },
    createKV(spec: KVSpec): KVStore {
      return new CpuKVStore(spec);
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
    dispose(): void {},
  };
}
