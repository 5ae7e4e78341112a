import { InvalidArgumentError } from "../../core/errors.ts";
import { type Graph, GraphBuilder } from "../../core/graph.ts";
import { GGMLType } from "../../gguf/ggml_types.ts";
import { assert, assertEquals, assertStrictEquals, assertThrows } from "../../../tests/assert.ts";
import { test } from "../../../tests/harness.ts";
import { RfOp, SLOT_BYTES } from "./ffi/symbols.ts";
import { floatBits } from "../../core/op_schema.ts";
import { compileSegment, type WeightRef } from "./program.ts";
import { packInputs, unpackOutputs } from "./program_io.ts";

const WEIGHTS: Record<string, WeightRef> = {
  emb: { slot: 0, type: GGMLType.Q8_0, dims: [64, 100] },
  norm: { slot: 40, type: GGMLType.F32, dims: [64] },
  up: { slot: 41, type: GGMLType.Q4_K, dims: [64, 256] },
};
const weight = (n: string) => {
  const w = WEIGHTS[n];
  if (!w) throw new Error(`no weight ${n}`);
  return w;
};

/** embed -> rms_norm -> matmul -> add(norm, norm) chain over T tokens. */
function chain(t: number): { g: Graph; ids: number[] } {
  const b = new GraphBuilder(t, 1);
  const e = b.push({ op: "embed", layer: -1, out: b.value(t, 64, "e"), weight: "emb" });
  const n = b.push({
    op: "rms_norm",
    layer: 0,
    out: b.value(t, 64, "n"),
    x: e,
    weight: "norm",
    eps: 1e-6,
  });
  const m = b.push({ op: "matmul", layer: 0, out: b.value(t, 256, "m"), x: n, weight: "up" });
  const s = b.push({ op: "add", layer: 0, out: b.value(t, 64, "s"), a: n, b: n });
  const l = b.push({ op: "last_row", layer: 1, out: b.value(1, 256, "l"), x: m });
  return { g: b.build(l), ids: [e, n, m, s, l] };
}

test("compileSegment emits each op with its operands, floats as bits, downloads last", () => {
  const { g, ids } = chain(3);
  const p = compileSegment(g, [0, 1, 2, 3, 4], [ids[3], ids[4]], weight, () => 0);
  const w = [...p.words];
  assertStrictEquals(w[0], RfOp.EMBED);
  assertEquals(w.slice(2, 8), [0, 3, 0, GGMLType.Q8_0, 64, 100]); // tokens at slot 0
  const norm = w.indexOf(RfOp.RMS_NORM, 8);
  assertEquals(w.slice(norm + 3, norm + 8), [3, 64, 40, GGMLType.F32, floatBits(1e-6)]);
  const mm = w.indexOf(RfOp.MATMUL, norm + 8);
  assertEquals(w.slice(mm + 3, mm + 10), [3, 64, 256, 41, GGMLType.Q4_K, -1, 0]);
  assertStrictEquals(p.tokenOffset, 0);
  assertStrictEquals(p.nTokens, 3);
  assertStrictEquals(p.inBytes, SLOT_BYTES);
  assertEquals([...p.outputOffsets.keys()].sort(), [ids[3], ids[4]].sort());
  assertStrictEquals(p.outBytes, (3 * 64 + 256) * 4);
  assert(!p.usesKV);
});

test("compileSegment reuses scratch of dead values", () => {
  const t = 64;
  const b = new GraphBuilder(t, 1);
  let x = b.push({ op: "embed", layer: -1, out: b.value(t, 64, "e"), weight: "emb" });
  for (let i = 0; i < 10; i++) {
    x = b.push({
      op: "rms_norm",
      layer: i,
      out: b.value(t, 64, `n${i}`),
      x,
      weight: "norm",
      eps: 1e-5,
    });
  }
  const g = b.build(x);
  const p = compileSegment(g, g.nodes.map((_, i) => i), [x], weight, () => 0);
  const valueBytes = t * 64 * 4;
  // Tokens + at most two live values, though eleven values exist.
  assert(p.scratchBytes <= SLOT_BYTES + 2 * valueBytes, `scratch ${p.scratchBytes}`);
});

test("packInputs places external values and tokens; unpackOutputs splits the output", () => {
  const b = new GraphBuilder(2, 1);
  const inp = b.value(2, 64, "in");
  const s = b.push({ op: "add", layer: 0, out: b.value(2, 64, "s"), a: inp, b: inp });
  const g = b.build(s);
  const p = compileSegment(g, [0], [s], weight, () => 0);
  assertStrictEquals(p.tokenOffset, -1);
  assertStrictEquals(p.inputOffsets.get(inp), 0);
  const data = Float32Array.from({ length: 128 }, (_, i) => i + 0.5);
  const buf = packInputs(p, g, new Int32Array(2), new Map([[inp, data]]));
  assertEquals(new Float32Array(buf.buffer, 0, 128), data);
  const hostOut = new Uint8Array(p.outBytes);
  new Float32Array(hostOut.buffer).set(data);
  assertEquals(unpackOutputs(p, hostOut).get(s), data);
  assertThrows(
    () => packInputs(p, g, new Int32Array(2), new Map([[inp, new Float32Array(3)]])),
    InvalidArgumentError,
  );
});

test("compileSegment rejects a weight whose rows do not match the input", () => {
  const b = new GraphBuilder(1, 1);
  const inp = b.value(1, 32, "in");
  const m = b.push({ op: "matmul", layer: 0, out: b.value(1, 256, "m"), x: inp, weight: "up" });
  const g = b.build(m);
  assertThrows(() => compileSegment(g, [0], [m], weight, () => 0), InvalidArgumentError);
});

test("compileSegment maps attention layers through the KV lookup", () => {
  const b = new GraphBuilder(2, 8);
  const q = b.value(2, 128, "q");
  const k = b.value(2, 64, "k");
  const v = b.value(2, 64, "v");
  const o = b.push({
    op: "attention",
    layer: 5,
    out: b.value(2, 128, "o"),
    q,
    k,
    v,
    nHead: 2,
    nHeadKV: 1,
    headDim: 64,
    valueDim: 64,
    scale: 0.125,
  });
  const g = b.build(o);
  const p = compileSegment(g, [0], [o], weight, (layer) => layer * 10);
  const w = [...p.words];
  assertStrictEquals(w[0], RfOp.ATTENTION);
  assertEquals(w.slice(5, 12), [2, 50, 2, 1, 64, 64, floatBits(0.125)]);
  // No window, soft-cap or sinks; causal.
  assertEquals(w.slice(12, 17), [0, floatBits(0), -1, 0, 1]);
  assert(p.usesKV);
});

test("compileSegment encodes windows, soft-caps, sinks and non-causal attention", () => {
  const sinks: WeightRef = { slot: 7, type: GGMLType.F32, dims: [2] };
  const attention = (extra: Record<string, unknown>) => {
    const b = new GraphBuilder(2, 8);
    const q = b.value(2, 128, "q");
    const k = b.value(2, 64, "k");
    const v = b.value(2, 64, "v");
    const o = b.push({
      op: "attention",
      layer: 1,
      out: b.value(2, 128, "o"),
      q,
      k,
      v,
      nHead: 2,
      nHeadKV: 1,
      headDim: 64,
      valueDim: 64,
      scale: 1,
      ...extra,
    });
    return compileSegment(b.build(o), [0], [o], () => sinks, (layer) => layer + 3);
  };
  const p = attention({ window: 128, softcap: 50, sinks: "blk.1.attn_sinks.weight" });
  assertEquals([...p.words].slice(6, 7), [4]);
  assertEquals([...p.words].slice(12, 17), [128, floatBits(50), 7, GGMLType.F32, 1]);
  assert(p.usesKV);
  // A non-causal pass reads no KV cache.
  const enc = attention({ causal: false });
  assertEquals([...enc.words].slice(6, 7), [-1]);
  assertEquals([...enc.words].slice(12, 17), [0, floatBits(0), -1, 0, 0]);
  assert(!enc.usesKV);
  // Sinks of another length, a window on non-causal attention, a negative soft-cap.
  assertThrows(() => attention({ sinks: "s", nHead: 4 }), InvalidArgumentError);
  assertThrows(() => attention({ causal: false, window: 16 }), InvalidArgumentError);
  assertThrows(() => attention({ softcap: -1 }), InvalidArgumentError);
});

test("compileSegment encodes per-group norms, rope factors, slices and LayerNorm bias", () => {
  const t = 2;
  const ws: Record<string, WeightRef> = {
    qn: { slot: 0, type: GGMLType.F32, dims: [16] },
    ff: { slot: 1, type: GGMLType.F32, dims: [8] },
    ln: { slot: 2, type: GGMLType.F16, dims: [48] },
    lb: { slot: 3, type: GGMLType.F32, dims: [48] },
  };
  const b = new GraphBuilder(t, 1);
  const x = b.value(t, 64, "x");
  const n = b.push({
    op: "rms_norm",
    layer: 0,
    out: b.value(t, 64, "n"),
    x,
    weight: "qn",
    eps: 1e-6,
    groupSize: 16,
  });
  const rope = {
    mode: "neox" as const,
    nRot: 16,
    freqBase: 1e4,
    freqScale: 1,
    extFactor: 0,
    attnFactor: 1,
    betaFast: 32,
    betaSlow: 1,
    nCtxOrig: 512,
  };
  const r = b.push({
    op: "rope",
    layer: 0,
    out: b.value(t, 64, "r"),
    x: n,
    nHeads: 4,
    headDim: 16,
    rope,
    freqFactors: "ff",
  });
  const s = b.push({ op: "slice", layer: 0, out: b.value(t, 48, "s"), x: r, offset: 16 });
  const l = b.push({
    op: "layer_norm",
    layer: 0,
    out: b.value(t, 48, "l"),
    x: s,
    weight: "ln",
    bias: "lb",
    eps: 1e-5,
  });
  const g = b.build(l);
  const p = compileSegment(g, [0, 1, 2, 3], [l], (name) => ws[name], () => 0);
  const w = [...p.words];
  assertStrictEquals(w[0], RfOp.RMS_NORM);
  assertEquals(w.slice(3, 7), [8, 16, 0, GGMLType.F32]); // 2 rows of 4 groups of 16
  const ro = w.indexOf(RfOp.ROPE, 8);
  assertEquals(w.slice(ro + 15, ro + 18), [1, GGMLType.F32, 8]); // factors slot, type, nFreq
  const sl = w.indexOf(RfOp.SLICE, ro + 18);
  assertEquals(w.slice(sl + 3, sl + 7), [t, 48, 64, 16]);
  const ln = w.indexOf(RfOp.LAYER_NORM, sl + 7);
  assertEquals(w.slice(ln + 3, ln + 10), [
    t,
    48,
    2,
    GGMLType.F16,
    3,
    GGMLType.F32,
    floatBits(1e-5),
  ]);
  // A rope without factors encodes none; a factor vector of the wrong length is refused.
  const b2 = new GraphBuilder(t, 1);
  const x2 = b2.value(t, 64, "x");
  const r2 = b2.push({
    op: "rope",
    layer: 0,
    out: b2.value(t, 64, "r"),
    x: x2,
    nHeads: 4,
    headDim: 16,
    rope,
  });
  const p2 = compileSegment(b2.build(r2), [0], [r2], (name) => ws[name], () => 0);
  assertEquals([...p2.words].slice(15, 18), [-1, 0, 8]);
  const wrong: Record<string, WeightRef> = {
    ...ws,
    ff: { slot: 1, type: GGMLType.F32, dims: [16] },
  };
  assertThrows(
    () => compileSegment(g, [0, 1, 2, 3], [l], (name) => wrong[name], () => 0),
    InvalidArgumentError,
  );
});
