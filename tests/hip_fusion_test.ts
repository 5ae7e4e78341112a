/**
 * Fused HIP launches (native/rf_graph.cpp plan_fusion: the residual add into the RMSNorm that
 * reads its sum, RMSNorm and SwiGLU into the int8 rounding of the product that reads them, a
 * layer's two ropes into one launch that also stores K and V for the attention after them, a
 * decode row's products of one input in one launch) give the same bits as the ops run one program each, where nothing can be fused (skipped without a
 * device). The chain add -> rms_norm -> matmul, matmul, matmul (one input: one decode launch,
 * the last with a bias) -> swiglu -> matmul -> rope, rope, and rope,
 * rope -> attention over a cached history, run as one compute call and as one call per node,
 * for decode rows (graph replay) and a prefill batch, with weight types whose products read
 * q8_0, q8_1 and q8_K activations (the last keeps its own rounding).
 *
 * @module
 */
import { createHipBackend } from "../src/backends/hip/backend.ts";
import type { BackendContext, KVStore, WeightTensor } from "../src/core/backend.ts";
import { type Graph, GraphBuilder, nodeInputs, type RopeParams } from "../src/core/graph.ts";
import { GGMLType, typeTraits } from "../src/gguf/ggml_types.ts";
import { assert } from "./assert.ts";
import { Rng, weightTensor } from "./conformance_util.ts";
import { test } from "./harness.ts";

const hip = createHipBackend();
const probe = await hip.probe();
const opts = { ignore: !probe.available, reason: `HIP backend unavailable: ${probe.reason}` };

const DIM = 512, FF = 768, KV = 96;
/** The first row's position (the ropes rotate by it). */
const POS0 = 37;

const ROPE: RopeParams = {
  mode: "neox",
  nRot: 64,
  freqBase: 10000,
  freqScale: 1,
  extFactor: 0,
  attnFactor: 1,
  betaFast: 32,
  betaSlow: 1,
  nCtxOrig: 4096,
};
const HEAD = 64;

/**
 * The chain's graph for T rows; its values x, r (DIM) and up (FF) are inputs. Two ropes of
 * different head counts close it, as a layer's q and k (one launch when fused).
 */
function chain(T: number): { graph: Graph; inputs: number[]; outputs: number[] } {
  const g = new GraphBuilder(T, 1);
  const x = g.value(T, DIM, "x"), r = g.value(T, DIM, "r"), up = g.value(T, FF, "up");
  const s = g.push({ op: "add", layer: 0, out: g.value(T, DIM, "s"), a: x, b: r });
  const n = g.push({
    op: "rms_norm",
    layer: 0,
    out: g.value(T, DIM, "n"),
    x: s,
    weight: "norm",
    eps: 1e-5,
  });
  const y = g.push({ op: "matmul", layer: 0, out: g.value(T, FF, "y"), x: n, weight: "w" });
  // Two more products of n (as a layer's k and v after q): one decode launch with y's.
  const yk = g.push({ op: "matmul", layer: 0, out: g.value(T, KV, "yk"), x: n, weight: "wk" });
  const yv = g.push({
    op: "matmul",
    layer: 0,
    out: g.value(T, KV, "yv"),
    x: n,
    weight: "wv",
    bias: "bv",
  });
  const h = g.push({ op: "swiglu", layer: 0, out: g.value(T, FF, "h"), gate: y, up });
  const z = g.push({ op: "matmul", layer: 0, out: g.value(T, DIM, "z"), x: h, weight: "down" });
  const rope = (src: number, cols: number, name: string) =>
    g.push({
      op: "rope",
      layer: 0,
      out: g.value(T, cols, name),
      x: src,
      nHeads: cols / HEAD,
      headDim: HEAD,
      rope: ROPE,
    });
  const qr = rope(z, DIM, "qr");
  const kr = rope(h, FF, "kr");
  return { graph: g.build(kr), inputs: [x, r, up], outputs: [s, n, y, yk, yv, h, z, qr, kr] };
}

async function run(
  ctx: BackendContext,
  graph: Graph,
  nodes: number[],
  inputs: Map<number, Float32Array>,
  outputs: number[],
  kv?: KVStore,
  pos0 = POS0,
): Promise<Map<number, Float32Array>> {
  return await ctx.compute({
    graph,
    nodes,
    kv,
    tokens: new Int32Array(graph.nTokens),
    pos0,
    inputs,
    outputs,
  });
}

/** Runs every node of `graph` as its own compute call; returns every value it made. */
async function perNode(
  ctx: BackendContext,
  graph: Graph,
  given: Map<number, Float32Array>,
  kv?: KVStore,
  pos0 = POS0,
): Promise<Map<number, Float32Array>> {
  const step = new Map(given);
  for (let i = 0; i < graph.nodes.length; i++) {
    const node = graph.nodes[i];
    const ins = new Map(nodeInputs(node).map((id) => [id, step.get(id)!] as const));
    const got = await run(ctx, graph, [i], ins, [node.out], kv, pos0);
    step.set(node.out, got.get(node.out)!);
  }
  return step;
}

/** Index of the first element whose bits differ, or -1. */
function firstDiff(a: Float32Array, b: Float32Array): number {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  if (ua.length !== ub.length) return 0;
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return i;
  return -1;
}

/** Asserts that every output has the same bits in `whole` and `step`. */
function assertSameBits(
  graph: Graph,
  outputs: number[],
  whole: Map<number, Float32Array>,
  step: Map<number, Float32Array>,
): void {
  for (const id of outputs) {
    const d = firstDiff(whole.get(id)!, step.get(id)!);
    const name = graph.values[id].name;
    assert(d < 0, `${name}[${d}]: ${whole.get(id)![d]} in one call, ${step.get(id)![d]} per node`);
  }
}

/** Seeded values for the graph's inputs `ids`. */
function inputsOf(r: Rng, graph: Graph, ids: number[]): Map<number, Float32Array> {
  return new Map(ids.map((id) => [id, r.floats(graph.values[id].rows * graph.values[id].cols, 2)]));
}

for (const type of [GGMLType.Q4_0, GGMLType.Q4_1, GGMLType.Q8_0, GGMLType.Q4_K]) {
  for (const T of [1, 3, 16]) {
    test(
      `hip fusion: ${typeTraits(type).name} T=${T} chain in one call equals one call per node`,
      async () => {
        const r = new Rng(7100 + type * 31 + T);
        const weights: WeightTensor[] = [
          weightTensor("norm", GGMLType.F32, [DIM], r.floats(DIM)),
          weightTensor("w", type, [DIM, FF], r.floats(DIM * FF, 0.5)),
          weightTensor("down", type, [FF, DIM], r.floats(FF * DIM, 0.5)),
          weightTensor("wk", type, [DIM, KV], r.floats(DIM * KV, 0.5)),
          weightTensor("wv", type, [DIM, KV], r.floats(DIM * KV, 0.5)),
          weightTensor("bv", GGMLType.F32, [KV], r.floats(KV)),
        ];
        const ctx = await hip.createContext(weights);
        try {
          const { graph, inputs, outputs } = chain(T);
          const given = inputsOf(r, graph, inputs);
          const whole = await run(ctx, graph, graph.nodes.map((_, i) => i), given, outputs);
          assertSameBits(graph, outputs, whole, await perNode(ctx, graph, given));
        } finally {
          ctx.dispose();
        }
      },
      opts,
    );
  }
}

/** rope(q), rope(k) and the attention over them for T rows (GQA 8:2, head dim 64). */
function ropeAttention(T: number): { graph: Graph; inputs: number[]; outputs: number[] } {
  const g = new GraphBuilder(T, 1);
  const q = g.value(T, 8 * HEAD, "q"), k = g.value(T, 2 * HEAD, "k");
  const v = g.value(T, 2 * HEAD, "v");
  const rope = (src: number, heads: number, name: string) =>
    g.push({
      op: "rope",
      layer: 0,
      out: g.value(T, heads * HEAD, name),
      x: src,
      nHeads: heads,
      headDim: HEAD,
      rope: ROPE,
    });
  const qr = rope(q, 8, "qr"), kr = rope(k, 2, "kr");
  const o = g.push({
    op: "attention",
    layer: 0,
    out: g.value(T, 8 * HEAD, "o"),
    q: qr,
    k: kr,
    v,
    nHead: 8,
    nHeadKV: 2,
    headDim: HEAD,
    valueDim: HEAD,
    scale: 1 / Math.sqrt(HEAD),
  });
  return { graph: g.build(o), inputs: [q, k, v], outputs: [qr, kr, o] };
}

// After a history written node by node, one step in one call and the same step node by node
// (which rewrites the same cache rows with its own K/V store) give the same bits.
for (const T of [1, 3, 16]) {
  test(
    `hip fusion: rope, rope, attention T=${T} in one call equals one call per node`,
    async () => {
      const r = new Rng(9100 + T);
      const history = 40;
      const ctx = await hip.createContext([]);
      const kv = ctx.createKV({
        layers: [0],
        capacity: history + T,
        nHeadKV: 2,
        headDim: HEAD,
        valueDim: HEAD,
      });
      try {
        const past = ropeAttention(history);
        await perNode(ctx, past.graph, inputsOf(r, past.graph, past.inputs), kv, 0);
        const { graph, inputs, outputs } = ropeAttention(T);
        const given = inputsOf(r, graph, inputs);
        const all = graph.nodes.map((_, i) => i);
        const whole = await run(ctx, graph, all, given, outputs, kv, history);
        assertSameBits(graph, outputs, whole, await perNode(ctx, graph, given, kv, history));
      } finally {
        kv.dispose();
        ctx.dispose();
      }
    },
    opts,
  );
}
