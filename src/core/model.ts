/**
 * A loaded model: configuration, tokenizer, the graph builder, layer placement across
 * backends, and the weights each backend holds. Sessions (see session.ts) run on it.
 *
 * @module
 */
import type { GGMLType } from "../gguf/ggml_types.ts";
import { type GGUFFile, type MetaValue, plainMetadata, tensorData } from "../gguf/gguf_file.ts";
import { openGGUF } from "../gguf/reader.ts";
import { type ModelConfig, modelConfigFromGGUF } from "../gguf/model_config.ts";
import {
  buildLlamaGraph,
  type LlamaTensors,
  type OutputMode,
  resolveLlamaTensors,
} from "../model/llama.ts";
import { tokenizerFromMetadata } from "../tokenizers/from_gguf.ts";
import type { Tokenizer } from "../tokenizers/types.ts";
import { type Backend, kvBytes, type WeightStore, type WeightTensor } from "./backend.ts";
import { AbortError, BackendError, InvalidArgumentError } from "./errors.ts";
import { type Graph, type GraphNode, nodeWeights } from "./graph.ts";
import { type LayerCost, placeLayers, type PlacementTarget } from "./placement.ts";
import { assignNodes, type Plan, planSegments } from "./scheduler.ts";

/** Progress of a load. */
export interface LoadProgress {
  readonly phase: "parse" | "place" | "weights" | "done";
  /** Bytes of weights loaded so far and in all. */
  readonly loaded: number;
  readonly total: number;
}

/** How to load a model. */
export interface ModelLoadOptions {
  /** Backends to use, in priority order; the last one must run every op (the CPU). */
  readonly backends: readonly Backend[];
  /** "auto" falls back quietly (one notice line); "strict" turns every fallback into an error. */
  readonly fallback?: "auto" | "strict";
  /** Context length sessions default to (and KV sizing assumes); default min(model, 4096). */
  readonly contextLength?: number;
  /** Most transformer layers to place on accelerators (default: all that fit). */
  readonly gpuLayers?: number;
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
  private disposed = false;

  private constructor(
    readonly path: string,
    readonly file: GGUFFile,
    readonly config: ModelConfig,
    readonly tokenizer: Tokenizer,
    readonly contextLength: number,
    private readonly tensors: LlamaTensors,
    private readonly layerBackend: ReadonlyMap<number, Backend>,
    private readonly fallbackBackend: Backend,
    readonly weights: ReadonlyMap<Backend, WeightStore>,
    /** Where layers run, one line. */
    readonly placement: string,
  ) {}

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
      opts.onProgress?.({ phase: "parse", loaded: 0, total: 0 });
      const config = modelConfigFromGGUF(file);
      const dims = new Map(file.tensors.map((t) => [t.name, t.dims] as const));
      const tensors = resolveLlamaTensors(config, dims);
      const md = plainMetadata(file);
      const tokenizer = opts.tokenizer?.(md) ?? tokenizerFromMetadata(md);
      const ctx = Math.min(opts.contextLength ?? Math.min(config.contextLength, 4096), 1 << 20);
      if (!(ctx >= 1)) {
        throw new InvalidArgumentError(`context length ${ctx} must be >= 1`, { actual: ctx });
      }
      const info = new Map(file.tensors.map((t) => [t.name, t] as const));
      const weightType = (n: string) => info.get(n)?.type as GGMLType | undefined;
      check();
      opts.onProgress?.({ phase: "place", loaded: 0, total: 0 });
      const fallback = opts.backends[opts.backends.length - 1];
      const accel = opts.backends.slice(0, -1);
      const strict = opts.fallback === "strict";
      const targets: PlacementTarget[] = [];
      for (const b of accel) {
        const p = await b.probe();
        if (!p.available) {
          if (strict) {
            throw new BackendError(
              "BACKEND_UNAVAILABLE",
              `backend ${b.name} is unavailable: ${p.reason}`,
              {
                actual: p.reason,
              },
            );
          }
          opts.log?.(`rocmforge: ${b.name} unavailable (${p.reason}); using ${fallback.name}`);
          continue;
        }
        targets.push({ backend: b, freeBytes: p.devices.reduce((s, d) => s + d.freeMemory, 0) });
      }
      // Bytes per layer: weights + KV cache at the context length (f32 upper bound).
      const probe = buildLlamaGraph(config, tensors, 2, "all");
      const costs = layerCosts(probe, info, config, ctx, opts.gpuLayers);
      const placed = placeLayers(costs.onDevice, targets, fallback, strict);
      const layerBackend = new Map(placed.byLayer);
      for (const l of costs.forced) layerBackend.set(l, fallback);
      // Which backend runs each node (an op a device lacks falls back), and so which weights
      // each backend must hold.
      const candidates = (n: GraphNode) => {
        const b = layerBackend.get(n.layer) ?? fallback;
        return b === fallback ? [fallback] : [b, fallback];
      };
      const need = new Map<Backend, Set<string>>();
      let moved = 0;
      for (const g of [probe, buildLlamaGraph(config, tensors, 1, "last")]) {
        const nb = assignNodes(g, candidates, weightType);
        g.nodes.forEach((n, i) => {
          if (nb[i] !== (layerBackend.get(n.layer) ?? fallback)) {
            if (strict) {
              throw new BackendError(
                "BACKEND_UNSUPPORTED_OP",
                `${layerBackend.get(n.layer)!.name} cannot run ${n.op} of layer ${n.layer}`,
                {
                  actual: n.op,
                },
              );
            }
            moved++;
          }
          const s = need.get(nb[i]) ?? new Set<string>();
          for (const w of nodeWeights(n)) s.add(w);
          need.set(nb[i], s);
        });
      }
      let summary = placed.summary || `${fallback.name}: all layers`;
      if (moved) summary += `; ${moved} ops ran on ${fallback.name} (unsupported on device)`;
      if (targets.length) opts.log?.(`rocmforge: ${summary}`);
      const total = [...need.values()].reduce(
        (s, set) => s + [...set].reduce((a, n) => a + info.get(n)!.nBytes, 0),
        0,
      );
      let loaded = 0;
      const weights = new Map<Backend, WeightStore>();
      for (const [b, names] of need) {
        check();
        const list: WeightTensor[] = [...names].map((n) => {
          const t = info.get(n)!;
          return {
            info: t,
            read: () => {
              check();
              const d = tensorData(file, t);
              loaded += t.nBytes;
              opts.onProgress?.({ phase: "weights", loaded, total });
              return d;
            },
          };
        });
        weights.set(b, await b.loadWeights(list, { signal: opts.signal }));
      }
      opts.onProgress?.({ phase: "done", loaded: total, total });
      return new Model(
        path,
        file,
        config,
        tokenizer,
        ctx,
        tensors,
        layerBackend,
        fallback,
        weights,
        summary,
      );
    } catch (e) {
      file.source.close();
      throw e;
    }
  }

  /** The execution plan for a batch of `nTokens` (cached per size and logits mode). */
  plan(nTokens: number, logits: OutputMode): Plan {
    const key = `${nTokens}:${logits}`;
    let p = this.plans.get(key);
    if (!p) {
      const g: Graph = buildLlamaGraph(this.config, this.tensors, nTokens, logits);
      const info = new Map(this.file.tensors.map((t) => [t.name, t.type] as const));
      const fb = this.fallbackBackend;
      const nb = assignNodes(g, (n) => {
        const b = this.layerBackend.get(n.layer) ?? fb;
        return b === fb ? [fb] : [b, fb];
      }, (n) => info.get(n) as GGMLType | undefined);
      p = planSegments(g, nb);
      if (this.plans.size > 64) this.plans.clear();
      this.plans.set(key, p);
    }
    return p;
  }

  /** Layers whose attention runs on each backend (for KV allocation). */
  kvLayers(): Map<Backend, number[]> {
    const p = this.plan(1, "last");
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

  /** Frees weights and closes the file. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const w of this.weights.values()) w.dispose();
    this.file.source.close();
  }
}

function layerCosts(
  g: Graph,
  info: ReadonlyMap<string, { nBytes: number }>,
  c: ModelConfig,
  ctx: number,
  gpuLayers: number | undefined,
): { onDevice: LayerCost[]; forced: number[] } {
  const bytes = new Map<number, number>();
  const seen = new Set<string>();
  for (const n of g.nodes) {
    for (const w of nodeWeights(n)) {
      const key = `${n.layer}:${w}`;
      if (seen.has(key)) continue;
      seen.add(key);
      bytes.set(n.layer, (bytes.get(n.layer) ?? 0) + info.get(w)!.nBytes);
    }
  }
  const kvPerLayer = kvBytes({
    layers: [0],
    capacity: ctx,
    nHeadKV: c.headCountKV,
    headDim: c.keyLength,
    valueDim: c.valueLength,
  }, 4);
  const costs: LayerCost[] = [...bytes].map(([layer, b]) => ({
    layer,
    bytes: b + (layer >= 0 && layer < c.blockCount ? kvPerLayer : 0),
  }));
  if (gpuLayers === undefined || gpuLayers >= c.blockCount) return { onDevice: costs, forced: [] };
  // Keep the first blockCount - gpuLayers transformer layers (and the input) on the fallback.
  const cut = c.blockCount - Math.max(0, gpuLayers);
  const forced = costs.filter((x) => x.layer < cut).map((x) => x.layer);
  return { onDevice: costs.filter((x) => x.layer >= cut), forced };
}
