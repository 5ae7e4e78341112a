/**
 * The op graph IR that backends execute. Values are float32 activations laid out
 * row-major as [rows, cols] (one row per token). Weights are referred to by their GGUF
 * tensor name and resolved by each backend against the weights it holds.
 *
 * A graph describes one forward pass over `nTokens` tokens starting at a position given at
 * compute time; the same graph can therefore be reused for every decode step of a size.
 *
 * @module
 */
import type { KVTypes } from "../gguf/kv_type.ts";

/** Graph format version; bump when node shapes change incompatibly. */
export const GRAPH_VERSION = 1;

/** A float32 activation tensor of shape [rows, cols]. */
export interface GraphValue {
  readonly id: number;
  readonly rows: number;
  readonly cols: number;
  readonly name: string;
}

/** RoPE ordering: "normal" rotates adjacent pairs (2i, 2i+1); "neox" rotates (i, i + nRot/2). */
export type RopeMode = "normal" | "neox";

/** RoPE parameters (llama.cpp semantics). */
export interface RopeParams {
  readonly mode: RopeMode;
  /** Number of leading dimensions of each head that rotate. */
  readonly nRot: number;
  readonly freqBase: number;
  /** Linear position scale (1 / scaling factor); 1 for none. */
  readonly freqScale: number;
  /** YaRN: extrapolation mix factor (0 disables YaRN). */
  readonly extFactor: number;
  /** YaRN: attention magnitude factor (1 for none). */
  readonly attnFactor: number;
  readonly betaFast: number;
  readonly betaSlow: number;
  /** Context length the model was trained at (YaRN). */
  readonly nCtxOrig: number;
}

/** Every node kind. `layer` is the transformer block the node belongs to (-1 input, nLayers output). */
export type GraphNode =
  | {
    op: "embed";
    layer: number;
    out: number;
    weight: string;
    /**
     * Which row each token takes: its id (default), its position (BERT's position_embd) or
     * row 0 (BERT's token type "sentence A").
     */
    index?: "token" | "position" | "zero";
    /**
     * Rows of several sequences (a multi-sequence batch, see batch_graph.ts): positions come from the
     * compute request's sequence table, one range of rows per sequence.
     */
    batched?: boolean;
  }
  | {
    op: "rms_norm";
    layer: number;
    out: number;
    x: number;
    weight: string;
    eps: number;
    /**
     * Normalize each run of `groupSize` values of a row with a weight of that length (per-head
     * norms, e.g. Qwen3's q/k norm); default: the whole row.
     */
    groupSize?: number;
  }
  | { op: "matmul"; layer: number; out: number; x: number; weight: string; bias?: string }
  | {
    op: "rope";
    layer: number;
    out: number;
    x: number;
    nHeads: number;
    headDim: number;
    rope: RopeParams;
    /** Weight of nRot/2 frequency divisors (llama.cpp's rope_freqs / rope factors). */
    freqFactors?: string;
    /**
     * Rows of several sequences (a multi-sequence batch, see batch_graph.ts): each row's position comes from the
     * compute request's sequence table, one range of rows per sequence.
     */
    batched?: boolean;
  }
  | {
    op: "attention";
    layer: number;
    out: number;
    q: number;
    k: number;
    v: number;
    nHead: number;
    nHeadKV: number;
    headDim: number;
    valueDim: number;
    scale: number;
    /**
     * Sliding window: a query at position p sees keys at positions p - window + 1 .. p
     * (llama.cpp's LLAMA_SWA_TYPE_STANDARD); default: every earlier position.
     */
    window?: number;
    /** Logit soft-capping: scores become softcap * tanh(score / softcap) (Gemma 2). */
    softcap?: number;
    /**
     * Attention sinks: a weight of nHead learned logits, one per head, that join each row's
     * softmax denominator without a value (gpt-oss's attn_sinks).
     */
    sinks?: string;
    /**
     * false: every token of the batch attends to every other one and nothing is cached (BERT
     * encoders; the batch must start at position 0). Default true.
     */
    causal?: boolean;
    /**
     * Element types of the KV cache this attention reads (llama.cpp's -ctk/-ctv; set by model
     * loading from its `kvType` option); default f16 both. A backend declines types it lacks.
     */
    kvType?: KVTypes;
    /**
     * Rows of several sequences (a multi-sequence batch, see batch_graph.ts): positions and KV caches come from the
     * compute request's sequence table, one range of rows per sequence.
     */
    batched?: boolean;
  }
  | { op: "swiglu"; layer: number; out: number; gate: number; up: number }
  /** gelu(gate) * up with ggml's tanh GELU (through its half-precision table). */
  | { op: "geglu"; layer: number; out: number; gate: number; up: number }
  /**
   * Mixture-of-experts FFN with softmax gating (llama.cpp's build_moe_ffn): `router` is
   * [dim, nExpert]; `gate`, `up` [dim, ff, nExpert] and `down` [ff, dim, nExpert] hold every
   * expert; each token runs only its top `nUsed` experts.
   */
  | {
    op: "moe";
    layer: number;
    out: number;
    x: number;
    router: string;
    gate: string;
    up: string;
    down: string;
    nExpert: number;
    nUsed: number;
    /** Divide the chosen experts' weights by their sum. */
    normWeights: boolean;
    /** Multiply the weights by this (0 or 1: unchanged). */
    weightsScale: number;
    /**
     * "softmax" (default): softmax over every expert, then the top nUsed; "softmax_weight"
     * (gpt-oss): the top nUsed router logits, then a softmax over those.
     */
    gating?: "softmax" | "softmax_weight";
    /** Expert activation: "swiglu" (default) or gpt-oss's clamped "swiglu_oai". */
    act?: "swiglu" | "swiglu_oai";
    /** Biases: router [nExpert]; gate/up [ff, nExpert] and down [dim, nExpert], per expert. */
    routerBias?: string;
    gateBias?: string;
    upBias?: string;
    downBias?: string;
  }
  /** Columns offset .. offset + cols of x (a view of a fused product: Phi-3's attn_qkv). */
  | { op: "slice"; layer: number; out: number; x: number; offset: number }
  /** LayerNorm: (x - mean) / sqrt(var + eps) * weight + bias, per row (ggml_norm). */
  | {
    op: "layer_norm";
    layer: number;
    out: number;
    x: number;
    weight: string;
    bias?: string;
    eps: number;
  }
  /** ggml's tanh GELU, elementwise (through its half-precision table). */
  | { op: "gelu"; layer: number; out: number; x: number }
  /** tanh(x), elementwise (ggml_tanh). */
  | { op: "tanh"; layer: number; out: number; x: number }
  /** x * s, elementwise (ggml_scale). */
  | { op: "scale"; layer: number; out: number; x: number; s: number }
  | { op: "add"; layer: number; out: number; a: number; b: number }
  /** The last row of x; batched: the last row of each sequence ([sequences, cols]). */
  | { op: "last_row"; layer: number; out: number; x: number; batched?: boolean };

/** The op name of a node. */
export type OpKind = GraphNode["op"];

/** All op kinds, for capability tables. */
export const OP_KINDS: readonly OpKind[] = [
  "embed",
  "rms_norm",
  "matmul",
  "rope",
  "attention",
  "swiglu",
  "geglu",
  "moe",
  "tanh",
  "layer_norm",
  "gelu",
  "slice",
  "scale",
  "add",
  "last_row",
];

/** What a forward pass outputs: last row's logits, every row's logits, or hidden states. */
export type OutputMode = "last" | "all" | "hidden";

/** Every output mode, for validation. */
export const OUTPUT_MODES: readonly OutputMode[] = ["last", "all", "hidden"];

/** A forward graph over `nTokens` tokens. The token ids and start position are compute inputs. */
export interface Graph {
  readonly version: number;
  readonly nTokens: number;
  readonly nLayers: number;
  readonly values: readonly GraphValue[];
  readonly nodes: readonly GraphNode[];
  /** The value holding logits ([1, vocab] for "last", [nTokens, vocab] for "all"). */
  readonly output: number;
  /**
   * Sequences a multi-sequence graph's rows belong to (its "last" output has one row per
   * sequence); absent for a graph of one sequence.
   */
  readonly sequences?: number;
}

/** Input value ids a node reads. */
export function nodeInputs(n: GraphNode): number[] {
  switch (n.op) {
    case "embed":
      return [];
    case "rms_norm":
    case "matmul":
    case "rope":
    case "last_row":
    case "scale":
    case "tanh":
    case "layer_norm":
    case "gelu":
    case "slice":
    case "moe":
      return [n.x];
    case "attention":
      return [n.q, n.k, n.v];
    case "swiglu":
    case "geglu":
      return [n.gate, n.up];
    case "add":
      return [n.a, n.b];
  }
}

/** Weight tensor names a node reads. */
export function nodeWeights(n: GraphNode): string[] {
  switch (n.op) {
    case "embed":
    case "rms_norm":
      return [n.weight];
    case "matmul":
      return n.bias ? [n.weight, n.bias] : [n.weight];
    case "rope":
      return n.freqFactors ? [n.freqFactors] : [];
    case "attention":
      return n.sinks ? [n.sinks] : [];
    case "moe":
      return [n.router, n.gate, n.up, n.down, n.routerBias, n.gateBias, n.upBias, n.downBias]
        .filter((w): w is string => w !== undefined);
    case "layer_norm":
      return n.bias ? [n.weight, n.bias] : [n.weight];
    default:
      return [];
  }
}

/** Incremental graph construction with automatic value ids. */
export class GraphBuilder {
  private readonly values: GraphValue[] = [];
  private readonly nodes: GraphNode[] = [];
  constructor(readonly nTokens: number, readonly nLayers: number) {}

  /** Declares a new value. */
  value(rows: number, cols: number, name: string): number {
    const id = this.values.length;
    this.values.push({ id, rows, cols, name });
    return id;
  }

  /** Appends a node (its `out` must come from `value`). */
  push(node: GraphNode): number {
    this.nodes.push(node);
    return node.out;
  }

  /** Finishes the graph with `output` as the logits value. */
  build(output: number): Graph {
    return {
      version: GRAPH_VERSION,
      nTokens: this.nTokens,
      nLayers: this.nLayers,
      values: this.values,
      nodes: this.nodes,
      output,
    };
  }
}
