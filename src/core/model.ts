/**
 * A loaded model: configuration, tokenizer, the architecture's graphs, layer placement across
 * backends, and the context each backend holds for it. Sessions (see session.ts) run on it.
 *
 * @module
 */
import type { GGMLType } from "../gguf/ggml_types.ts";
import type { GGUFFile, MetaValue } from "../gguf/gguf_file.ts";
import type { ModelConfig } from "../gguf/model_config.ts";
import { type KVType, type KVTypes, parseKVTypes } from "../gguf/kv_type.ts";
import { openGGUF } from "../gguf/reader.ts";
import { tokenizerFromMetadata } from "../tokenizers/from_gguf.ts";
import type { Tokenizer } from "../tokenizers/types.ts";
import type { Architecture, ArchitectureSource, ModelGraph } from "./architecture.ts";
import type { Backend, BackendContext } from "./backend.ts";
import { AbortError, InvalidArgumentError } from "./errors.ts";
import { batchGraph } from "./batch_graph.ts";
import { OUTPUT_MODES, type OutputMode } from "./graph.ts";
import {
  assignWeights,
  backendChoice,
  describeModel,
  layerCosts,
  type LoadProgress,
  probeTargets,
  uploadWeights,
} from "./model_load.ts";
import { placeLayers } from "./placement.ts";
import { assignNodes, type Plan, planSegments } from "./scheduler.ts";

export type { LoadProgress } from "./model_load.ts";

/** How to load a model. */
export interface ModelLoadOptions {
  /** Backends to use, in priority order; the last one must run every op (the CPU). */
  readonly backends: readonly Backend[];
  /** Where architecture plugins come from (a PluginRegistry, or builtinArchitectures). */
  readonly architectures: ArchitectureSource;
  /** "auto" falls back quietly (one notice line); "strict" turns every fallback into an error. */
  readonly fallback?: "auto" | "strict";
  /** Context length sessions default to (and KV sizing assumes); default min(model, 4096). */
  readonly contextLength?: number;
  /** Most transformer layers to place on accelerators (default: all that fit). */
  readonly gpuLayers?: number;
  /**
   * KV cache element types (llama.cpp's -ctk/-ctv): one type for K and V, or `{ k, v }`;
   * f32, f16, q8_0 or q4_0, default f16. Backends that cannot hold a type leave that
   * attention to the CPU; an unknown type is an INVALID_ARGUMENT error.
   */
  readonly kvType?: KVType | { readonly k?: KVType; readonly v?: KVType };
  readonly onProgress?: (p: LoadProgress) => void;
  readonly signal?: AbortSignal;
  /** Receives the one-line notices (what moved where). */
  readonly log?: (line: string) => void;
  /** Builds the tokenizer (a tokenizer plugin); default: the built-in GGUF tokenizers. */
  readonly tokenizer?: (metadata: ReadonlyMap<string, MetaValue>) => Tokenizer | undefined;
}

/** A model ready to create sessions. */
export class Model {
  private readonly plans = new Map<string, Plan>();
  private readonly choose;
  private disposed = false;

  private constructor(
    readonly path: string,
    readonly file: GGUFFile,
    readonly architecture: Architecture,
    readonly config: ModelConfig,
    readonly tokenizer: Tokenizer,
    readonly contextLength: number,
    private readonly graphs: ModelGraph,
    layerBackend: ReadonlyMap<number, Backend>,
    fallback: Backend,
    /** The model's context on each backend that holds part of it. */
    readonly contexts: ReadonlyMap<Backend, BackendContext>,
    /** Where layers run, one line. */
    readonly placement: string,
    /** The KV cache types every session's cache is made with. */
    readonly kvTypes: KVTypes,
  ) {
    this.choose = backendChoice(layerBackend, fallback);
  }

  /** Opens, places and uploads a model. */
  static async load(path: string, opts: ModelLoadOptions): Promise<Model> {
    const check = () => {
      if (opts.signal?.aborted) throw new AbortError("model load aborted");
    };
    check();
    if (opts.backends.length === 0) {
      throw new InvalidArgumentError("no backends given", { expected: ">= 1 backend" });
    }
    const file = openGGUF(path);
    try {
      opts.onProgress?.({
        phase: "parse",
        unit: "bytes",
        loaded: file.dataOffset,
        total: file.dataOffset,
      });
      const kvTypes = parseKVTypes(opts.kvType);
      const spec = describeModel(file, opts.architectures, opts.contextLength, kvTypes);
      const { config, tensors, contextLength: ctx } = spec;
      const tokenizer = opts.tokenizer?.(spec.metadata) ?? tokenizerFromMetadata(spec.metadata);
      const weightType = (n: string) => tensors.get(n)?.type as GGMLType | undefined;
      check();
      const fallback = opts.backends[opts.backends.length - 1];
      const strict = opts.fallback === "strict";
      const targets = await probeTargets(opts.backends.slice(0, -1), fallback, strict, opts.log);
      const modes = spec.graphs.outputs ?? OUTPUT_MODES;
      const probe = spec.graphs.graph(2, modes.includes("all") ? "all" : modes[0]);
      const costs = layerCosts(probe, tensors, config, ctx, opts.gpuLayers, kvTypes);
      const placed = placeLayers(costs.onDevice, targets, fallback, strict, config.blockCount);
      const layerBackend = new Map(placed.byLayer);
      for (const l of costs.forced) layerBackend.set(l, fallback);
      const layers = config.blockCount + 2;
      opts.onProgress?.({ phase: "place", unit: "layers", loaded: layers, total: layers });
      const graphs = [probe, spec.graphs.graph(1, modes.includes("last") ? "last" : modes[0])];
      const { need, moved } = assignWeights(graphs, layerBackend, fallback, weightType, strict);
      let summary = placed.summary || `${fallback.name}: all layers`;
      if (moved) summary += ` · ${moved} ops ran on ${fallback.name} (unsupported on device)`;
      if (targets.length) opts.log?.(`rocmforge: ${summary}`);
      const contexts = await uploadWeights(file, tensors, need, opts);
      const total = [...contexts.values()].reduce((s, c) => s + c.weightBytes, 0);
      opts.onProgress?.({ phase: "done", unit: "bytes", loaded: total, total });
      return new Model(
        path,
        file,
        spec.architecture,
        config,
        tokenizer,
        ctx,
        spec.graphs,
        layerBackend,
        fallback,
        contexts,
        summary,
        kvTypes,
      );
    } catch (e) {
      file.source.close();
      throw e;
    }
  }

  /**
   * The execution plan for a batch of `nTokens` (cached per size, logits mode and sequence
   * count). With `sequences`, the rows belong to that many sequences (see batch_graph.ts): nodes
   * marked `batched` go only to backends with `multiSequence`.
   */
  plan(nTokens: number, logits: OutputMode, sequences?: number): Plan {
    const key = `${nTokens}:${logits}:${sequences ?? ""}`;
    let p = this.plans.get(key);
    if (!p) {
      const modes = this.outputs;
      if (!modes.includes(logits)) {
        throw new InvalidArgumentError(
          `${this.architecture.name} models have no "${logits}" output (they give ${
            modes.join(", ")
          })`,
          { field: "output", expected: modes.join(", "), actual: logits },
        );
      }
      const one = this.graphs.graph(nTokens, logits);
      const g = sequences === undefined ? one : batchGraph(one, sequences);
      const info = new Map(this.file.tensors.map((t) => [t.name, t.type] as const));
      const nb = assignNodes(g, this.choose, (n) => info.get(n) as GGMLType | undefined);
      p = planSegments(g, nb);
      if (this.plans.size > 64) this.plans.clear();
      this.plans.set(key, p);
    }
    return p;
  }

  /** The output modes this model's graphs have. */
  get outputs(): readonly OutputMode[] {
    return this.graphs.outputs ?? OUTPUT_MODES;
  }

  /** False for encoders: each input is evaluated whole, from position 0, and not cached. */
  get causal(): boolean {
    return this.graphs.causal !== false;
  }

  /** The pooling llama.cpp applies to this model's embeddings, when the file says. */
  get pooling(): "none" | "mean" | "cls" | "last" | undefined {
    return this.graphs.pooling;
  }

  /**
   * Layers whose attention runs on each backend (for KV allocation); with `batched`, in the
   * plans of multi-sequence batches.
   */
  kvLayers(batched = false): Map<Backend, number[]> {
    const mode = this.outputs.includes("last") ? "last" : this.outputs[0];
    const p = this.plan(1, mode, batched ? 1 : undefined);
    const m = new Map<Backend, number[]>();
    for (const s of p.segments) {
      for (const i of s.nodes) {
        const n = p.graph.nodes[i];
        if (n.op === "attention") m.set(s.backend, [...(m.get(s.backend) ?? []), n.layer]);
      }
    }
    return m;
  }

  /** True once disposed. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Frees every backend context (weights and KV caches) and closes the file. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const c of this.contexts.values()) c.dispose();
    this.file.source.close();
  }
}
