/**
 * Backend conformance: every op, for every weight type a backend supports, run on fresh
 * seeded random inputs (never zeros) and compared with the CPU reference backend by the
 * normalized error ||out - ref|| / ||ref||, through tests/conformance_suite.ts. Runs for the
 * CPU itself (trivially) and for HIP when a device and the native library are present;
 * otherwise the HIP cases are registered as skipped with the probe's reason. The ops of the
 * newer architectures are in tests/conformance_arch_test.ts.
 *
 * @module
 */
import type { Backend } from "../src/core/backend.ts";
import type { RopeParams } from "../src/core/graph.ts";
import { GGMLType, type GGMLType as GType, typeTraits } from "../src/gguf/ggml_types.ts";
import { type OpCase, type OpStep, weightTensor } from "./conformance_util.ts";
import { conformance, rng } from "./conformance_suite.ts";

const T_VALUES = [1, 3, 8, 9, 17, 64];

// ---- matmul: every weight type, odd shapes, decode and prefill sizes ----
interface TypeCase {
  type: GType;
  k: number[];
  tol: number;
}
// Every backend rounds activations as llama.cpp's CPU path does (int8 blocks for quantized
// weights, f16/bf16 for F16/BF16), so products differ only by float summation order.
const Q = 1e-4;
const TYPES: TypeCase[] = [
  { type: GGMLType.F32, k: [67, 64], tol: 1e-5 },
  { type: GGMLType.F16, k: [67, 64], tol: 1e-5 },
  { type: GGMLType.BF16, k: [67, 64], tol: 1e-5 },
  { type: GGMLType.Q4_0, k: [96], tol: Q },
  { type: GGMLType.Q4_1, k: [96], tol: Q },
  { type: GGMLType.Q5_0, k: [96], tol: Q },
  { type: GGMLType.Q5_1, k: [96], tol: Q },
  { type: GGMLType.Q8_0, k: [96], tol: Q },
  { type: GGMLType.IQ4_NL, k: [96], tol: Q },
  { type: GGMLType.MXFP4, k: [96], tol: Q },
  { type: GGMLType.Q3_K, k: [768], tol: Q },
  { type: GGMLType.Q4_K, k: [768], tol: Q },
  { type: GGMLType.Q5_K, k: [768], tol: Q },
  { type: GGMLType.Q6_K, k: [768], tol: Q },
  { type: GGMLType.IQ4_XS, k: [768], tol: Q },
];
const N = 37;

function matmulCase(type: GType, k: number, t: number, bias: boolean): OpCase {
  const r = rng();
  const weights = [weightTensor("w", type, [k, N], r.floats(k * N, 0.5))];
  if (bias) weights.push(weightTensor("b", GGMLType.F32, [N], r.floats(N)));
  const x = r.floats(t * k);
  const step: OpStep = {
    nTokens: t,
    build: (g, input) => ({
      op: "matmul",
      layer: 0,
      x: input(t, k, x),
      out: g.value(t, N, "y"),
      weight: "w",
      bias: bias ? "b" : undefined,
    }),
  };
  return { weights, steps: [step] };
}

const typeName = (t: GType) => typeTraits(t).name;
const supportsType = (type: GType) => (b: Backend) =>
  b.supportsOp({ op: "matmul", layer: 0, out: 0, x: 0, weight: "w" }, () => type);

for (const tc of TYPES) {
  for (const k of tc.k) {
    conformance(
      `matmul ${typeName(tc.type)} K=${k} N=${N}`,
      tc.tol,
      T_VALUES.map((t) => ({ label: `T=${t}`, make: () => matmulCase(tc.type, k, t, false) })),
      supportsType(tc.type),
    );
  }
}
conformance(
  "matmul Q8_0 with F32 bias",
  Q,
  [3, 17].map((t) => ({ label: `T=${t}`, make: () => matmulCase(GGMLType.Q8_0, 96, t, true) })),
);

// ---- embed: every weight type ----
for (const tc of TYPES) {
  const cols = tc.k[0];
  const vocab = 41;
  conformance(
    `embed ${typeName(tc.type)} cols=${cols}`,
    1e-6,
    [1, 3, 17].map((t) => ({
      label: `T=${t}`,
      make: (): OpCase => {
        const r = rng();
        const w = weightTensor("emb", tc.type, [cols, vocab], r.floats(cols * vocab));
        const tokens = Int32Array.from({ length: t }, () => r.int(vocab));
        return {
          weights: [w],
          steps: [{
            nTokens: t,
            tokens,
            build: (g) => ({ op: "embed", layer: -1, out: g.value(t, cols, "e"), weight: "emb" }),
          }],
        };
      },
    })),
    supportsType(tc.type),
  );
}

// ---- rms_norm ----
for (const wType of [GGMLType.F32, GGMLType.F16]) {
  for (const cols of [67, 4096]) {
    conformance(
      `rms_norm ${typeName(wType)} cols=${cols}`,
      1e-5,
      [1, 3, 17].map((t) => ({
        label: `T=${t}`,
        make: (): OpCase => {
          const r = rng();
          const x = r.floats(t * cols, 3);
          return {
            weights: [weightTensor("n", wType, [cols], r.floats(cols))],
            steps: [{
              nTokens: t,
              build: (g, input) => ({
                op: "rms_norm",
                layer: 0,
                x: input(t, cols, x),
                out: g.value(t, cols, "y"),
                weight: "n",
                eps: 1e-5,
              }),
            }],
          };
        },
      })),
    );
  }
}

// ---- rope: orderings, partial rotation, linear scaling, YaRN, positions > 0 ----
const ROPE: { label: string; p: RopeParams }[] = [
  { label: "normal", p: rope("normal", 64, 1, 0) },
  { label: "neox", p: rope("neox", 64, 1, 0) },
  { label: "normal nRot=32", p: rope("normal", 32, 1, 0) },
  { label: "neox nRot=32 freqScale=0.25", p: rope("neox", 32, 0.25, 0) },
  { label: "neox yarn", p: rope("neox", 64, 0.25, 1) },
];
function rope(mode: "normal" | "neox", nRot: number, freqScale: number, ext: number): RopeParams {
  return {
    mode,
    nRot,
    freqBase: 10000,
    freqScale,
    extFactor: ext,
    attnFactor: 1,
    betaFast: 32,
    betaSlow: 1,
    nCtxOrig: 4096,
  };
}
for (const { label, p } of ROPE) {
  const nHeads = 4;
  const headDim = 64;
  conformance(
    `rope ${label}`,
    1e-5,
    [1, 3, 17].flatMap((t) =>
      [0, 123].map((pos0) => ({
        label: `T=${t} pos0=${pos0}`,
        make: (): OpCase => {
          const x = rng().floats(t * nHeads * headDim);
          return {
            weights: [],
            steps: [{
              nTokens: t,
              pos0,
              build: (g, input) => ({
                op: "rope",
                layer: 0,
                x: input(t, nHeads * headDim, x),
                out: g.value(t, nHeads * headDim, "y"),
                nHeads,
                headDim,
                rope: p,
              }),
            }],
          };
        },
      }))
    ),
  );
}

// ---- attention: GQA ratios 1, 2, 4; prefill and decode; history (pos0 > 0) ----
function attentionCase(
  nHead: number,
  nHeadKV: number,
  headDim: number,
  t: number,
  pos0: number,
): OpCase {
  const r = rng();
  const step = (rows: number, p0: number): OpStep => {
    const q = r.floats(rows * nHead * headDim);
    const k = r.floats(rows * nHeadKV * headDim);
    const v = r.floats(rows * nHeadKV * headDim);
    return {
      nTokens: rows,
      pos0: p0,
      build: (g, input) => ({
        op: "attention",
        layer: 3,
        q: input(rows, nHead * headDim, q),
        k: input(rows, nHeadKV * headDim, k),
        v: input(rows, nHeadKV * headDim, v),
        out: g.value(rows, nHead * headDim, "o"),
        nHead,
        nHeadKV,
        headDim,
        valueDim: headDim,
        scale: 1 / Math.sqrt(headDim),
      }),
    };
  };
  return {
    weights: [],
    kv: { layers: [3], capacity: pos0 + t + 5, nHeadKV, headDim, valueDim: headDim },
    steps: pos0 > 0 ? [step(pos0, 0), step(t, pos0)] : [step(t, 0)],
  };
}
// The CPU reference keeps llama.cpp's F16 KV cache and also rounds its running value sum to
// f16 after every position (as llama.cpp's CPU flash attention does); a backend that
// accumulates in f32 differs by that rounding, which grows with the number of positions.
const ATT_TOL = 5e-3;
for (const [nHead, nHeadKV] of [[8, 8], [8, 4], [8, 2]]) {
  conformance(
    `attention nHead=${nHead} nHeadKV=${nHeadKV} headDim=64`,
    ATT_TOL,
    [1, 3, 17, 64].flatMap((t) =>
      [0, 37].map((pos0) => ({
        label: `T=${t} pos0=${pos0}`,
        make: () => attentionCase(nHead, nHeadKV, 64, t, pos0),
      }))
    ),
  );
}
conformance("attention long context decode headDim=128", 2 * ATT_TOL, [
  { label: "T=1 pos0=300", make: () => attentionCase(8, 2, 128, 1, 300) },
  { label: "T=2 pos0=500", make: () => attentionCase(4, 4, 128, 2, 500) },
]);

// ---- element-wise ops ----
function binaryCase(op: "swiglu" | "add" | "last_row", rows: number, cols: number): OpCase {
  const r = rng();
  const a = r.floats(rows * cols, 2);
  const b = r.floats(rows * cols, 2);
  return {
    weights: [],
    steps: [{
      nTokens: rows,
      build: (g, input) => {
        if (op === "last_row") {
          return { op, layer: 0, x: input(rows, cols, a), out: g.value(1, cols, "y") };
        }
        const x = input(rows, cols, a);
        const y = input(rows, cols, b);
        const out = g.value(rows, cols, "y");
        return op === "swiglu"
          ? { op, layer: 0, gate: x, up: y, out }
          : { op, layer: 0, a: x, b: y, out };
      },
    }],
  };
}
for (const op of ["swiglu", "add", "last_row"] as const) {
  conformance(
    op,
    op === "swiglu" ? 1e-5 : 0,
    [[1, 67], [3, 67], [17, 4096]].map(([rows, cols]) => ({
      label: `${rows}x${cols}`,
      make: () => binaryCase(op, rows, cols),
    })),
  );
}
