/**
 * Backend conformance of the ops the newer architectures add (Gemma's GeGLU, GELU, scale and
 * tanh; Phi-3's slices; BERT's LayerNorm and position embeddings; Qwen3's per-head RMSNorm;
 * Llama 3's RoPE frequency factors), against the CPU reference as tests/conformance_test.ts
 * does. HIP must claim each of these ops (a decline fails the case); WebGPU runs the ones it
 * claims.
 *
 * @module
 */
import type { Backend } from "../src/core/backend.ts";
import type { GraphNode, RopeParams } from "../src/core/graph.ts";
import { GGMLType, type GGMLType as GType, typeTraits } from "../src/gguf/ggml_types.ts";
import { assert } from "./assert.ts";
import { type OpCase, type OpStep, weightTensor } from "./conformance_util.ts";
import { conformance, rng } from "./conformance_suite.ts";

const SHAPES = [[1, 67], [3, 67], [17, 4096]];
const typeName = (t: GType) => typeTraits(t).name;

/** Runs on the CPU, on HIP (which must claim `node`) and on other backends that claim it. */
const claims = (node: GraphNode, type: GType = GGMLType.F32) => (b: Backend): boolean => {
  const ok = b.supportsOp(node, () => type);
  if (b.name === "hip") assert(ok, `HIP declines ${node.op}`);
  return b.name === "cpu" || ok;
};

/** One step of `rows` tokens building `node` from its inputs. */
function oneStep(rows: number, build: OpStep["build"], pos0 = 0): OpStep {
  return { nTokens: rows, pos0, build };
}

// ---- elementwise: GELU, GeGLU, scale, tanh ----
// Inputs of scale 5 reach past ggml's +-10 GELU cut-offs. The GPU's tanhf may round a value on
// the other side of a half-precision boundary than the CPU's table does (one half ulp, 2^-11,
// on rare elements), hence the GELU tolerance.
const GELU_TOL = 5e-4;
for (const op of ["gelu", "geglu", "scale", "tanh"] as const) {
  const sample: GraphNode = op === "geglu"
    ? { op, layer: 0, out: 2, gate: 0, up: 1 }
    : op === "scale"
    ? { op, layer: 0, out: 1, x: 0, s: 0.125 }
    : { op, layer: 0, out: 1, x: 0 };
  conformance(
    op,
    op === "scale" ? 0 : op === "tanh" ? 1e-6 : GELU_TOL,
    SHAPES.map(([rows, cols]) => ({
      label: `${rows}x${cols}`,
      make: (): OpCase => {
        const r = rng();
        const a = r.floats(rows * cols, 5);
        const u = r.floats(rows * cols, 2);
        return {
          weights: [],
          steps: [oneStep(rows, (g, input) => {
            const x = input(rows, cols, a);
            const out = g.value(rows, cols, "y");
            if (op === "geglu") return { op, layer: 0, gate: x, up: input(rows, cols, u), out };
            if (op === "scale") return { op, layer: 0, x, out, s: 0.0883883476 };
            return { op, layer: 0, x, out };
          })],
        };
      },
    })),
    claims(sample),
  );
}

// ---- slice: column views of a fused product ----
conformance(
  "slice",
  0,
  [[1, 0, 40], [3, 32, 40], [17, 56, 40], [9, 0, 96]].map(([rows, offset, cols]) => ({
    label: `${rows} rows, columns ${offset}..${offset + cols - 1} of 96`,
    make: (): OpCase => {
      const x = rng().floats(rows * 96);
      return {
        weights: [],
        steps: [oneStep(rows, (g, input) => ({
          op: "slice",
          layer: 0,
          x: input(rows, 96, x),
          out: g.value(rows, cols, "y"),
          offset,
        }))],
      };
    },
  })),
  claims({ op: "slice", layer: 0, out: 1, x: 0, offset: 32 }),
);

// ---- layer_norm: F32 and F16 weights, with and without bias, rows off zero mean ----
for (const [wType, bias] of [[GGMLType.F32, true], [GGMLType.F16, false]] as const) {
  for (const cols of [67, 4096]) {
    conformance(
      `layer_norm ${typeName(wType)}${bias ? " with F32 bias" : ""} cols=${cols}`,
      1e-5,
      [1, 3, 17].map((t) => ({
        label: `T=${t}`,
        make: (): OpCase => {
          const r = rng();
          const x = r.floats(t * cols, 3).map((v) => v + 2);
          const weights = [weightTensor("n", wType, [cols], r.floats(cols))];
          if (bias) weights.push(weightTensor("b", GGMLType.F32, [cols], r.floats(cols)));
          return {
            weights,
            steps: [oneStep(t, (g, input) => ({
              op: "layer_norm",
              layer: 0,
              x: input(t, cols, x),
              out: g.value(t, cols, "y"),
              weight: "n",
              ...(bias ? { bias: "b" } : {}),
              eps: 1e-12,
            }))],
          };
        },
      })),
      claims(
        { op: "layer_norm", layer: 0, out: 1, x: 0, weight: "n", bias: "b", eps: 1e-5 },
        wType,
      ),
    );
  }
}

// ---- rms_norm per group (Qwen3's per-head q/k norm) ----
for (const [wType, heads, headDim] of [[GGMLType.F32, 4, 64], [GGMLType.F16, 8, 128]] as const) {
  conformance(
    `rms_norm ${typeName(wType)} groupSize=${headDim} x ${heads}`,
    1e-5,
    [1, 3, 17].map((t) => ({
      label: `T=${t}`,
      make: (): OpCase => {
        const r = rng();
        const cols = heads * headDim;
        const x = r.floats(t * cols, 3);
        return {
          weights: [weightTensor("n", wType, [headDim], r.floats(headDim))],
          steps: [oneStep(t, (g, input) => ({
            op: "rms_norm",
            layer: 0,
            x: input(t, cols, x),
            out: g.value(t, cols, "y"),
            weight: "n",
            eps: 1e-6,
            groupSize: headDim,
          }))],
        };
      },
    })),
    claims(
      { op: "rms_norm", layer: 0, out: 1, x: 0, weight: "n", eps: 1e-6, groupSize: 64 },
      wType,
    ),
  );
}

// ---- rope with frequency factors (Llama 3's rope_freqs), both orderings, positions > 0 ----
let factorNames = 0;
for (const mode of ["normal", "neox"] as const) {
  const nHeads = 4, headDim = 64;
  const p: RopeParams = {
    mode,
    nRot: headDim,
    freqBase: 500000,
    freqScale: 1,
    extFactor: 0,
    attnFactor: 1,
    betaFast: 32,
    betaSlow: 1,
    nCtxOrig: 8192,
  };
  const node = (x: number, out: number, ff = "ff"): GraphNode => ({
    op: "rope",
    layer: 0,
    x,
    out,
    nHeads,
    headDim,
    rope: p,
    freqFactors: ff,
  });
  conformance(
    `rope ${mode} with frequency factors`,
    1e-5,
    [1, 3, 17].flatMap((t) =>
      [0, 123].map((pos0) => ({
        label: `T=${t} pos0=${pos0}`,
        make: (): OpCase => {
          const r = rng();
          // llama3 factors: 1 for high frequencies up to 8 for low ones, smoothly between.
          const ff = Float32Array.from({ length: headDim / 2 }, () => 1 + 7 * r.next());
          // A name of its own per case: the CPU's WASM kernels keep rope tables across
          // contexts keyed by the factors' name, not their values.
          const name = `rope_freqs.${factorNames++}`;
          return {
            weights: [weightTensor(name, GGMLType.F32, [headDim / 2], ff)],
            // At T=1 three decode steps: one replayed GPU graph at advancing positions.
            steps: (t === 1 ? [pos0, pos0 + 1, pos0 + 2] : [pos0]).map((p0) => {
              const x = r.floats(t * nHeads * headDim);
              return oneStep(
                t,
                (g, input) =>
                  node(input(t, nHeads * headDim, x), g.value(t, nHeads * headDim, "y"), name),
                p0,
              );
            }),
          };
        },
      }))
    ),
    claims(node(0, 1)),
  );
}

// ---- embed by position (BERT's position_embd) and row 0 (its token types) ----
for (const type of [GGMLType.F32, GGMLType.F16, GGMLType.Q8_0]) {
  const cols = 96, rows = 50;
  for (const index of ["position", "zero"] as const) {
    conformance(
      `embed ${typeName(type)} index=${index}`,
      1e-6,
      // [T, pos0] of each step; the last variant's decode steps replay one GPU graph, which
      // reads each step's position from device memory.
      [[[1, 0]], [[3, 20]], [[17, 0]], [[17, 33]], [[1, 40], [1, 41], [1, 42]]].map((steps) => ({
        label: steps.map(([t, pos0]) => `T=${t} pos0=${pos0}`).join(", "),
        make: (): OpCase => {
          const w = weightTensor("pos", type, [cols, rows], rng().floats(cols * rows));
          return {
            weights: [w],
            steps: steps.map(([t, pos0]) =>
              oneStep(t, (g) => ({
                op: "embed",
                layer: -1,
                out: g.value(t, cols, "e"),
                weight: "pos",
                index,
              }), pos0)
            ),
          };
        },
      })),
      claims({ op: "embed", layer: -1, out: 0, weight: "pos", index }, type),
    );
  }
}
