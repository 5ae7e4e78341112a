/**
 * One model on the HIP device: its weight arena, the KV caches made for it, and the compiled
 * programs of its graph segments (one native call per segment).
 *
 * @module
 */
import type { BackendContext, ComputeRequest, KVSpec } from "../../core/backend.ts";
import { BackendError } from "../../core/errors.ts";
import { KVRegistry } from "../../core/kv_registry.ts";
import type { Graph } from "../../core/graph.ts";
import { HipKVStore } from "./kv.ts";
import type { HipNative } from "./native.ts";
import { type CompiledProgram, compileSegment } from "./program.ts";
import { packInputs, unpackOutputs } from "./program_io.ts";
import type { HipWeightStore } from "./weights.ts";

/** A model's weights, KV caches and programs on one device context. */
export class HipContext implements BackendContext {
  readonly backend = "hip";
  private readonly kvs = new KVRegistry((kv): kv is HipKVStore => kv instanceof HipKVStore);
  private readonly programs = new WeakMap<Graph, Map<string, CompiledProgram>>();

  /** `ctx`: the native device context (stream, scratch) the backend shares across models. */
  constructor(
    private readonly native: HipNative,
    private readonly ctx: number,
    readonly weights: HipWeightStore,
    private readonly onDispose: () => void = () => {},
  ) {}

  get weightBytes(): number {
    return this.weights.bytes;
  }

  has(name: string): boolean {
    return this.weights.has(name);
  }

  createKV(spec: KVSpec): HipKVStore {
    this.assertLive();
    return this.kvs.add(new HipKVStore(this.native, this.ctx, spec));
  }

  compute(req: ComputeRequest): Promise<Map<number, Float32Array>> {
    try {
      this.assertLive();
      const kv = this.kvs.own(req.kv);
      const p = this.program(req, kv);
      if (p.usesKV && !kv) {
        throw new BackendError("BACKEND_CALL_FAILED", "segment has attention but no KV cache");
      }
      const hostIn = packInputs(p, req.graph, req.tokens, req.inputs);
      const hostOut = new Uint8Array(p.outBytes);
      this.native.exec(
        this.ctx,
        this.weights.arena,
        kv?.handle ?? 0,
        p.words,
        hostIn,
        hostOut,
        p.scratchBytes,
        req.pos0,
      );
      return Promise.resolve(unpackOutputs(p, hostOut));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  dispose(): void {
    if (!this.kvs.close()) return;
    this.weights.dispose();
    this.onDispose();
  }

  private program(req: ComputeRequest, kv: HipKVStore | undefined): CompiledProgram {
    let byGraph = this.programs.get(req.graph);
    if (!byGraph) this.programs.set(req.graph, byGraph = new Map());
    const key = `${req.nodes.join(",")}|${req.outputs.join(",")}|${kv?.id ?? 0}`;
    let p = byGraph.get(key);
    if (!p) {
      const w = this.weights;
      p = compileSegment(req.graph, req.nodes, req.outputs, (name) => w.ref(name), (layer) => {
        if (!kv) throw new BackendError("BACKEND_CALL_FAILED", "attention without a KV cache");
        return kv.slot(layer);
      });
      byGraph.set(key, p);
    }
    return p;
  }

  private assertLive(): void {
    if (this.kvs.closed) throw new BackendError("BACKEND_DISPOSED", "hip context was disposed");
  }
}
