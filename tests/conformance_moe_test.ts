/**
 * Conformance of the mixture-of-experts FFN (graph.ts moe) against the CPU reference: expert
 * weights of several types (3-D [dim, ff, nExpert] tensors), top-2 of 8 and top-4 of 8 with
 * and without normalized weights and a weights scale, gpt-oss's variant (softmax over the top
 * logits, swiglu_oai, router and per-expert biases), and an MoE with a shared expert (the
 * expert FFN plus a dense FFN added to it, as llama.cpp's qwen2moe builds it), over batches of
 * 1 (decode, graph replay), 4, 9 and 33 rows (prefill) through tests/conformance_suite.ts.
 *
 * @module
 */
import type { Backend } from "../src/core/backend.ts";
import type { GraphNode } from "../src/core/graph.ts";
import { GGMLType, type GGMLType as GType, typeTraits } from "../src/gguf/ggml_types.ts";
import { type OpCase, type OpStep, type Rng, weightTensor } from "./conformance_util.ts";
import { conformance, rng } from "./conformance_suite.ts";

type MoeNode = Extract<GraphNode, { op: "moe" }>;
type MoeOptions = Partial<Omit<MoeNode, "op" | "layer" | "out" | "x">>;

const DIM = 256;
const T_VALUES = [1, 4, 9, 33];

interface MoeSpec {
  readonly type: GType;
  readonly ff: number;
  readonly options: MoeOptions;
  /** Adds a dense shared-expert FFN (gate/up/down of ff) to the MoE output. */
  readonly shared?: boolean;
  /** Router and per-expert biases (named *.bias, as the CPU store keeps such tensors as vectors). */
  readonly biases?: boolean;
}

const scaled = (r: Rng, n: number, cols: number) => r.floats(n, 1 / Math.sqrt(cols));

function moeCase(s: MoeSpec, T: number): OpCase {
  const r = rng();
  const nE = s.options.nExpert ?? 8;
  const { ff, type } = s;
  const weights = [
    weightTensor("router", GGMLType.F32, [DIM, nE], scaled(r, DIM * nE, DIM)),
    weightTensor("gate", type, [DIM, ff, nE], scaled(r, DIM * ff * nE, DIM)),
    weightTensor("up", type, [DIM, ff, nE], scaled(r, DIM * ff * nE, DIM)),
    weightTensor("down", type, [ff, DIM, nE], scaled(r, ff * DIM * nE, ff)),
  ];
  if (s.biases) {
    weights.push(
      weightTensor("router.bias", GGMLType.F32, [nE], r.floats(nE, 0.5)),
      weightTensor("gate.bias", GGMLType.F32, [ff, nE], r.floats(ff * nE, 0.5)),
      weightTensor("up.bias", GGMLType.F32, [ff, nE], r.floats(ff * nE, 0.5)),
      weightTensor("down.bias", GGMLType.F32, [DIM, nE], r.floats(DIM * nE, 0.5)),
    );
  }
  if (s.shared) {
    weights.push(
      weightTensor("sh_gate", type, [DIM, ff], scaled(r, DIM * ff, DIM)),
      weightTensor("sh_up", type, [DIM, ff], scaled(r, DIM * ff, DIM)),
      weightTensor("sh_down", type, [ff, DIM], scaled(r, ff * DIM, ff)),
    );
  }
  const x = r.floats(T * DIM);
  const step: OpStep = {
    nTokens: T,
    build: (g, input) => {
      const xi = input(T, DIM, x);
      const moe: GraphNode = {
        op: "moe",
        layer: 0,
        out: g.value(T, DIM, "moe"),
        x: xi,
        router: "router",
        gate: "gate",
        up: "up",
        down: "down",
        nExpert: nE,
        nUsed: 2,
        normWeights: true,
        weightsScale: 0,
        ...(s.biases
          ? {
            routerBias: "router.bias",
            gateBias: "gate.bias",
            upBias: "up.bias",
            downBias: "down.bias",
          }
          : {}),
        ...s.options,
      };
      if (!s.shared) return moe;
      const mm = (w: string, x: number, n: number): GraphNode => ({
        op: "matmul",
        layer: 0,
        out: g.value(T, n, w),
        x,
        weight: w,
      });
      const sg = mm("sh_gate", xi, ff), su = mm("sh_up", xi, ff);
      const act: GraphNode = {
        op: "swiglu",
        layer: 0,
        out: g.value(T, ff, "sh_act"),
        gate: sg.out,
        up: su.out,
      };
      const sd = mm("sh_down", act.out, DIM);
      const sum: GraphNode = {
        op: "add",
        layer: 0,
        out: g.value(T, DIM, "ffn"),
        a: moe.out,
        b: sd.out,
      };
      return [moe, sg, su, act, sd, sum];
    },
  };
  return { weights, steps: [step] };
}

// The GPU rounds activations as the CPU does (int8 blocks, f16 for F16 weights), so outputs
// differ by summation order only: at most 5.2e-7 (F32, quantized) and 8.1e-6 (F16, whose
// rounding of the down input to half can land one step apart) on an H200; the tolerances are
// the matmul conformance tolerance (tests/conformance_test.ts).
const F_TOL = 1e-4, Q_TOL = 1e-4;
const SPECS: [string, MoeSpec, number][] = [
  ["F32 top-2 of 8", { type: GGMLType.F32, ff: 160, options: {} }, F_TOL],
  ["F16 top-2 of 8", { type: GGMLType.F16, ff: 160, options: {} }, F_TOL],
  ["Q8_0 top-2 of 8", { type: GGMLType.Q8_0, ff: 160, options: {} }, Q_TOL],
  ["Q4_0 top-2 of 8", { type: GGMLType.Q4_0, ff: 160, options: {} }, Q_TOL],
  ["Q5_1 top-2 of 8", { type: GGMLType.Q5_1, ff: 160, options: {} }, Q_TOL],
  ["Q4_K top-2 of 8", { type: GGMLType.Q4_K, ff: 256, options: {} }, Q_TOL],
  ["Q6_K top-2 of 8", { type: GGMLType.Q6_K, ff: 256, options: {} }, Q_TOL],
  [
    "Q8_0 top-4 of 8, unnormalized, weights scale 2.5",
    { type: GGMLType.Q8_0, ff: 160, options: { nUsed: 4, normWeights: false, weightsScale: 2.5 } },
    Q_TOL,
  ],
  ["Q8_0 top-2 of 8 with a shared expert", {
    type: GGMLType.Q8_0,
    ff: 160,
    options: {},
    shared: true,
  }, Q_TOL],
  ["Q4_K top-2 of 8 with a shared expert", {
    type: GGMLType.Q4_K,
    ff: 256,
    options: {},
    shared: true,
  }, Q_TOL],
  ["gpt-oss: Q8_0 top-4 of 32, softmax_weight, swiglu_oai, biases", {
    type: GGMLType.Q8_0,
    ff: 160,
    options: {
      nExpert: 32,
      nUsed: 4,
      normWeights: false,
      gating: "softmax_weight",
      act: "swiglu_oai",
    },
    biases: true,
  }, Q_TOL],
  ["gpt-oss: F32 top-4 of 32, softmax_weight, swiglu_oai, biases", {
    type: GGMLType.F32,
    ff: 160,
    options: {
      nExpert: 32,
      nUsed: 4,
      normWeights: false,
      gating: "softmax_weight",
      act: "swiglu_oai",
    },
    biases: true,
  }, F_TOL],
];

/** Whether backend b runs the spec's MoE node (the shared expert's ops are plain products). */
const supports = (s: MoeSpec) => (b: Backend) =>
  b.supportsOp(
    {
      op: "moe",
      layer: 0,
      out: 1,
      x: 0,
      router: "router",
      gate: "gate",
      up: "up",
      down: "down",
      nExpert: 8,
      nUsed: 2,
      normWeights: true,
      weightsScale: 0,
      ...(s.biases
        ? {
          routerBias: "router.bias",
          gateBias: "gate.bias",
          upBias: "up.bias",
          downBias: "down.bias",
        }
        : {}),
      ...s.options,
    },
    (name) => ["gate", "up", "down"].includes(name) ? s.type : GGMLType.F32,
  );

for (const [name, spec, tol] of SPECS) {
  conformance(
    `moe ${name} (dim ${DIM}, ff ${spec.ff}, ${typeTraits(spec.type).name} experts)`,
    tol,
    T_VALUES.map((t) => ({ label: `T=${t}`, make: () => moeCase(spec, t) })),
    supports(spec),
  );
}
