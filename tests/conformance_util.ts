/**
 * Helpers of the backend conformance suite (tests/conformance_test.ts): seeded random data,
 * GGUF weight tensors made with the project's quantizers, one-op graphs run through the
 * Backend interface, and the normalized error ||a - b|| / ||b||.
 *
 * @module
 */
import type { Backend, KVSpec, WeightTensor } from "../src/core/backend.ts";
import { GraphBuilder, type GraphNode } from "../src/core/graph.ts";
import type { GGMLType } from "../src/gguf/ggml_types.ts";
import { typeTraits } from "../src/gguf/ggml_types.ts";
import { quantize } from "../src/gguf/quants/mod.ts";

/** A seeded generator of uniform and normal numbers (mulberry32 + Box-Muller). */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Standard normal. */
  normal(): number {
    const u = Math.max(this.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  /** `n` normal values times `scale` (never all zero). */
  floats(n: number, scale = 1): Float32Array {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = this.normal() * scale;
    return a;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** A weight tensor of `type` with ggml dims (dims[0] = row length) made from `values`. */
export function weightTensor(
  name: string,
  type: GGMLType,
  dims: number[],
  values: Float32Array,
): WeightTensor {
  const data = quantize(type, values);
  const t = typeTraits(type);
  const nElements = dims.reduce((a, b) => a * b, 1);
  return {
    info: {
      name,
      dims,
      type,
      offset: 0,
      nElements,
      nBytes: (nElements / t.blockSize) * t.typeSize,
    },
    read: () => data,
  };
}

/** ||a - b|| / ||b|| in float64; Infinity for a length mismatch or a non-finite value. */
export function normalizedError(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]) || !Number.isFinite(b[i])) return Infinity;
    const d = a[i] - b[i];
    num += d * d;
    den += b[i] * b[i];
  }
  return den === 0 ? (num === 0 ? 0 : Infinity) : Math.sqrt(num / den);
}

/** One step of an op test: a one-node graph (or a short chain) and the values it reads. */
export interface OpStep {
  /**
   * Builds the node, or nodes in order (the last one's output is the step's output);
   * `input(rows, cols, data)` declares an input value.
   */
  readonly build: (
    g: GraphBuilder,
    input: (rows: number, cols: number, data: Float32Array) => number,
  ) => GraphNode | GraphNode[];
  readonly nTokens: number;
  readonly tokens?: Int32Array;
  readonly pos0?: number;
}

/** An op test: weights, an optional KV cache, and steps run in order on one backend. */
export interface OpCase {
  readonly weights: readonly WeightTensor[];
  readonly kv?: KVSpec;
  readonly steps: readonly OpStep[];
}

/** Runs every step of `c` on `backend`; returns each step's output. */
export async function runCase(backend: Backend, c: OpCase): Promise<Float32Array[]> {
  const context = await backend.createContext(c.weights);
  const kv = c.kv ? context.createKV(c.kv) : undefined;
  try {
    const outs: Float32Array[] = [];
    for (const s of c.steps) {
      const g = new GraphBuilder(s.nTokens, 1);
      const inputs = new Map<number, Float32Array>();
      const built = s.build(g, (rows, cols, data) => {
        const id = g.value(rows, cols, `in${inputs.size}`);
        inputs.set(id, data);
        return id;
      });
      const nodes = Array.isArray(built) ? built : [built];
      for (const n of nodes) g.push(n);
      const node = nodes[nodes.length - 1];
      const graph = g.build(node.out);
      const res = await context.compute({
        graph,
        nodes: nodes.map((_, i) => i),
        kv,
        tokens: s.tokens ?? new Int32Array(s.nTokens),
        pos0: s.pos0 ?? 0,
        inputs,
        outputs: [node.out],
      });
      const out = res.get(node.out);
      if (!out) throw new Error(`backend ${backend.name} returned no output`);
      outs.push(out);
    }
    return outs;
  } finally {
    kv?.dispose();
    context.dispose();
  }
}
