/**
 * The steps of loading a model, each a function that can be tested on its own: read the
 * file's description (architecture, configuration, graphs), size the context, probe the
 * backends, cost and place the layers, assign every op (and so every weight) to a backend,
 * and upload. `Model.load` runs them in that order.
 *
 * @module
 */
import type { GGMLType } from "../gguf/ggml_types.ts";
import { DEFAULT_KV_TYPES, kvBytesPerElement, type KVTypes } from "../gguf/kv_type.ts";
import {
  type GGUFFile,
  type GGUFTensorInfo,
  type MetaValue,
  plainMetadata,
  tensorData,
  tensorDataInto,
} from "../gguf/gguf_file.ts";
import {
  architectureOf,
  type ModelConfig,
  modelConfigFromGGUF,
  SUPPORTED_ARCHITECTURES,
} from "../gguf/model_config.ts";
import type { Architecture, ArchitectureSource, ModelGraph, TensorShape } from "./architecture.ts";
import type { Backend, BackendContext, WeightTensor } from "./backend.ts";
import { AbortError, BackendError, InvalidArgumentError } from "./errors.ts";
import { type Graph, type GraphNode, nodeWeights } from "./graph.ts";
import { withKVTypes } from "./kv_graph.ts";
import type { LayerCost, PlacementTarget } from "./placement.ts";
import { assignNodes } from "./scheduler.ts";

/** Progress of a load: `loaded` of `total` in `unit`. */
export interface LoadProgress {
  /** "parse": header bytes read; "place": layers placed; "weights": bytes uploaded. */
  readonly phase: "parse" | "place" | "weights" | "done";
  readonly unit: "bytes" | "layers";
  readonly loaded: number;
  readonly total: number;
  /** While uploading: the backend receiving weights, and its tensors done / in all. */
  readonly backend?: string;
  readonly tensors?: number;
  readonly tensorsTotal?: number;
}

/** What a file describes once its architecture plugin has read it. */
export interface ModelSpec {
  readonly metadata: ReadonlyMap<string, MetaValue>;
  readonly architecture: Architecture;
  readonly config: ModelConfig;
  /** Context length sessions default to (and KV sizing assumes). */
  readonly contextLength: number;
  readonly graphs: ModelGraph;
  readonly tensors: ReadonlyMap<string, GGUFTensorInfo>;
}

/**
 * Steps 1 and 2: architecture, configuration, context length (`requestedContext`, else
 * min(model, 4096)) and graph factory of an opened file, its attention nodes carrying the KV
 * cache types `kvTypes` (default f16).
 */
export function describeModel(
  file: GGUFFile,
  architectures: ArchitectureSource,
  requestedContext?: number,
  kvTypes: KVTypes = DEFAULT_KV_TYPES,
): ModelSpec {
  const metadata = plainMetadata(file);
  const arch = architectureOf(metadata);
  const architecture = architectures.architectureFor(arch);
  // The plugin's RoPE layout, else llama.cpp's table, else "normal" (see architecture.ts).
  const ropeType = architecture.ropeType?.(arch) ??
    (Object.hasOwn(SUPPORTED_ARCHITECTURES, arch) ? SUPPORTED_ARCHITECTURES[arch] : "normal");
  const config = modelConfigFromGGUF(file, { ropeType });
  const tensors = new Map(file.tensors.map((t) => [t.name, t] as const));
  const shapes = new Map<string, TensorShape>(
    file.tensors.map((t) => [t.name, { dims: t.dims, type: t.type as GGMLType }]),
  );
  const contextLength = contextLengthFor(config, requestedContext);
  return {
    metadata,
    architecture,
    config,
    contextLength,
    graphs: withKVTypes(
      architecture.build(config, shapes, metadata, { contextLength }),
      kvTypes,
      config,
    ),
    tensors,
  };
}

/** The context length sessions default to: `requested`, else min(model, 4096). */
export function contextLengthFor(config: ModelConfig, requested?: number): number {
  const ctx = Math.min(requested ?? Math.min(config.contextLength, 4096), 1 << 20);
  if (!Number.isInteger(ctx) || ctx < 1) {
    throw new InvalidArgumentError(`context length ${ctx} must be an integer >= 1`, {
      field: "contextLength",
      actual: ctx,
    });
  }
  return ctx;
}

/**
 * Step 3: the accelerators that are available, with their free memory. An unavailable one is
 * skipped with a notice, or with `strict` a BACKEND_UNAVAILABLE error.
 */
export async function probeTargets(
  accelerators: readonly Backend[],
  fallback: Backend,
  strict: boolean,
  log?: (line: string) => void,
): Promise<PlacementTarget[]> {
  const targets: PlacementTarget[] = [];
  for (const b of accelerators) {
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
      log?.(`rocmforge: ${b.name} unavailable (${p.reason}); using ${fallback.name}`);
      continue;
    }
    targets.push({ backend: b, freeBytes: p.devices.reduce((s, d) => s + d.freeMemory, 0) });
  }
  return targets;
}

/**
 * Step 4: bytes each layer needs on a device (weights + KV cache at `ctx`: float32 for f16,
 * an upper bound, else the types' own sizes), and the layers `gpuLayers` keeps on the fallback
 * (the first ones).
 */
export function layerCosts(
  g: Graph,
  info: ReadonlyMap<string, { nBytes: number }>,
  c: ModelConfig,
  ctx: number,
  gpuLayers: number | undefined,
  kvTypes: KVTypes = DEFAULT_KV_TYPES,
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
  const el = (t: KVTypes["k"]) => t === "f16" ? 4 : kvBytesPerElement(t);
  const kvPerLayer = ctx * c.headCountKV *
    (c.keyLength * el(kvTypes.k) + c.valueLength * el(kvTypes.v));
  const costs: LayerCost[] = [...bytes].map(([layer, b]) => ({
    layer,
    bytes: b + (layer >= 0 && layer < c.blockCount ? kvPerLayer : 0),
  }));
  if (gpuLayers === undefined || gpuLayers >= c.blockCount) return { onDevice: costs, forced: [] };
  const cut = c.blockCount - Math.max(0, gpuLayers);
  const forced = costs.filter((x) => x.layer < cut).map((x) => x.layer);
  return { onDevice: costs.filter((x) => x.layer >= cut), forced };
}

/**
 * The backends that may run a node, in order: its layer's backend, then the fallback; a node
 * marked `batched` (a multi-sequence batch) only on those with `multiSequence`. Load and plan
 * both choose through this one function.
 */
export function backendChoice(
  layerBackend: ReadonlyMap<number, Backend>,
  fallback: Backend,
): (node: GraphNode) => readonly Backend[] {
  return (n) => {
    const b = layerBackend.get(n.layer) ?? fallback;
    const list = b === fallback ? [fallback] : [b, fallback];
    return "batched" in n && n.batched ? list.filter((x) => x.multiSequence === true) : list;
  };
}

/** Which weights each backend must hold, and how many ops left their layer's backend. */
export interface WeightAssignment {
  readonly need: ReadonlyMap<Backend, ReadonlySet<string>>;
  readonly moved: number;
}

/**
 * Step 5: assigns every op of `graphs` (an op a device lacks falls back; with `strict` that
 * is a BACKEND_UNSUPPORTED_OP error) and collects the weights each backend needs.
 */
export function assignWeights(
  graphs: readonly Graph[],
  layerBackend: ReadonlyMap<number, Backend>,
  fallback: Backend,
  weightType: (name: string) => GGMLType | undefined,
  strict: boolean,
): WeightAssignment {
  const choose = backendChoice(layerBackend, fallback);
  const need = new Map<Backend, Set<string>>();
  let moved = 0;
  for (const g of graphs) {
    const nb = assignNodes(g, choose, weightType);
    g.nodes.forEach((n, i) => {
      const want = choose(n)[0];
      if (nb[i] !== want) {
        if (strict) {
          throw new BackendError(
            "BACKEND_UNSUPPORTED_OP",
            `${want.name} cannot run ${n.op} of layer ${n.layer}`,
            { actual: n.op },
          );
        }
        moved++;
      }
      const s = need.get(nb[i]) ?? new Set<string>();
      for (const w of nodeWeights(n)) s.add(w);
      need.set(nb[i], s);
    });
  }
  return { need, moved };
}

/** Step 6: uploads each backend's weights into a new context of it. */
export async function uploadWeights(
  file: GGUFFile,
  tensors: ReadonlyMap<string, GGUFTensorInfo>,
  need: ReadonlyMap<Backend, ReadonlySet<string>>,
  opts: { onProgress?: (p: LoadProgress) => void; signal?: AbortSignal },
): Promise<Map<Backend, BackendContext>> {
  const check = () => {
    if (opts.signal?.aborted) throw new AbortError("model load aborted");
  };
  const total = [...need.values()].reduce(
    (s, set) => s + [...set].reduce((a, n) => a + tensors.get(n)!.nBytes, 0),
    0,
  );
  let loaded = 0;
  const contexts = new Map<Backend, BackendContext>();
  try {
    for (const [b, names] of need) {
      check();
      let done = 0;
      const report = () =>
        opts.onProgress?.({
          phase: "weights",
          unit: "bytes",
          loaded,
          total,
          backend: b.name,
          tensors: done,
          tensorsTotal: list.length,
        });
      // Progress after every read: a tensor counts as done once its last byte is read.
      const list: WeightTensor[] = [...names].map((n) => {
        const t = tensors.get(n)!;
        return {
          info: t,
          read: () => {
            check();
            const d = tensorData(file, t);
            loaded += t.nBytes;
            done++;
            report();
            return d;
          },
          readInto: (start, target) => {
            check();
            tensorDataInto(file, t, start, target);
            loaded += target.byteLength;
            if (start + target.byteLength === t.nBytes) done++;
            report();
          },
        };
      });
      contexts.set(b, await b.createContext(list, { signal: opts.signal }));
    }
  } catch (e) {
    for (const c of contexts.values()) c.dispose();
    throw e;
  }
  return contexts;
}
