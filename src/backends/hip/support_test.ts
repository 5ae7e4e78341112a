/**
 * HIP capability edges the architectures rely on: the ops and attributes the HIP kernels
 * implement (per-group RMSNorm, RoPE frequency factors, GELU, GeGLU, scale, tanh, slice,
 * LayerNorm, position embeddings, MoE, windowed, soft-capped, sink and non-causal attention) are
 * claimed; those they do not (weights of types the kernels do not read in that
 * role, non-causal attention with a window, soft-cap or sinks, which the CPU's non-causal
 * attention lacks, and those attention variants in multi-sequence batches) are declined, so the
 * scheduler runs them on the CPU instead of running them wrongly.
 */
import { assert } from "../../../tests/assert.ts";
import { test } from "../../../tests/harness.ts";
import type { GraphNode, RopeParams } from "../../core/graph.ts";
import { GGMLType } from "../../gguf/ggml_types.ts";
import { hipSupportsOp } from "./support.ts";

const f32 = () => GGMLType.F32;
const rope: RopeParams = {
  mode: "neox",
  nRot: 64,
  freqBase: 1e6,
  freqScale: 1,
  extFactor: 0,
  attnFactor: 1,
  betaFast: 32,
  betaSlow: 1,
  nCtxOrig: 512,
};

test("hip support: per-group rms_norm and rope frequency factors run on HIP", () => {
  const norm: GraphNode = { op: "rms_norm", layer: 0, out: 1, x: 0, weight: "w", eps: 1e-6 };
  assert(hipSupportsOp(norm, f32));
  assert(hipSupportsOp({ ...norm, groupSize: 64 }, f32));
  assert(!hipSupportsOp({ ...norm, groupSize: 0 }, f32));
  const r: GraphNode = { op: "rope", layer: 0, out: 1, x: 0, nHeads: 4, headDim: 64, rope };
  assert(hipSupportsOp(r, f32));
  const withFactors: GraphNode = { ...r, freqFactors: "rope_freqs.weight" };
  assert(hipSupportsOp(withFactors, f32));
  assert(hipSupportsOp(withFactors, () => GGMLType.F16));
  // Factors of a type the rope kernel does not read stay on the CPU.
  assert(!hipSupportsOp(withFactors, () => GGMLType.BF16));
});

test("hip support: the simple ops of the newer architectures run on HIP", () => {
  const nodes: GraphNode[] = [
    { op: "gelu", layer: 0, out: 1, x: 0 },
    { op: "geglu", layer: 0, out: 2, gate: 0, up: 1 },
    { op: "scale", layer: 0, out: 1, x: 0, s: 0.5 },
    { op: "tanh", layer: 0, out: 1, x: 0 },
    { op: "slice", layer: 0, out: 1, x: 0, offset: 64 },
    { op: "layer_norm", layer: 0, out: 1, x: 0, weight: "w", eps: 1e-5 },
    { op: "layer_norm", layer: 0, out: 1, x: 0, weight: "w", bias: "b", eps: 1e-5 },
    { op: "embed", layer: -1, out: 1, weight: "pos", index: "position" },
    { op: "embed", layer: -1, out: 1, weight: "type", index: "zero" },
  ];
  for (const n of nodes) assert(hipSupportsOp(n, f32), `${n.op} runs on HIP`);
  const norm = nodes[6];
  assert(!hipSupportsOp(norm, (name) => name === "b" ? GGMLType.Q8_0 : GGMLType.F32));
});

test("hip support: windowed, soft-capped, sink and non-causal attention run on HIP", () => {
  const att: GraphNode = {
    op: "attention",
    layer: 0,
    out: 3,
    q: 0,
    k: 1,
    v: 2,
    nHead: 4,
    nHeadKV: 2,
    headDim: 64,
    valueDim: 64,
    scale: 0.125,
  };
  assert(hipSupportsOp(att, f32));
  const claimed = [
    { window: 16 },
    { softcap: 50 },
    { sinks: "s" },
    { causal: false },
    { window: 128, sinks: "s" },
    { window: 4096, softcap: 50 },
  ];
  for (const extra of claimed) {
    assert(hipSupportsOp({ ...att, ...extra }, f32), JSON.stringify(extra));
  }
  // Sinks of a type the kernels do not read; shapes no kernel takes; variants of non-causal
  // attention the CPU does not implement.
  assert(!hipSupportsOp({ ...att, sinks: "s" }, () => GGMLType.Q8_0));
  const declined = [
    { window: 0 },
    { window: 2.5 },
    { softcap: 0 },
    { softcap: Infinity },
    { causal: false, window: 16 },
    { causal: false, softcap: 50 },
    { causal: false, sinks: "s" },
  ];
  for (const extra of declined) {
    assert(!hipSupportsOp({ ...att, ...extra }, f32), JSON.stringify(extra));
  }
  // A multi-sequence batch's attention (rf_seqs.cpp) is plain causal attention only.
  assert(hipSupportsOp({ ...att, batched: true } as GraphNode, f32));
  for (const extra of claimed) {
    const n = { ...att, ...extra, batched: true } as GraphNode;
    assert(!hipSupportsOp(n, f32), `batched ${JSON.stringify(extra)}`);
  }
});

test("hip support: MoE runs on HIP (MXFP4 experts included) unless beyond the kernels' limits", () => {
  const moe: GraphNode = {
    op: "moe",
    layer: 0,
    out: 1,
    x: 0,
    router: "r",
    gate: "g",
    up: "u",
    down: "d",
    nExpert: 8,
    nUsed: 2,
    normWeights: true,
    weightsScale: 0,
  };
  for (
    const t of [
      GGMLType.F32,
      GGMLType.F16,
      GGMLType.Q8_0,
      GGMLType.Q4_0,
      GGMLType.Q4_K,
      GGMLType.MXFP4,
      GGMLType.IQ4_NL,
      GGMLType.IQ4_XS,
      GGMLType.Q3_K,
    ]
  ) {
    assert(hipSupportsOp(moe, (n) => n === "r" ? GGMLType.F32 : t), `experts of type ${t}`);
  }
  const oss: GraphNode = {
    ...moe,
    gating: "softmax_weight",
    act: "swiglu_oai",
    routerBias: "rb",
    gateBias: "gb",
    upBias: "ub",
    downBias: "db",
  };
  assert(hipSupportsOp(oss, (n) => n.endsWith("b") ? GGMLType.F32 : GGMLType.Q8_0));
  // gpt-oss's MXFP4 experts run on HIP; Q2_K experts (no HIP kernel) stay on the CPU.
  assert(hipSupportsOp(oss, (n) => ["g", "u", "d"].includes(n) ? GGMLType.MXFP4 : GGMLType.F32));
  assert(!hipSupportsOp(oss, (n) => ["g", "u", "d"].includes(n) ? GGMLType.Q2_K : GGMLType.F32));
  // The bias kernels read F32 only.
  assert(!hipSupportsOp(oss, (n) => n === "gb" ? GGMLType.F16 : GGMLType.F32));
  for (const bad of [{ nExpert: 257, nUsed: 2 }, { nUsed: 17, nExpert: 32 }, { nUsed: 9 }]) {
    assert(!hipSupportsOp({ ...moe, ...bad } as GraphNode, f32), JSON.stringify(bad));
  }
});

test("hip support: nodes of a multi-sequence batch run on HIP (sequence table, rf_seqs.cpp)", () => {
  const nodes: GraphNode[] = [
    { op: "embed", layer: -1, out: 1, weight: "tok" },
    { op: "rope", layer: 0, out: 1, x: 0, nHeads: 4, headDim: 64, rope },
    {
      op: "attention",
      layer: 0,
      out: 3,
      q: 0,
      k: 1,
      v: 2,
      nHead: 4,
      nHeadKV: 2,
      headDim: 64,
      valueDim: 64,
      scale: 0.125,
    },
    { op: "last_row", layer: 1, out: 1, x: 0 },
  ];
  for (const n of nodes) {
    assert(hipSupportsOp(n, f32), `${n.op} runs on HIP`);
    assert(hipSupportsOp({ ...n, batched: true } as GraphNode, f32), `batched ${n.op} runs on HIP`);
  }
});
