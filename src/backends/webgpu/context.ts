/**
 * One model on the WebGPU device: its weights, the KV caches made for it, the compiled
 * programs of its graph segments (the last few, least recently used dropped), and the tables
 * kernels read (RoPE angles per position, GELU). Compute calls run one at a time: each is one
 * submit and one readback of the requested outputs.
 *
 * @module
 */
import type { BackendContext, ComputeRequest, KVSpec, KVStore } from "../../core/backend.ts";
import { BackendError } from "../../core/errors.ts";
import type { Graph, GraphNode } from "../../core/graph.ts";
import { KVRegistry } from "../../core/kv_registry.ts";
import { geluTable } from "../cpu/ops/gelu.ts";
import { ropeAngles } from "../cpu/ops/rope.ts";
import { decodeGreedy, type GreedyDecodeRequest } from "./decode.ts";
import { type GpuDevice, Usage } from "./device.ts";
import { WebGpuKVStore } from "./kv.ts";
import { Program } from "./program.ts";
import type { WebGpuWeights } from "./weights.ts";

/** Programs a context keeps compiled (each holds its activation buffers). */
const PROGRAM_CACHE = 8;
/** Positions a RoPE table covers at least. */
const MIN_ROPE_POSITIONS = 1024;

/** A model's weights, KV caches, programs and tables on one device. */
export class WebGpuContext implements BackendContext {
  readonly backend = "webgpu";
  private readonly kvs = new KVRegistry((kv): kv is WebGpuKVStore => kv instanceof WebGpuKVStore);
  private readonly programs = new Map<string, { graph: Graph; program: Promise<Program> }>();
  private readonly graphIds = new WeakMap<Graph, number>();
  private nextGraphId = 1;
  private readonly ropeTables = new Map<string, GPUBuffer>();
  private ropePositions = MIN_ROPE_POSITIONS;
  private geluBuffer: GPUBuffer | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly dev: GpuDevice,
    readonly weights: WebGpuWeights,
    private readonly onDispose: () => void = () => {},
  ) {}

  get weightBytes(): number {
    return this.weights.bytes;
  }

  has(name: string): boolean {
    return this.weights.has(name);
  }

  createKV(spec: KVSpec): WebGpuKVStore {
    this.assertLive();
    return this.kvs.add(new WebGpuKVStore(this.dev, spec));
  }

  compute(req: ComputeRequest): Promise<Map<number, Float32Array>> {
    return this.serial(async () => {
      const p = await this.prepare(req.graph, req.nodes, req.outputs, req.kv, req.pos0, false);
      this.checkTokens(req.graph, req.nodes, req.tokens);
      return await this.scoped(() => p.run(req.tokens, req.pos0, req.inputs));
    });
  }

  /** Greedy decoding on the device, no host wait per token (decode.ts). */
  decodeGreedy(req: GreedyDecodeRequest): Promise<Int32Array> {
    return decodeGreedy(this, req);
  }

  /** Copies the first `positions` cache rows of every layer of `from` into `to`. */
  copyKV(from: KVStore, to: KVStore, positions: number): void {
    this.assertLive();
    const a = this.kvs.own(from)!;
    const b = this.kvs.own(to)!;
    const s = a.spec;
    const t = b.spec;
    if (
      s.layers.join() !== t.layers.join() || s.nHeadKV !== t.nHeadKV ||
      s.headDim !== t.headDim || s.valueDim !== t.valueDim ||
      !(Number.isInteger(positions) && positions >= 0 &&
        positions <= Math.min(s.capacity, t.capacity))
    ) {
      throw new BackendError("BACKEND_CALL_FAILED", "copyKV needs two caches of one shape", {
        expected: JSON.stringify(s),
        actual: `${JSON.stringify(t)} positions ${positions}`,
      });
    }
    const el = this.dev.f16 ? 2 : 4;
    const enc = this.dev.device.createCommandEncoder();
    for (const l of s.layers) {
      const src = a.layer(l);
      const dst = b.layer(l);
      const kBytes = Math.ceil((positions * s.nHeadKV * s.headDim * el) / 4) * 4;
      const vBytes = Math.ceil((positions * s.nHeadKV * s.valueDim * el) / 4) * 4;
      if (kBytes) enc.copyBufferToBuffer(src.k, 0, dst.k, 0, kBytes);
      if (vBytes) enc.copyBufferToBuffer(src.v, 0, dst.v, 0, vBytes);
    }
    this.dev.device.queue.submit([enc.finish()]);
  }

  /** Runs `fn` after every earlier call of this context finished. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    // Any failure of a lost device (a refused buffer, a kernel, a readback) is reported as
    // the loss, BACKEND_UNAVAILABLE.
    const guarded = () =>
      fn().catch(async (e: unknown) => {
        await this.dev.assertLiveAfterFailure();
        throw e;
      });
    const run = this.queue.then(guarded, guarded);
    this.queue = run.catch(() => {});
    return run;
  }

  /**
   * The program of a segment, compiled on first use; checks liveness, the KV cache's
   * ownership and allocation, and grows the RoPE tables to pos0 + nTokens (+ `extra`).
   */
  async prepare(
    graph: Graph,
    nodes: readonly number[],
    outputs: readonly number[],
    kvStore: ComputeRequest["kv"],
    pos0: number,
    greedy: boolean,
    extra = 0,
  ): Promise<Program> {
    this.assertLive();
    const kv = this.kvs.own(kvStore);
    await kv?.ready();
    this.growRope(pos0 + graph.nTokens + extra, kv?.spec.capacity ?? 0);
    let gid = this.graphIds.get(graph);
    if (!gid) this.graphIds.set(graph, gid = this.nextGraphId++);
    const capacity = kv?.spec.capacity ?? 0;
    const key = `${gid}|${nodes.join(",")}|${outputs.join(",")}|${capacity}|${greedy}|` +
      this.ropePositions;
    let entry = this.programs.get(key);
    if (entry) {
      this.programs.delete(key);
    } else {
      const program = Program.compile(
        {
          dev: this.dev,
          weight: (n) => this.weights.ref(n),
          kvCapacity: capacity,
          rope: (n) => ({ buffer: this.ropeTable(n) }),
          gelu: () => ({ buffer: this.gelu() }),
        },
        graph,
        nodes,
        outputs,
        greedy,
      );
      entry = { graph, program };
      program.catch(() => this.programs.delete(key));
    }
    this.programs.set(key, entry);
    while (this.programs.size > PROGRAM_CACHE) {
      const [oldKey, old] = this.programs.entries().next().value!;
      this.programs.delete(oldKey);
      void old.program.then((p) => p.dispose(), () => {});
    }
    const p = await entry.program;
    if (p.usesKV && !kv) {
      throw new BackendError("BACKEND_CALL_FAILED", "segment has attention but no KV cache");
    }
    if (kv) p.bindKV(kv);
    return p;
  }

  /** Runs `fn` inside a validation error scope: a rejected command becomes a BackendError. */
  async scoped<T>(fn: () => Promise<T>): Promise<T> {
    const d = this.dev.device;
    d.pushErrorScope("validation");
    let outcome: { ok: true; value: T } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: await fn() };
    } catch (error) {
      outcome = { ok: false, error };
    }
    const err = await d.popErrorScope().catch(() => null);
    if (err) await this.dev.assertLiveAfterFailure();
    if (err) {
      throw new BackendError("BACKEND_CALL_FAILED", `WebGPU rejected a command: ${err.message}`);
    }
    if (!outcome.ok) throw outcome.error;
    this.dev.assertLive();
    return outcome.value;
  }

  dispose(): void {
    if (!this.kvs.close()) return;
    for (const { program } of this.programs.values()) {
      void program.then((p) => p.dispose(), () => {});
    }
    this.programs.clear();
    for (const b of this.ropeTables.values()) b.destroy();
    this.ropeTables.clear();
    this.geluBuffer?.destroy();
    this.weights.dispose();
    this.onDispose();
  }

  /** Token ids an embedding lookup reads must be rows of its table. */
  checkTokens(graph: Graph, nodes: readonly number[], tokens: Int32Array): void {
    for (const i of nodes) {
      const n = graph.nodes[i];
      if (n.op !== "embed" || (n.index !== undefined && n.index !== "token")) continue;
      const rows = this.weights.ref(n.weight).dims[1];
      for (const id of tokens) {
        if (!(id >= 0 && id < rows)) {
          throw new BackendError("BACKEND_CALL_FAILED", `token id ${id} outside vocabulary`, {
            expected: `0..${rows - 1}`,
            actual: id,
          });
        }
      }
    }
  }

  private growRope(need: number, capacity: number): void {
    const want = Math.max(need, capacity);
    if (want <= this.ropePositions) return;
    let p = this.ropePositions;
    while (p < want) p *= 2;
    this.ropePositions = p;
    for (const b of this.ropeTables.values()) b.destroy();
    this.ropeTables.clear();
    for (const { program } of this.programs.values()) {
      void program.then((x) => x.dispose(), () => {});
    }
    this.programs.clear();
  }

  /** (cos, sin) for every position and rotary pair of `node`, the CPU's exact angles. */
  private ropeTable(node: GraphNode & { op: "rope" }): GPUBuffer {
    const key = JSON.stringify([node.rope, node.freqFactors ?? ""]);
    let b = this.ropeTables.get(key);
    if (b) return b;
    const half = node.rope.nRot / 2;
    const ff = node.freqFactors ? this.weights.vector(node.freqFactors) : undefined;
    const data = new Float32Array(this.ropePositions * half * 2);
    const cos = new Float32Array(half);
    const sin = new Float32Array(half);
    for (let pos = 0; pos < this.ropePositions; pos++) {
      ropeAngles(node.rope, pos, cos, sin, ff);
      for (let i = 0; i < half; i++) {
        data[(pos * half + i) * 2] = cos[i];
        data[(pos * half + i) * 2 + 1] = sin[i];
      }
    }
    b = this.upload(data, "RoPE table");
    this.ropeTables.set(key, b);
    return b;
  }

  private gelu(): GPUBuffer {
    this.geluBuffer ??= this.upload(geluTable(), "GELU table");
    return this.geluBuffer;
  }

  private upload(data: Float32Array, what: string): GPUBuffer {
    if (data.byteLength > this.dev.maxBinding) {
      throw new BackendError("BACKEND_CALL_FAILED", `${what} exceeds the storage binding limit`, {
        bytes: data.byteLength,
        expected: this.dev.maxBinding,
      });
    }
    const b = this.dev.device.createBuffer({
      size: data.byteLength,
      usage: Usage.STORAGE | Usage.COPY_DST,
    });
    this.dev.write(b, 0, data);
    return b;
  }

  private assertLive(): void {
    if (this.kvs.closed) {
      throw new BackendError("BACKEND_DISPOSED", "webgpu context was disposed");
    }
    this.dev.assertLive();
  }
}
