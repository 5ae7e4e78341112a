/**
 * The KV cache types a model was loaded with, carried on its graphs: every cached attention
 * node gets `kvType` (absent for llama.cpp's default f16/f16), so each backend's `supportsOp`
 * sees the type it would have to store and read, and declines what it lacks (the op then runs
 * on the next backend, the CPU). Types that no backend could run are refused here.
 *
 * @module
 */
import { checkKVShape, isDefaultKV, type KVTypes, kvTypesLabel } from "../gguf/kv_type.ts";
import type { ModelConfig } from "../gguf/model_config.ts";
import type { ModelGraph } from "./architecture.ts";
import { InvalidArgumentError } from "./errors.ts";
import type { Graph } from "./graph.ts";

/** `graphs` with `types` on each cached attention node (the same graphs for the default). */
export function withKVTypes(graphs: ModelGraph, types: KVTypes, config: ModelConfig): ModelGraph {
  if (isDefaultKV(types)) return graphs;
  checkKVShape(types, config.keyLength, config.valueLength);
  const tag = (g: Graph): Graph => {
    const nodes = g.nodes.map((n) => {
      if (n.op !== "attention" || n.causal === false) return n;
      // llama.cpp runs soft-capped attention (Gemma 2) without flash attention, and needs
      // flash attention for a quantized V cache; our non-flash steps are its F16 ones.
      if (n.softcap !== undefined) {
        throw new InvalidArgumentError(
          `KV cache type ${kvTypesLabel(types)} is not supported for soft-capped attention ` +
            `(llama.cpp runs it without flash attention, over an f16 cache)`,
          { field: "kvType", expected: "f16", actual: kvTypesLabel(types) },
        );
      }
      return { ...n, kvType: types };
    });
    return { ...g, nodes };
  };
  tag(graphs.graph(1, graphs.outputs?.[0] ?? "last"));
  return { ...graphs, graph: (nTokens, output) => tag(graphs.graph(nTokens, output)) };
}
