/**
 * WebGPU ops the shared conformance suite (tests/conformance_test.ts) does not cover, against
 * the CPU reference on seeded random inputs: GeGLU and GELU (ggml's half table), scale,
 * tanh, slice, per-group RMSNorm, position and fixed-row embedding lookups, RoPE with
 * frequency factors; and which ops the backend declines (they run on the CPU).
 *
 * @module
 */
import type { GraphNode, RopeParams } from "../src/core/graph.ts";
import { GGMLType } from "../src/gguf/ggml_types.ts";
import { assert } from "./assert.ts";
import { normalizedError, type OpCase, Rng, runCase, weightTensor } from "./conformance_util.ts";
import { test } from "./harness.ts";
import { adapterOpts as opts, cpu, webgpu } from "./webgpu_setup.ts";

/** Runs `c` on both backends; every output within `tol` of the CPU's. */
async function agree(name: string, c: OpCase, tol: number): Promise<void> {
  const got = await runCase(webgpu, c);
  const want = await runCase(cpu, c);
  got.forEach((g, i) => {
    const err = normalizedError(g, want[i]);
    assert(err <= tol, `${name} step ${i}: error ${err} > ${tol}`);
  });
}

/** A one-step case of `node` over inputs of [rows, cols]. */
function unary(
  rows: number,
  cols: number,
  outCols: number,
  make: (x: number, out: number) => GraphNode,
  seed: number,
  weights: OpCase["weights"] = [],
  two = false,
): OpCase {
  const r = new Rng(seed);
  const a = r.floats(rows * cols, 4);
  const b = r.floats(rows * cols, 2);
  return {
    weights,
    steps: [{
      nTokens: rows,
      pos0: 5,
      tokens: Int32Array.from({ length: rows }, () => r.int(8)),
      build: (g, input) => {
        const x = input(rows, cols, a);
        const y = two ? input(rows, cols, b) : x;
        const node = make(x, g.value(rows, outCols, "y"));
        return node.op === "geglu" ? { ...node, up: y } : node;
      },
    }],
  };
}

test("webgpu ops: GeGLU and GELU through ggml's half table", async () => {
  for (const [rows, cols] of [[1, 67], [5, 300]]) {
    await agree(
      "geglu",
      unary(
        rows,
        cols,
        cols,
        (x, out) => ({ op: "geglu", layer: 0, gate: x, up: x, out }),
        3,
        [],
        true,
      ),
      1e-6,
    );
    await agree(
      "gelu",
      unary(rows, cols, cols, (x, out) => ({ op: "gelu", layer: 0, x, out }), 4),
      1e-6,
    );
  }
}, opts);

test("webgpu ops: scale, tanh and slice", async () => {
  await agree(
    "scale",
    unary(3, 70, 70, (x, out) => ({ op: "scale", layer: 0, x, s: 0.125, out }), 5),
    0,
  );
  await agree("tanh", unary(3, 70, 70, (x, out) => ({ op: "tanh", layer: 0, x, out }), 6), 1e-6);
  await agree(
    "slice",
    unary(4, 96, 32, (x, out) => ({ op: "slice", layer: 0, x, offset: 40, out }), 7),
    0,
  );
}, opts);

test("webgpu ops: per-group RMSNorm (Qwen3's q/k norm)", async () => {
  const r = new Rng(8);
  await agree(
    "rms_norm groupSize=32",
    unary(
      3,
      128,
      128,
      (x, out) => ({ op: "rms_norm", layer: 0, x, out, weight: "n", eps: 1e-6, groupSize: 32 }),
      9,
      [weightTensor("n", GGMLType.F32, [32], r.floats(32))],
    ),
    1e-5,
  );
}, opts);

test("webgpu ops: position and fixed-row embedding lookups", async () => {
  const r = new Rng(10);
  for (const index of ["position", "zero"] as const) {
    const c = unary(
      4,
      96,
      96,
      (_x, out) => ({ op: "embed", layer: -1, weight: "e", index, out }),
      11,
      [weightTensor("e", GGMLType.Q8_0, [96, 16], r.floats(96 * 16))],
    );
    await agree(`embed ${index}`, c, 1e-6);
  }
}, opts);

test("webgpu ops: RoPE with frequency factors (Llama 3's rope_freqs)", async () => {
  const rope: RopeParams = {
    mode: "neox",
    nRot: 64,
    freqBase: 500000,
    freqScale: 1,
    extFactor: 0,
    attnFactor: 1,
    betaFast: 32,
    betaSlow: 1,
    nCtxOrig: 8192,
  };
  const ff = new Float32Array(32).map((_, i) => 1 + i / 8);
  await agree(
    "rope freqFactors",
    unary(
      3,
      256,
      256,
      (x, out) => ({
        op: "rope",
        layer: 0,
        x,
        out,
        nHeads: 4,
        headDim: 64,
        rope,
        freqFactors: "rf",
      }),
      12,
      [weightTensor("rf", GGMLType.F32, [32], ff)],
    ),
    1e-5,
  );
}, opts);

test("webgpu ops: what the kernels lack is declined (the CPU runs it)", () => {
  const f32 = () => GGMLType.F32;
  const att: GraphNode = {
    op: "attention",
    layer: 0,
    out: 0,
    q: 0,
    k: 0,
    v: 0,
    nHead: 8,
    nHeadKV: 2,
    headDim: 64,
    valueDim: 64,
    scale: 0.125,
  };
  assert(webgpu.supportsOp(att, f32));
  assert(!webgpu.supportsOp({ ...att, window: 16 }, f32), "sliding window");
  assert(!webgpu.supportsOp({ ...att, softcap: 30 }, f32), "soft-cap");
  assert(!webgpu.supportsOp({ ...att, causal: false }, f32), "non-causal");
  assert(!webgpu.supportsOp({ ...att, headDim: 512, valueDim: 512 }, f32), "head > 256");
  const mm: GraphNode = { op: "matmul", layer: 0, out: 0, x: 0, weight: "w" };
  assert(webgpu.supportsOp(mm, () => GGMLType.Q4_K));
  for (const t of [GGMLType.BF16, GGMLType.Q2_K, GGMLType.IQ4_NL, GGMLType.IQ4_XS]) {
    assert(!webgpu.supportsOp(mm, () => t), `matmul of type ${t}`);
  }
  assert(
    !webgpu.supportsOp(
      { op: "layer_norm", layer: 0, out: 0, x: 0, weight: "w", eps: 1e-5 },
      f32,
    ),
    "layer_norm",
  );
});
