/**
 * HIP capability edges the architectures rely on: ops whose attributes the HIP kernels do not
 * implement (per-group RMSNorm, RoPE frequency factors, multi-sequence rows) are declined, so
 * the scheduler runs them on the CPU instead of running them wrongly.
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

test("hip support: per-group rms_norm and rope frequency factors fall back to the CPU", () => {
  const norm: GraphNode = { op: "rms_norm", layer: 0, out: 1, x: 0, weight: "w", eps: 1e-6 };
  assert(hipSupportsOp(norm, f32));
  assert(!hipSupportsOp({ ...norm, groupSize: 64 }, f32));
  const r: GraphNode = { op: "rope", layer: 0, out: 1, x: 0, nHeads: 4, headDim: 64, rope };
  assert(hipSupportsOp(r, f32));
  assert(!hipSupportsOp({ ...r, freqFactors: "rope_freqs.weight" }, f32));
});

test("hip support: nodes of a multi-sequence batch fall back to the CPU", () => {
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
    assert(!hipSupportsOp({ ...n, batched: true } as GraphNode, f32), `batched ${n.op} declined`);
  }
});
