/**
 * One model on the HIP device: its weight arena, the KV caches made for it, and the compiled
 * programs of its graph segments (one native call per segment).
 *
 * @module
 */
import type {
  BackendContext,
  ComputeRequest,
  KVSpec,
  KVStore,
  SequenceRows,
} from "../../core/backend.ts";
import { BackendError, InvalidArgumentError } from "../../core/errors.ts";
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

  /**
   * Copies the first `positions` cells of every layer of `from` into `to` on the device (two
   * caches of this context with the same layers and heads; capacities may differ).
   */
  copyKV(from: KVStore, to: KVStore, positions: number): void {
    this.assertLive();
    const [src, dst] = [this.kvs.own(from), this.kvs.own(to)];
    if (!src || !dst) throw new InvalidArgumentError("copyKV needs two caches of this context");
    const shape = ({ spec: s }: HipKVStore) =>
      `${s.layers}|${s.nHeadKV}|${s.headDim}|${s.valueDim}`;
    const most = Math.min(src.spec.capacity, dst.spec.capacity);
    if (
      shape(src) !== shape(dst) || !Number.isInteger(positions) || positions < 0 || positions > most
    ) {
      throw new InvalidArgumentError(
        "copyKV needs two caches of one shape and 0..capacity positions",
        {
          expected: `${shape(src)}, 0..${most}`,
          actual: `${shape(dst)}, ${positions}`,
        },
      );
    }
    this.native.kvCopy(src.handle, dst.handle, positions);
  }

  compute(req: ComputeRequest): Promise<Map<number, Float32Array>> {
    try {
      this.assertLive();
      if (req.sequences) return Promise.resolve(this.computeBatch(req, req.sequences));
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

  /**
   * A multi-sequence batch: the segment's program over every row, with each sequence's rows,
   * first position and KV cache in the native call's sequence table (native/rf_seqs.cpp).
   */
  private computeBatch(
    req: ComputeRequest,
    seqs: readonly SequenceRows[],
  ): Map<number, Float32Array> {
    const kvs = seqs.map((q) => this.kvs.own(q.kv));
    const p = this.program(req, kvs[0], "batch");
    if (p.usesKV && kvs.some((k) => !k)) {
      throw new BackendError(
        "BACKEND_CALL_FAILED",
        "segment has attention but a sequence has no KV cache",
      );
    }
    const hostIn = packInputs(p, req.graph, req.tokens, req.inputs);
    const hostOut = new Uint8Array(p.outBytes);
    if (seqs.length === 1) {
      // One sequence: the program of the one-sequence graph, so a decode step replays a graph.
      const [q, kv] = [seqs[0], p.usesKV ? kvs[0]!.handle : 0];
      this.native.exec(
        this.ctx,
        this.weights.arena,
        kv,
        p.words,
        hostIn,
        hostOut,
        p.scratchBytes,
        q.pos0,
      );
      return unpackOutputs(p, hostOut);
    }
    const table = new Int32Array(seqs.length * 3);
    seqs.forEach((q, i) => table.set([q.rows, q.pos0, p.usesKV ? kvs[i]!.handle : 0], i * 3));
    this.native.execSeqs(
      this.ctx,
      this.weights.arena,
      table,
      p.words,
      hostIn,
      hostOut,
      p.scratchBytes,
    );
    return unpackOutputs(p, hostOut);
  }

  dispose(): void {
    if (!this.kvs.close()) return;
    this.weights.dispose();
    this.onDispose();
  }

  /**
   * The compiled program of a segment; a batch's is keyed by its caches' layers (every
   * sequence's cache maps layers to the same slots), not by one sequence's cache.
   */
  private program(
    req: ComputeRequest,
    kv: HipKVStore | undefined,
    batch?: "batch",
  ): CompiledProgram {
    let byGraph = this.programs.get(req.graph);
    if (!byGraph) this.programs.set(req.graph, byGraph = new Map());
    const cache = batch ? `layers ${kv?.spec.layers.join(".") ?? ""}` : kv?.id ?? 0;
    const key = `${req.nodes.join(",")}|${req.outputs.join(",")}|${cache}`;
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
