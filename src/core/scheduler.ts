/**
 * The scheduler: assigns each node of a graph to the first backend, in the priority order
 * the caller gives for that node, that supports it (CPU last), groups consecutive nodes of
 * one backend into segments, and runs the segments, passing activations across backends.
 *
 * @module
 */
import type { GGMLType } from "../gguf/ggml_types.ts";
import type { Backend, BackendContext, KVStore } from "./backend.ts";
import { BackendError } from "./errors.ts";
import { type Graph, type GraphNode, nodeInputs } from "./graph.ts";

/** A run of consecutive nodes executed by one backend in one call. */
export interface Segment {
  readonly backend: Backend;
  readonly nodes: number[];
  /** Values this segment reads that other segments produce. */
  readonly inputs: number[];
  /** Values this segment produces that later segments or the caller need. */
  readonly outputs: number[];
}

/** A graph with its segments. */
export interface Plan {
  readonly graph: Graph;
  readonly segments: readonly Segment[];
}

/**
 * Picks, for every node, the first backend of `candidates(node)` that supports it.
 * Throws BACKEND_UNSUPPORTED_OP when none does.
 */
export function assignNodes(
  graph: Graph,
  candidates: (node: GraphNode) => readonly Backend[],
  weightType: (name: string) => GGMLType | undefined,
): Backend[] {
  return graph.nodes.map((node) => {
    const list = candidates(node);
    const b = list.find((be) => be.supportsOp(node, weightType));
    if (!b) {
      throw new BackendError(
        "BACKEND_UNSUPPORTED_OP",
        `no backend supports ${node.op} in layer ${node.layer}`,
        {
          expected: list.map((x) => x.name).join(", "),
          actual: node.op,
        },
      );
    }
    return b;
  });
}

/** Groups consecutive nodes of one backend and computes the values that cross segments. */
export function planSegments(graph: Graph, nodeBackend: readonly Backend[]): Plan {
  const segments: { backend: Backend; nodes: number[] }[] = [];
  for (let i = 0; i < graph.nodes.length; i++) {
    const last = segments[segments.length - 1];
    if (last && last.backend === nodeBackend[i]) last.nodes.push(i);
    else segments.push({ backend: nodeBackend[i], nodes: [i] });
  }
  const producer = new Map<number, number>(); // value -> segment index
  segments.forEach((s, si) => s.nodes.forEach((n) => producer.set(graph.nodes[n].out, si)));
  const inputs = segments.map(() => new Set<number>());
  const outputs = segments.map(() => new Set<number>());
  segments.forEach((s, si) => {
    for (const n of s.nodes) {
      for (const v of nodeInputs(graph.nodes[n])) {
        const p = producer.get(v);
        if (p !== undefined && p !== si) {
          inputs[si].add(v);
          outputs[p].add(v);
        }
      }
    }
  });
  const outSeg = producer.get(graph.output);
  if (outSeg !== undefined) outputs[outSeg].add(graph.output);
  return {
    graph,
    segments: segments.map((s, i) => ({
      backend: s.backend,
      nodes: s.nodes,
      inputs: [...inputs[i]],
      outputs: [...outputs[i]],
    })),
  };
}

/** What one execution of a plan needs besides the plan. */
export interface RunContext {
  /** The model's context on each backend. */
  readonly contexts: ReadonlyMap<Backend, BackendContext>;
  readonly kv: ReadonlyMap<Backend, KVStore>;
  readonly tokens: Int32Array;
  readonly pos0: number;
  /**
   * A multi-sequence batch (a graph with `sequences`): each sequence's rows, first position
   * and KV caches, in row order. `kv` and `pos0` then go unused.
   */
  readonly sequences?: readonly BatchSequence[];
}

/** One sequence of a multi-sequence forward pass. */
export interface BatchSequence {
  readonly rows: number;
  readonly pos0: number;
  readonly kv: ReadonlyMap<Backend, KVStore>;
}

/**
 * Runs every segment in order; returns the graph's output (logits). Token count and KV
 * capacity are checked here, once for every backend.
 */
export async function runPlan(plan: Plan, ctx: RunContext): Promise<Float32Array> {
  const g = plan.graph;
  if (ctx.tokens.length !== g.nTokens) {
    throw new BackendError("BACKEND_CALL_FAILED", "token count does not match the graph", {
      expected: g.nTokens,
      actual: ctx.tokens.length,
    });
  }
  const seqs = ctx.sequences ?? [{ rows: g.nTokens, pos0: ctx.pos0, kv: ctx.kv }];
  checkSequences(g, seqs, ctx.sequences !== undefined);
  const rowsOf = (b: Backend) => {
    let row0 = 0;
    return ctx.sequences?.map((q) => {
      const r = { row0, rows: q.rows, pos0: q.pos0, kv: q.kv.get(b) };
      row0 += q.rows;
      return r;
    });
  };
  const host = new Map<number, Float32Array>();
  for (const s of plan.segments) {
    const context = ctx.contexts.get(s.backend);
    if (!context) {
      throw new BackendError("BACKEND_CALL_FAILED", `backend ${s.backend.name} holds no weights`);
    }
    const inputs = new Map<number, Float32Array>();
    for (const v of s.inputs) inputs.set(v, host.get(v)!);
    const outs = await context.compute({
      graph: g,
      nodes: s.nodes,
      kv: ctx.kv.get(s.backend),
      tokens: ctx.tokens,
      pos0: ctx.pos0,
      ...(ctx.sequences ? { sequences: rowsOf(s.backend) } : {}),
      inputs,
      outputs: s.outputs,
    });
    for (const [v, a] of outs) host.set(v, a);
  }
  const out = host.get(g.output);
  if (!out) throw new BackendError("BACKEND_CALL_FAILED", "graph output was not produced");
  return out;
}

function checkSequences(g: Graph, seqs: readonly BatchSequence[], batched: boolean): void {
  if (batched !== (g.sequences !== undefined) || (batched && seqs.length !== g.sequences)) {
    throw new BackendError("BACKEND_CALL_FAILED", "sequence count does not match the graph", {
      expected: g.sequences ?? "no sequence table",
      actual: batched ? seqs.length : "no sequence table",
    });
  }
  let rows = 0;
  for (const q of seqs) {
    if (!(Number.isInteger(q.rows) && q.rows >= 1 && Number.isInteger(q.pos0) && q.pos0 >= 0)) {
      throw new BackendError("BACKEND_CALL_FAILED", "a sequence needs rows >= 1 at pos0 >= 0", {
        actual: { rows: q.rows, pos0: q.pos0 },
      });
    }
    rows += q.rows;
    for (const kv of q.kv.values()) {
      if (q.pos0 + q.rows > kv.spec.capacity) {
        throw new BackendError("BACKEND_CALL_FAILED", "KV cache overflow", {
          expected: kv.spec.capacity,
          actual: q.pos0 + q.rows,
        });
      }
    }
  }
  if (rows !== g.nTokens) {
    throw new BackendError("BACKEND_CALL_FAILED", "sequence rows do not add up to the graph", {
      expected: g.nTokens,
      actual: rows,
    });
  }
}

/** One line per segment: which backend runs which layers. */
export function describePlan(plan: Plan): string {
  return plan.segments.map((s) => {
    const layers = s.nodes.map((n) => plan.graph.nodes[n].layer);
    const lo = Math.min(...layers);
    const hi = Math.max(...layers);
    return `${s.backend.name}: ${s.nodes.length} ops, layers ${lo}..${hi}`;
  }).join("; ");
}
