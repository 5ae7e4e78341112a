/**
 * The backend plugin contract, in two levels after ggml-backend: a `Backend` is the device
 * level (availability, devices, which ops it runs) and opens one `BackendContext` per model,
 * which owns that model's weights, the kernels it runs them with and the KV caches made for
 * it. A context executes a contiguous run of graph nodes (a whole graph when it supports every
 * op) per `compute` call.
 *
 * Optional members and their defaults:
 * - `priority`: 0. Higher runs first when several backends are registered.
 * - `multiSequence`: false. Nodes marked `batched` (multi-sequence batches) go to the backend
 *   only when true; otherwise they run on the next backend that takes them (the CPU).
 * - `BackendContext.copyKV`: absent. Without it a session re-evaluates a prefix it would copy.
 * - `BackendContext.decodeGreedy`: absent. With it, `generate()` takes greedy tokens from the
 *   device in chunks when the model's one-token plan runs wholly on this context; without it
 *   every token is one `compute` call and one readback.
 *
 * The scheduler checks shapes and KV capacity once, before it calls `compute`; a context
 * checks only that the KV cache it is given is one of its own.
 *
 * @module
 */
import type { KVTypes } from "../gguf/kv_type.ts";
import type { GGMLType } from "../gguf/ggml_types.ts";
import type { GGUFTensorInfo } from "../gguf/gguf_file.ts";
import type { Graph, GraphNode } from "./graph.ts";

/** Version of this contract; a backend declares the version it implements. */
export const BACKEND_API_VERSION = 2;

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

/**
 * A weight tensor offered to a backend; `read()` returns its bytes in GGUF form. A backend
 * reads each tensor once, through one of the two: `read()` whole, or `readInto` in parts.
 */
export interface WeightTensor {
  readonly info: GGUFTensorInfo;
  read(): Uint8Array;
  /**
   * Reads the tensor's bytes [start, start + target.byteLength) into `target` (a staging
   * buffer: no copy is allocated). Optional; absent, a backend calls `read()`.
   */
  readInto?(start: number, target: Uint8Array): void;
}

/** Shape of a KV cache: the layers it holds and the number of positions. */
export interface KVSpec {
  readonly layers: readonly number[];
  readonly capacity: number;
  readonly nHeadKV: number;
  readonly headDim: number;
  readonly valueDim: number;
  /**
   * Element types of K and V (llama.cpp's -ctk/-ctv); default f16 both. A backend that
   * cannot hold them throws (it declines the attention of such a model in supportsOp first).
   */
  readonly types?: KVTypes;
}

/** A KV cache a backend allocated for some layers of one session. */
export interface KVStore {
  readonly backend: string;
  readonly spec: KVSpec;
  readonly bytes: number;
  dispose(): void;
}

/** The rows of one sequence in a multi-sequence compute call. */
export interface SequenceRows {
  /** First row (rows of one sequence are consecutive, sequences in row order). */
  readonly row0: number;
  readonly rows: number;
  /** Position of the sequence's first row. */
  readonly pos0: number;
  /** The sequence's KV cache for this segment's layers (absent when it has no attention). */
  readonly kv?: KVStore;
}

/** One compute call: run `nodes` of `graph` in order. */
export interface ComputeRequest {
  readonly graph: Graph;
  /** Indices into graph.nodes, in execution order. */
  readonly nodes: readonly number[];
  /** The KV cache holding this segment's layers (absent when it has no attention). */
  readonly kv?: KVStore;
  /** Token ids, graph.nTokens of them. */
  readonly tokens: Int32Array;
  /** Position of the first token. */
  readonly pos0: number;
  /**
   * A multi-sequence batch's sequences (nodes marked `batched` read them instead of `pos0`
   * and `kv`); absent for a graph of one sequence.
   */
  readonly sequences?: readonly SequenceRows[];
  /** Values produced outside this segment, by value id. */
  readonly inputs: ReadonlyMap<number, Float32Array>;
  /** Value ids to return to the host. */
  readonly outputs: readonly number[];
}

/** One on-device greedy run (`BackendContext.decodeGreedy`). */
export interface GreedyDecodeRequest {
  /** A one-token graph whose every node runs on this context, with one row of logits. */
  readonly graph: Graph;
  /** The session's cache; positions pos0 .. pos0 + steps - 1 are written. */
  readonly kv: KVStore;
  /** The input token of the first step (the last token already chosen). */
  readonly token: number;
  /** Position of `token`. */
  readonly pos0: number;
  /** Tokens to pick. */
  readonly steps: number;
  /** Steps recorded into one command buffer (default: the backend's). */
  readonly stepsPerSubmit?: number;
}

/** One model on one backend: its weights, kernels and KV caches. */
export interface BackendContext {
  /** Name of the backend that opened it. */
  readonly backend: string;
  /** Bytes of backend memory the weights use. */
  readonly weightBytes: number;
  /** True when the weight `name` was uploaded. */
  has(name: string): boolean;
  /** Allocates a KV cache for some layers of one sequence. */
  createKV(spec: KVSpec): KVStore;
  /**
   * Copies the first `positions` cells of every layer of `from` into `to` (two of this
   * context's caches with the same layers and shape). Optional; without it, a session
   * re-evaluates a prefix it would have copied (and the server's prompt cache stays empty).
   */
  copyKV?(from: KVStore, to: KVStore, positions: number): void;
  /**
   * Optional greedy loop on the device: evaluates `req.token` at `req.pos0`, takes the argmax
   * of its logits as the next step's input, and so on for `req.steps` steps, without a host
   * round trip per token; returns the `steps` picked tokens (the cache then holds `token` and
   * the first `steps - 1` picks). Picks must equal the argmax (first on ties) of the logits
   * `compute` gives for the same inputs.
   */
  decodeGreedy?(req: GreedyDecodeRequest): Promise<Int32Array>;
  /** Runs a segment; returns the requested outputs. */
  compute(req: ComputeRequest): Promise<Map<number, Float32Array>>;
  /** Frees the weights and every KV cache made from this context. */
  dispose(): void;
}

/** A backend plugin (the device level). */
export interface Backend {
  readonly apiVersion: 2;
  readonly name: string;
  readonly priority?: number;
  /** True when the backend runs nodes marked `batched` (multi-sequence batches); default false. */
  readonly multiSequence?: boolean;
  /** Availability and devices. Never throws: failures become `available: false` + reason. */
  probe(): Promise<BackendProbe>;
  /** True when the backend can run `node`; `weightType` gives the GGML type of a weight. */
  supportsOp(node: GraphNode, weightType: (name: string) => GGMLType | undefined): boolean;
  /** Uploads one model's weights (kept in their GGUF form) into a new context. */
  createContext(
    tensors: readonly WeightTensor[],
    opts?: { signal?: AbortSignal },
  ): Promise<BackendContext>;
  /** Releases everything the backend holds, every context included. */
  dispose(): void;
}

/** Bytes a KV cache of `spec` takes with `bytesPerElement` storage. */
export function kvBytes(spec: KVSpec, bytesPerElement: number): number {
  return spec.layers.length * spec.capacity * spec.nHeadKV * (spec.headDim + spec.valueDim) *
    bytesPerElement;
}
