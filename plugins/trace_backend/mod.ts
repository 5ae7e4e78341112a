/**
 * Trace backend: an example backend plugin that wraps another backend (usually the CPU),
 * runs every op it accepts on it, and records how many times each op ran and how long it
 * took. It can also decline ops (`decline: ["attention"]`), which makes the scheduler route
 * them to the next backend in priority order: a cheap way to see how a model splits into
 * segments when a device lacks an op, and a readable tour of the backend contract.
 *
 * ```ts
 * import { builtinArchitectures, createCpuBackend, Model, PluginRegistry } from "../../mod.ts";
 * import { createTraceBackend } from "./mod.ts";
 *
 * const cpu = createCpuBackend();
 * const trace = createTraceBackend(cpu, { decline: ["attention"], priority: 10 });
 * const registry = new PluginRegistry();
 * registry.registerBackend(trace);
 * registry.registerBackend(cpu);
 * const model = await Model.load("model.gguf", {
 *   backends: registry.backends(),
 *   architectures: builtinArchitectures,
 * });
 * // ... generate ...
 * console.log(trace.report());
 * ```
 *
 * To time single ops, each node of a segment is run through the wrapped backend in its own
 * `compute` call, so activations cross to the host after every op: tracing is for looking,
 * not for speed. This file imports only from the public API (mod.ts).
 *
 * @module
 */
import {
  type Backend,
  BACKEND_API_VERSION,
  type BackendContext,
  BackendError,
  type BackendProbe,
  type ComputeRequest,
  type GraphNode,
  InvalidArgumentError,
  type KVSpec,
  type KVStore,
  nodeInputs,
  type OpKind,
  type WeightTensor,
} from "../../mod.ts";

/** Settings of the trace backend. */
export interface TraceOptions {
  /** Backend name (default "trace"); must differ from the wrapped backend's name. */
  readonly name?: string;
  /** Scheduling priority (default 10, above the CPU's). */
  readonly priority?: number;
  /** Ops this backend claims not to support (they run on the next backend instead). */
  readonly decline?: readonly OpKind[];
  /** Report this many free bytes instead of the wrapped backend's (to test placement). */
  readonly freeMemory?: number;
}

/** Counts and time of one op kind. */
export interface OpStats {
  /** Nodes of this kind executed. */
  count: number;
  /** Milliseconds spent in them (wall clock around the wrapped compute call). */
  ms: number;
}

/** Everything the trace backend has recorded since creation or the last reset. */
export interface TraceStats {
  /** `compute` calls received from the scheduler (one per segment run). */
  readonly calls: number;
  /** Token rows processed, summed over calls. */
  readonly tokens: number;
  /** Per-op counts and time. */
  readonly ops: Readonly<Partial<Record<OpKind, OpStats>>>;
  /** `createContext` calls (one per model) and the weight bytes they uploaded. */
  readonly weightLoads: number;
  readonly weightBytes: number;
  /** KV caches created. */
  readonly kvCaches: number;
}

/** A backend that also exposes what it recorded. */
export interface TraceBackend extends Backend {
  /** The backend doing the work. */
  readonly inner: Backend;
  /** A snapshot of the counters. */
  stats(): TraceStats;
  /** Zeroes the counters. */
  resetStats(): void;
  /** The counters as a small table, one op per line, busiest first. */
  report(): string;
}

/** Wraps a KV cache of the inner backend. */
class TraceKV implements KVStore {
  constructor(readonly backend: string, readonly owner: TraceContext, readonly inner: KVStore) {}
  get spec(): KVSpec {
    return this.inner.spec;
  }
  get bytes(): number {
    return this.inner.bytes;
  }
  dispose(): void {
    this.inner.dispose();
  }
}

/** What a trace context reports to its backend. */
interface TraceSink {
  readonly name: string;
  readonly declined: ReadonlySet<string>;
  live(): void;
  kvCreated(): void;
  call(rows: number): void;
  op(op: OpKind, ms: number): void;
}

/** One model's context on the trace backend: the inner backend's context, one node at a time. */
class TraceContext implements BackendContext {
  constructor(private readonly sink: TraceSink, readonly inner: BackendContext) {}
  get backend(): string {
    return this.sink.name;
  }
  get weightBytes(): number {
    return this.inner.weightBytes;
  }
  has(name: string): boolean {
    return this.inner.has(name);
  }
  createKV(spec: KVSpec): KVStore {
    this.sink.live();
    this.sink.kvCreated();
    return new TraceKV(this.sink.name, this, this.inner.createKV(spec));
  }
  async compute(req: ComputeRequest): Promise<Map<number, Float32Array>> {
    const { name, declined } = this.sink;
    this.sink.live();
    if (req.kv !== undefined && !(req.kv instanceof TraceKV && req.kv.owner === this)) {
      throw new BackendError("BACKEND_CALL_FAILED", `KV cache was not created by ${name}`, {
        actual: req.kv.backend,
      });
    }
    this.sink.call(req.graph.nTokens);
    const vals = new Map(req.inputs);
    for (const i of req.nodes) {
      const node: GraphNode = req.graph.nodes[i];
      if (declined.has(node.op)) {
        throw new BackendError("BACKEND_UNSUPPORTED_OP", `${name} declines ${node.op}`, {
          expected: `an op other than ${[...declined].join(", ")}`,
          actual: node.op,
        });
      }
      const inputs = new Map<number, Float32Array>();
      for (const v of nodeInputs(node)) {
        const a = vals.get(v);
        if (!a) throw new BackendError("BACKEND_CALL_FAILED", `value ${v} missing`);
        inputs.set(v, a);
      }
      const t0 = performance.now();
      const out = await this.inner.compute({
        ...req,
        nodes: [i],
        kv: req.kv?.inner,
        inputs,
        outputs: [node.out],
      });
      this.sink.op(node.op, performance.now() - t0);
      const v = out.get(node.out);
      if (!v) throw new BackendError("BACKEND_CALL_FAILED", `${node.op} produced no output`);
      vals.set(node.out, v);
    }
    const result = new Map<number, Float32Array>();
    for (const id of req.outputs) {
      const v = vals.get(id);
      if (!v) throw new BackendError("BACKEND_CALL_FAILED", `output value ${id} not computed`);
      result.set(id, v);
    }
    return result;
  }
  dispose(): void {
    this.inner.dispose();
  }
}

/** Creates a trace backend around `inner`. */
export function createTraceBackend(inner: Backend, opts: TraceOptions = {}): TraceBackend {
  const name = opts.name ?? "trace";
  if (name === inner.name) {
    throw new InvalidArgumentError(`trace backend name ${name} equals the inner backend's`, {
      expected: `a name other than ${inner.name}`,
      actual: name,
    });
  }
  const declined = new Set<string>(opts.decline ?? []);
  let ops: Partial<Record<OpKind, OpStats>> = {};
  let calls = 0, tokens = 0, weightLoads = 0, weightBytes = 0, kvCaches = 0;
  let disposed = false;
  const live = () => {
    if (disposed) throw new BackendError("BACKEND_DISPOSED", `backend ${name} was disposed`);
  };
  const innerBackend = inner;
  const sink: TraceSink = {
    name,
    declined,
    live,
    kvCreated: () => void kvCaches++,
    call: (rows) => {
      calls++;
      tokens += rows;
    },
    op: (op, ms) => {
      const s = ops[op] ?? (ops[op] = { count: 0, ms: 0 });
      s.count++;
      s.ms += ms;
    },
  };

  const backend: TraceBackend = {
    apiVersion: BACKEND_API_VERSION,
    name,
    priority: opts.priority ?? 10,
    inner,

    async probe(): Promise<BackendProbe> {
      const p = await inner.probe();
      if (opts.freeMemory === undefined || !p.available) return p;
      const free = opts.freeMemory;
      return {
        ...p,
        devices: p.devices.map((d, i) => ({
          ...d,
          name: `${name}(${d.name})`,
          totalMemory: i === 0 ? Math.max(free, 0) : 0,
          freeMemory: i === 0 ? Math.max(free, 0) : 0,
        })),
      };
    },

    supportsOp(node, weightType): boolean {
      return !declined.has(node.op) && inner.supportsOp(node, weightType);
    },

    async createContext(tensors: readonly WeightTensor[], o?: { signal?: AbortSignal }) {
      live();
      const inner = await innerBackend.createContext(tensors, o);
      weightLoads++;
      weightBytes += inner.weightBytes;
      return new TraceContext(sink, inner);
    },

    dispose(): void {
      // The inner backend belongs to whoever created it (it may also be the fallback).
      disposed = true;
    },

    stats(): TraceStats {
      const copy: Partial<Record<OpKind, OpStats>> = {};
      for (const [k, v] of Object.entries(ops)) copy[k as OpKind] = { ...v };
      return { calls, tokens, ops: copy, weightLoads, weightBytes, kvCaches };
    },

    resetStats(): void {
      ops = {};
      calls =
        tokens =
        weightLoads =
        weightBytes =
        kvCaches =
          0;
    },

    report(): string {
      const rows = Object.entries(ops).sort((a, b) => b[1].ms - a[1].ms);
      const lines = rows.map(([op, s]) =>
        `${op.padEnd(10)} ${String(s.count).padStart(8)} ${s.ms.toFixed(2).padStart(10)} ms`
      );
      return [`${name}: ${calls} calls, ${tokens} token rows`, ...lines].join("\n");
    },
  };
  return backend;
}
