/**
 * The backend plugin contract. A backend executes a contiguous run of graph nodes (a whole
 * graph when it supports every op) per `compute` call, against weights and a KV cache that
 * it allocated itself.
 *
 * Optional members and their defaults:
 * - `priority`: 0. Higher runs first when several backends are registered.
 * - `describe()`: a one-line summary from `probe()`.
 *
 * @module
 */
import type { GGMLType } from "../gguf/ggml_types.ts";
import type { GGUFTensorInfo } from "../gguf/gguf_file.ts";
import type { Graph, GraphNode } from "./graph.ts";

/** Version of this contract; a backend declares the version it implements. */
export const BACKEND_API_VERSION = 1;

/** One compute device. Memory sizes are bytes. */
export interface DeviceInfo {
  readonly id: number;
  readonly name: string;
  readonly totalMemory: number;
  readonly freeMemory: number;
  /** e.g. "gfx90a", "sm_90", "x86_64". */
  readonly arch?: string;
  readonly computeUnits?: number;
  readonly warpSize?: number;
}

/** What `probe()` reports. */
export interface BackendProbe {
  readonly available: boolean;
  /** Why the backend is unavailable (library missing, no device, init failed). */
  readonly reason?: string;
  readonly devices: readonly DeviceInfo[];
}

/** A weight tensor offered to a backend; `read()` returns its bytes in GGUF form. */
export interface WeightTensor {
  readonly info: GGUFTensorInfo;
  read(): Uint8Array;
}

/** Weights a backend holds for one model. */
export interface WeightStore {
  readonly backend: string;
  /** Bytes of backend memory the weights use. */
  readonly bytes: number;
  has(name: string): boolean;
  dispose(): void;
}

/** Shape of a KV cache: the layers it holds and the number of positions. */
export interface KVSpec {
  readonly layers: readonly number[];
  readonly capacity: number;
  readonly nHeadKV: number;
  readonly headDim: number;
  readonly valueDim: number;
}

/** A KV cache a backend allocated for some layers of one session. */
export interface KVStore {
  readonly backend: string;
  readonly spec: KVSpec;
  readonly bytes: number;
  dispose(): void;
}

/** One compute call: run `nodes` of `graph` in order. */
export interface ComputeRequest {
  readonly graph: Graph;
  /** Indices into graph.nodes, in execution order. */
  readonly nodes: readonly number[];
  readonly weights: WeightStore;
  /** The KV cache holding this segment's layers (absent when it has no attention). */
  readonly kv?: KVStore;
  /** Token ids, graph.nTokens of them. */
  readonly tokens: Int32Array;
  /** Position of the first token. */
  readonly pos0: number;
  /** Values produced outside this segment, by value id. */
  readonly inputs: ReadonlyMap<number, Float32Array>;
  /** Value ids to return to the host. */
  readonly outputs: readonly number[];
}

/** Bytes a backend may use, and whether a type/op can run there. */
export interface Backend {
  readonly apiVersion: 1;
  readonly name: string;
  readonly priority?: number;
  /** Availability and devices. Never throws: failures become `available: false` + reason. */
  probe(): Promise<BackendProbe>;
  /** True when the backend can run `node`; `weightType` gives the GGML type of a weight. */
  supportsOp(node: GraphNode, weightType: (name: string) => GGMLType | undefined): boolean;
  /** Uploads weights (kept in their GGUF form). */
  loadWeights(
    tensors: readonly WeightTensor[],
    opts?: { signal?: AbortSignal },
  ): Promise<WeightStore>;
  /** Allocates a KV cache. */
  createKV(spec: KVSpec): KVStore;
  /** Runs a segment; returns the requested outputs. */
  compute(req: ComputeRequest): Promise<Map<number, Float32Array>>;
  /** Releases everything the backend holds. */
  dispose(): void;
}

/** Bytes a KV cache of `spec` takes with `bytesPerElement` storage. */
export function kvBytes(spec: KVSpec, bytesPerElement: number): number {
  return spec.layers.length * spec.capacity * spec.nHeadKV * (spec.headDim + spec.valueDim) *
    bytesPerElement;
}
