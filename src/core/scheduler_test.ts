/**
 * Scheduler tests on a toy graph with two fake backends: node assignment by priority and
 * capability, segments and the values that cross them, execution, and the errors.
 */
import { assert, assertEquals, assertRejects, assertThrows } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { GGMLType } from "../gguf/ggml_types.ts";
import type { Backend, BackendContext, ComputeRequest, KVStore } from "./backend.ts";
import { BackendError } from "./errors.ts";
import { type Graph, GraphBuilder, type GraphNode, type OpKind } from "./graph.ts";
import { assignNodes, describePlan, planSegments, runPlan } from "./scheduler.ts";

/** A fake backend that runs a few ops with toy semantics; its context records requests. */
function fake(name: string, ops: OpKind[], matmulTypes: GGMLType[] = []) {
  const requests: ComputeRequest[] = [];
  const context: BackendContext = {
    backend: name,
    weightBytes: 0,
    has: () => true,
    createKV: (spec) => ({ backend: name, spec, bytes: 0, dispose() {} }),
    compute(req) {
      requests.push(req);
      const vals = new Map(req.inputs);
      for (const i of req.nodes) {
        const n = req.graph.nodes[i];
        const o = req.graph.values[n.out];
        const out = new Float32Array(o.rows * o.cols);
        const get = (v: number) => {
          const a = vals.get(v);
          if (!a) throw new Error(`${name}: value ${v} missing for node ${i}`);
          return a;
        };
        switch (n.op) {
          case "embed":
            for (let t = 0; t < o.rows; t++) {
              for (let j = 0; j < o.cols; j++) out[t * o.cols + j] = req.tokens[t] + j;
            }
            break;
          case "add": {
            const a = get(n.a), b = get(n.b);
            out.forEach((_, k) => (out[k] = a[k] + b[k]));
            break;
          }
          case "swiglu": {
            const g = get(n.gate), u = get(n.up);
            out.forEach((_, k) => (out[k] = g[k] * u[k]));
            break;
          }
          case "matmul": {
            const x = get(n.x);
            out.forEach((_, k) => (out[k] = 10 * x[k]));
            break;
          }
          case "last_row": {
            const x = get(n.x);
            out.set(x.subarray(x.length - o.cols));
            break;
          }
          default:
            throw new Error(`${name} cannot run ${n.op}`);
        }
        vals.set(n.out, out);
      }
      return Promise.resolve(new Map(req.outputs.map((v) => [v, vals.get(v)!] as const)));
    },
    dispose() {},
  };
  const backend: Backend = {
    apiVersion: 2,
    name,
    probe: () => Promise.resolve({ available: true, devices: [] }),
    supportsOp(node: GraphNode, weightType) {
      if (!ops.includes(node.op)) return false;
      if (node.op !== "matmul") return true;
      const t = weightType(node.weight);
      return t !== undefined && matmulTypes.includes(t);
    },
    createContext: () => Promise.resolve(context),
    dispose() {},
  };
  return { backend, context, requests };
}

/**
 * v0 = embed; v1 = v0 + v0; v2 = swiglu(v1, v0); v3 = v2 + v1 (layer 0); v4 = last_row(v3).
 */
function toyGraph(): Graph {
  const b = new GraphBuilder(2, 1);
  const v0 = b.push({ op: "embed", layer: -1, out: b.value(2, 4, "v0"), weight: "tok" });
  const v1 = b.push({ op: "add", layer: 0, out: b.value(2, 4, "v1"), a: v0, b: v0 });
  const v2 = b.push({ op: "swiglu", layer: 0, out: b.value(2, 4, "v2"), gate: v1, up: v0 });
  const v3 = b.push({ op: "add", layer: 0, out: b.value(2, 4, "v3"), a: v2, b: v1 });
  const v4 = b.push({ op: "last_row", layer: 1, out: b.value(1, 4, "v4"), x: v3 });
  return b.build(v4);
}

const noTypes = () => undefined;

test("scheduler: each node goes to the first candidate that supports it", () => {
  const a = fake("a", ["embed", "add"]).backend;
  const b = fake("b", ["swiglu", "last_row", "add"]).backend;
  const g = toyGraph();
  assertEquals(assignNodes(g, () => [a, b], noTypes).map((x) => x.name), [
    "a",
    "a",
    "b",
    "a",
    "b",
  ]);
  // Priority order is the caller's, per node.
  assertEquals(
    assignNodes(g, (n) => (n.layer === 0 ? [b, a] : [a, b]), noTypes).map((x) => x.name),
    ["a", "b", "b", "b", "b"],
  );
});

test("scheduler: supportsOp sees weight types", () => {
  const a = fake("a", ["matmul"], [GGMLType.F32]).backend;
  const b = fake("b", ["matmul"], [GGMLType.F32, GGMLType.Q4_0]).backend;
  const gb = new GraphBuilder(1, 1);
  const x = gb.value(1, 2, "x");
  gb.push({ op: "matmul", layer: 0, out: gb.value(1, 2, "y"), x, weight: "w" });
  const g = gb.build(1);
  const typeOf = (t: GGMLType) => (n: string) => (n === "w" ? t : undefined);
  assertEquals(assignNodes(g, () => [a, b], typeOf(GGMLType.F32))[0], a);
  assertEquals(assignNodes(g, () => [a, b], typeOf(GGMLType.Q4_0))[0], b);
});

test("scheduler: no supporting backend is BACKEND_UNSUPPORTED_OP with the facts", () => {
  const a = fake("a", ["embed", "add"]).backend;
  const c = fake("c", ["embed"]).backend;
  assertThrows(
    () => assignNodes(toyGraph(), () => [a, c], noTypes),
    (e: unknown) =>
      e instanceof BackendError && e.code === "BACKEND_UNSUPPORTED_OP" &&
      e.facts.actual === "swiglu" && e.facts.expected === "a, c" &&
      e.message.includes("layer 0"),
  );
});

test("scheduler: segments group consecutive nodes and list the values crossing them", () => {
  const a = fake("a", ["embed", "add"]).backend;
  const b = fake("b", ["swiglu", "last_row"]).backend;
  const g = toyGraph();
  const plan = planSegments(g, assignNodes(g, () => [a, b], noTypes));
  assertEquals(
    plan.segments.map((s) => ({
      backend: s.backend.name,
      nodes: s.nodes,
      inputs: s.inputs,
      outputs: s.outputs,
    })),
    [
      { backend: "a", nodes: [0, 1], inputs: [], outputs: [1, 0] },
      { backend: "b", nodes: [2], inputs: [1, 0], outputs: [2] },
      { backend: "a", nodes: [3], inputs: [2, 1], outputs: [3] },
      { backend: "b", nodes: [4], inputs: [3], outputs: [4] },
    ],
  );
  assertEquals(
    describePlan(plan),
    "a: 2 ops, layers -1..0; b: 1 ops, layers 0..0; a: 1 ops, layers 0..0; b: 1 ops, layers 1..1",
  );
  // One backend for everything: one segment whose only output is the graph's.
  const all = fake("all", ["embed", "add", "swiglu", "last_row"]).backend;
  const one = planSegments(g, g.nodes.map(() => all));
  assertEquals(one.segments.length, 1);
  assertEquals([one.segments[0].inputs, one.segments[0].outputs], [[], [4]]);
});

test("scheduler: runPlan passes activations across backends and returns the output", async () => {
  const fa = fake("a", ["embed", "add"]);
  const fb = fake("b", ["swiglu", "last_row"]);
  const g = toyGraph();
  const plan = planSegments(g, assignNodes(g, () => [fa.backend, fb.backend], noTypes));
  const kvb: KVStore = fb.context.createKV({
    layers: [0],
    capacity: 16,
    nHeadKV: 1,
    headDim: 1,
    valueDim: 1,
  });
  const out = await runPlan(plan, {
    contexts: new Map([[fa.backend, fa.context], [fb.backend, fb.context]]),
    kv: new Map([[fb.backend, kvb]]),
    tokens: Int32Array.of(3, 5),
    pos0: 7,
  });
  // Last row: v0 = 5 + j; v3 = 2 v0^2 + 2 v0.
  assertEquals(Array.from(out), [0, 1, 2, 3].map((j) => 2 * (5 + j) ** 2 + 2 * (5 + j)));
  assertEquals(fa.requests.length, 2);
  assertEquals(fb.requests.length, 2);
  for (const r of [...fa.requests, ...fb.requests]) {
    assertEquals([r.pos0, Array.from(r.tokens)], [7, [3, 5]]);
  }
  assert(fa.requests.every((r) => r.kv === undefined));
  assert(fb.requests.every((r) => r.kv === kvb));
  // Each call gets exactly the values its segment reads, no more.
  assertEquals(fa.requests.map((r) => [...r.inputs.keys()]), [[], [2, 1]]);
  assertEquals(fb.requests.map((r) => [...r.inputs.keys()]), [[1, 0], [3]]);
});

test("scheduler: runPlan errors are typed", async () => {
  const fa = fake("a", ["embed", "add", "swiglu", "last_row"]);
  const g = toyGraph();
  const plan = planSegments(g, g.nodes.map(() => fa.backend));
  const ctx = { kv: new Map(), tokens: Int32Array.of(1, 2), pos0: 0 };
  await assertRejects(
    () => runPlan(plan, { ...ctx, contexts: new Map() }),
    (e: unknown) => e instanceof BackendError && e.code === "BACKEND_CALL_FAILED",
  );
  const lazy: BackendContext = { ...fa.context, compute: () => Promise.resolve(new Map()) };
  await assertRejects(
    () => runPlan(plan, { ...ctx, contexts: new Map([[fa.backend, lazy]]) }),
    (e: unknown) =>
      e instanceof BackendError && e.code === "BACKEND_CALL_FAILED" &&
      /output was not produced/.test(e.message),
  );
});

test("scheduler: runPlan checks token count and KV capacity once, before any backend runs", async () => {
  const fa = fake("a", ["embed", "add", "swiglu", "last_row"]);
  const g = toyGraph();
  const plan = planSegments(g, g.nodes.map(() => fa.backend));
  const kv = fa.context.createKV({ layers: [0], capacity: 4, nHeadKV: 1, headDim: 1, valueDim: 1 });
  const run = (tokens: Int32Array, pos0: number) =>
    runPlan(plan, {
      contexts: new Map([[fa.backend, fa.context]]),
      kv: new Map([[fa.backend, kv]]),
      tokens,
      pos0,
    });
  await assertRejects(
    () => run(Int32Array.of(1), 0),
    (e: unknown) =>
      e instanceof BackendError && e.facts.expected === 2 && e.facts.actual === 1 &&
      /token count/.test(e.message),
  );
  await assertRejects(
    () => run(Int32Array.of(1, 2), 3),
    (e: unknown) =>
      e instanceof BackendError && /KV cache overflow/.test(e.message) &&
      e.facts.expected === 4 && e.facts.actual === 5,
  );
  assertEquals(fa.requests.length, 0);
  await run(Int32Array.of(1, 2), 2); // positions 2 and 3: the last two cells
  assertEquals(fa.requests.length, 1);
});
