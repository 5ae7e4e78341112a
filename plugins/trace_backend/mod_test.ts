/**
 * Tests of the trace backend plugin on stories260K: registration by priority, the scheduler
 * routing declined ops to the CPU (plan segments and recorded op counts), partial placement
 * under a small memory budget, and greedy output identical to the CPU alone.
 */
import {
  type Backend,
  BackendError,
  builtinArchitectures,
  createCpuBackend,
  generate,
  InvalidArgumentError,
  Model,
  type OpKind,
  PluginError,
  PluginRegistry,
  Session,
} from "../../mod.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "../../tests/shared_data.ts";
import { createTraceBackend } from "./mod.ts";

const shared = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };
const MODEL = sharedPath("models", "stories260K.gguf");
const PROMPT = "Once upon a time";

async function greedy(model: Model, n: number): Promise<number[]> {
  const session = new Session(model);
  const it = generate(session, PROMPT, { maxTokens: n, ignoreEos: true });
  let r = await it.next();
  while (!r.done) r = await it.next();
  session.dispose();
  return r.value.tokens;
}

/** Nodes of each op kind that a backend runs in a plan. */
function planOps(model: Model, nTokens: number, backend: Backend): Map<string, number> {
  const plan = model.plan(nTokens, "last");
  const m = new Map<string, number>();
  for (const s of plan.segments) {
    if (s.backend !== backend) continue;
    for (const i of s.nodes) {
      const op = plan.graph.nodes[i].op;
      m.set(op, (m.get(op) ?? 0) + 1);
    }
  }
  return m;
}

test("trace: registers above the CPU and validates its name", () => {
  const cpu = createCpuBackend();
  const trace = createTraceBackend(cpu, { decline: ["attention"] });
  const r = new PluginRegistry();
  r.registerBackend(cpu);
  r.registerBackend(trace);
  assertEquals(r.backends().map((b) => b.name), ["trace", "cpu"]);
  assertThrows(() => r.registerBackend(createTraceBackend(cpu)), PluginError);
  assertThrows(() => createTraceBackend(cpu, { name: "cpu" }), InvalidArgumentError);
  assertThrows(() => r.registerBackend(createTraceBackend(cpu, { name: "Trace!" })), PluginError);
});

test(
  "trace: declined ops run on the CPU; greedy output is identical to the CPU alone",
  async () => {
    const cpu = createCpuBackend();
    const trace = createTraceBackend(cpu, { decline: ["attention"] });
    const r = new PluginRegistry();
    r.registerBackend(cpu);
    r.registerBackend(trace);
    const log: string[] = [];
    const model = await Model.load(MODEL, {
      architectures: builtinArchitectures,
      backends: r.backends(),
      log: (l) => log.push(l),
    });
    const ref = await Model.load(MODEL, { architectures: builtinArchitectures, backends: [cpu] });
    try {
      const nLayers = model.config.blockCount;
      // Segments alternate: trace runs everything up to each layer's attention, the CPU runs
      // the attention (reading q, k, v from the trace segment and returning its output).
      const plan = model.plan(3, "last");
      assertEquals(plan.segments.map((s) => s.backend.name), [
        "trace",
        ...Array.from({ length: nLayers }, () => ["cpu", "trace"]).flat(),
      ]);
      for (const s of plan.segments.filter((s) => s.backend === cpu)) {
        assertEquals(s.nodes.length, 1);
        const node = plan.graph.nodes[s.nodes[0]];
        assert(node.op === "attention");
        assertEquals(s.inputs.toSorted(), [node.q, node.k, node.v].toSorted());
        assertEquals(s.outputs, [node.out]);
      }
      assertEquals(plan.segments.at(-1)!.outputs, [plan.graph.output]);
      assert(log.some((l) => /ops ran on cpu \(unsupported on device\)/.test(l)), log.join("\n"));
      // The CPU holds every layer's KV cache; the trace backend holds none.
      assertEquals(model.kvLayers().get(cpu), [0, 1, 2, 3, 4].slice(0, nLayers));
      assertEquals(model.kvLayers().get(trace), undefined);

      // Op counts of one prompt evaluation match the plan exactly.
      const prompt = model.tokenizer.encode(PROMPT, { addSpecial: true });
      trace.resetStats();
      const session = new Session(model);
      await session.eval(prompt);
      session.dispose();
      const st = trace.stats();
      assertEquals(st.kvCaches, 0);
      const want = planOps(model, prompt.length, trace);
      const got = new Map(Object.entries(st.ops).map(([k, v]) => [k, v!.count]));
      assertEquals(got, want);
      assertEquals(st.ops.attention, undefined);
      assertEquals(st.ops.matmul!.count, 7 * nLayers + 1);
      assertEquals(st.calls, nLayers + 1);
      assertEquals(st.tokens, (nLayers + 1) * prompt.length);
      assert(Object.values(st.ops).every((s) => s!.ms >= 0));
      assert(trace.report().startsWith(`trace: ${nLayers + 1} calls`), trace.report());

      const n = 24;
      const mine = await greedy(model, n);
      assertEquals(mine, await greedy(ref, n));
      assertEquals(mine.length, n);
    } finally {
      model.dispose();
      ref.dispose();
    }
  },
  shared,
);

test("trace: with no declines it runs every op and holds the KV cache", async () => {
  const cpu = createCpuBackend();
  const trace = createTraceBackend(cpu);
  const model = await Model.load(MODEL, {
    architectures: builtinArchitectures,
    backends: [trace, cpu],
  });
  const ref = await Model.load(MODEL, { architectures: builtinArchitectures, backends: [cpu] });
  try {
    assertEquals(model.plan(1, "last").segments.map((s) => s.backend.name), ["trace"]);
    assertEquals(model.contexts.get(cpu), undefined);
    assertEquals(await greedy(model, 16), await greedy(ref, 16));
    const st = trace.stats();
    assertEquals(st.kvCaches, 1);
    assertEquals(st.weightLoads, 1);
    assert(st.weightBytes > 0);
    assert(st.ops.attention!.count > 0);
  } finally {
    model.dispose();
    ref.dispose();
  }
}, shared);

test("trace: a small memory budget places the output end on it, the rest on the CPU", async () => {
  const cpu = createCpuBackend();
  const MiB = 1024 * 1024;
  const trace = createTraceBackend(cpu, { freeMemory: 100 * MiB + 1.8 * MiB });
  const log: string[] = [];
  const model = await Model.load(MODEL, {
    architectures: builtinArchitectures,
    backends: [trace, cpu],
    log: (l) => log.push(l),
  });
  const ref = await Model.load(MODEL, { architectures: builtinArchitectures, backends: [cpu] });
  try {
    const plan = model.plan(1, "last");
    const layersOf = (b: Backend) =>
      plan.segments.filter((s) => s.backend === b).flatMap((s) =>
        s.nodes.map((i) => plan.graph.nodes[i].layer)
      );
    const onTrace = layersOf(trace), onCpu = layersOf(cpu);
    assert(onTrace.length > 0 && onCpu.length > 0, model.placement);
    assert(Math.min(...onTrace) > Math.max(...onCpu), "placed from the output end down");
    assert(onTrace.includes(model.config.blockCount), "the output head is on the device");
    assertEquals(plan.segments.map((s) => s.backend.name), ["cpu", "trace"]);
    assert(
      /^trace: layers? [0-9–]+, output \(.*\) · cpu: input, layers? [0-9–]+$/.test(model.placement),
      model.placement,
    );
    assertEquals(log, [`rocmforge: ${model.placement}`]);
    assertEquals(await greedy(model, 16), await greedy(ref, 16));
  } finally {
    model.dispose();
    ref.dispose();
  }
}, shared);

test("trace: refuses declined ops, foreign KV caches and use after dispose", async () => {
  const cpu = createCpuBackend();
  const trace = createTraceBackend(cpu, { decline: ["attention" as OpKind] });
  const context = await trace.createContext([]);
  const graph = {
    version: 1,
    nTokens: 1,
    nLayers: 1,
    values: [0, 1, 2, 3].map((id) => ({ id, rows: 1, cols: 8, name: `v${id}` })),
    nodes: [{
      op: "attention" as const,
      layer: 0,
      out: 3,
      q: 0,
      k: 1,
      v: 2,
      nHead: 1,
      nHeadKV: 1,
      headDim: 8,
      valueDim: 8,
      scale: 1,
    }],
    output: 3,
  };
  const req = {
    graph,
    nodes: [0],
    tokens: Int32Array.of(0),
    pos0: 0,
    inputs: new Map([0, 1, 2].map((v) => [v, new Float32Array(8)] as const)),
    outputs: [3],
  };
  const unsupported = (e: unknown) =>
    e instanceof BackendError && e.code === "BACKEND_UNSUPPORTED_OP" &&
    e.facts.actual === "attention";
  await assertRejects(() => context.compute(req), unsupported);
  const spec = { layers: [0], capacity: 1, nHeadKV: 1, headDim: 8, valueDim: 8 };
  const foreign = (await cpu.createContext([])).createKV(spec);
  await assertRejects(
    () => context.compute({ ...req, kv: foreign }),
    (e: unknown) => e instanceof BackendError && e.code === "BACKEND_CALL_FAILED",
  );
  trace.dispose();
  await assertRejects(
    () => context.compute(req),
    (e: unknown) => e instanceof BackendError && e.code === "BACKEND_DISPOSED",
  );
  assertThrows(() => context.createKV(spec));
});
