/**
 * HIP attention variants against the CPU reference backend (skipped without a device): sliding
 * windows (Gemma 2/3 local layers, gpt-oss's alternating ones), soft-capped scores (Gemma 2),
 * per-head sink logits (gpt-oss) and non-causal passes (BERT encoders). Each case writes a
 * history with one prefill, then prompt batches and single decode rows on top of it (the tiled
 * prefill kernels, split-KV decode with the chunk merge, decode steps replayed as graphs across
 * 256-position spans while the window start moves), with grouped queries, head dims 64, 128
 * and 256, histories of 4096 and more positions under windows smaller than that, and fresh
 * seeded random data.
 *
 * @module
 */
import { createCpuBackend } from "../src/backends/cpu/backend.ts";
import { createHipBackend } from "../src/backends/hip/backend.ts";
import { GGMLType } from "../src/gguf/ggml_types.ts";
import { assert } from "./assert.ts";
import {
  normalizedError,
  type OpCase,
  type OpStep,
  Rng,
  runCase,
  weightTensor,
} from "./conformance_util.ts";
import { test } from "./harness.ts";

const hip = createHipBackend();
const probe = await hip.probe();
const opts = { ignore: !probe.available, reason: `HIP backend unavailable: ${probe.reason}` };
const reference = createCpuBackend();

interface VariantCase {
  nHead: number;
  nHeadKV: number;
  headDim: number;
  /** Rows of the first (prefill) step. */
  history: number;
  /** Row counts evaluated one after another on top of the history. */
  batches: number[];
  window?: number;
  softcap?: number;
  /** Per-head sink logits (a weight of nHead F32 values). */
  sinks?: boolean;
  /** false: one non-causal pass of `history` rows (no cache, no batches). */
  causal?: boolean;
  scale?: number;
}

function variantCase(c: VariantCase, seed: number): OpCase {
  const r = new Rng(seed);
  const causal = c.causal !== false;
  const sinkName = "blk.0.attn_sinks.weight";
  const step = (rows: number, pos0: number): OpStep => {
    const q = r.floats(rows * c.nHead * c.headDim);
    const k = r.floats(rows * c.nHeadKV * c.headDim);
    const v = r.floats(rows * c.nHeadKV * c.headDim);
    return {
      nTokens: rows,
      pos0,
      build: (g, input) => ({
        op: "attention",
        layer: 0,
        q: input(rows, c.nHead * c.headDim, q),
        k: input(rows, c.nHeadKV * c.headDim, k),
        v: input(rows, c.nHeadKV * c.headDim, v),
        out: g.value(rows, c.nHead * c.headDim, "o"),
        nHead: c.nHead,
        nHeadKV: c.nHeadKV,
        headDim: c.headDim,
        valueDim: c.headDim,
        scale: c.scale ?? 1 / Math.sqrt(c.headDim),
        ...(c.window === undefined ? {} : { window: c.window }),
        ...(c.softcap === undefined ? {} : { softcap: c.softcap }),
        ...(c.sinks ? { sinks: sinkName } : {}),
        ...(causal ? {} : { causal: false }),
      }),
    };
  };
  const steps = [step(c.history, 0)];
  let pos = c.history;
  for (const b of c.batches) {
    steps.push(step(b, pos));
    pos += b;
  }
  // Sink logits around the scores' range, so they move the softmax without swamping it.
  const sinks = Float32Array.from({ length: c.nHead }, () => r.normal() * 2 + 1);
  return {
    weights: c.sinks ? [weightTensor(sinkName, GGMLType.F32, [c.nHead], sinks)] : [],
    ...(causal
      ? {
        kv: {
          layers: [0],
          capacity: pos + 3,
          nHeadKV: c.nHeadKV,
          headDim: c.headDim,
          valueDim: c.headDim,
        },
      }
      : {}),
    steps,
  };
}

// As tests/hip_attention_long_test.ts: the CPU rounds its running value sum to f16 after every
// position (llama.cpp's CPU flash attention), the device accumulates in f32 with P rounded to
// f16 for the tensor cores. The soft-capped (non-flash) and non-causal CPU paths round less.
const TOL = 1.5e-2;

const CASES: { label: string; c: VariantCase }[] = [
  {
    label: "window 16, GQA 4:2 headDim=64, history 40, then 5 rows and 3 single rows",
    c: { nHead: 4, nHeadKV: 2, headDim: 64, history: 40, batches: [5, 1, 1, 1], window: 16 },
  },
  {
    label: "window 1024, GQA 8:2 headDim=128, history 4096, then 64 rows and 2 single rows",
    c: { nHead: 8, nHeadKV: 2, headDim: 128, history: 4096, batches: [64, 1, 1], window: 1024 },
  },
  {
    // A decode graph serves a 256-position span while each step's window start moves.
    label: "window 100, GQA 8:2 headDim=64, history 250, 16 steps of 1 and 2 rows across a span",
    c: {
      nHead: 8,
      nHeadKV: 2,
      headDim: 64,
      history: 250,
      batches: [1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 2, 1, 1, 1, 1, 1],
      window: 100,
    },
  },
  {
    label: "soft-cap 10, GQA 4:2 headDim=64, history 30, then 7 rows and 2 single rows",
    c: { nHead: 4, nHeadKV: 2, headDim: 64, history: 30, batches: [7, 1, 1], softcap: 10 },
  },
  {
    // Gemma 2: scale 1 (queries pre-scaled), soft-cap 50 over 256-wide heads, local window.
    label: "soft-cap 50, scale 1, window 64, GQA 2:1 headDim=256, history 4100, then 9, 1",
    c: {
      nHead: 2,
      nHeadKV: 1,
      headDim: 256,
      history: 4100,
      batches: [9, 1],
      softcap: 50,
      scale: 1,
      window: 64,
    },
  },
  {
    label: "sinks, GQA 8:1 headDim=64, history 33, then 4 rows and 2 single rows",
    c: { nHead: 8, nHeadKV: 1, headDim: 64, history: 33, batches: [4, 1, 1], sinks: true },
  },
  {
    // gpt-oss's sliding layers: sinks and a window, split-KV decode over a long history.
    label: "sinks, window 128, GQA 8:1 headDim=64, history 4133, then 17 rows and 3 single rows",
    c: {
      nHead: 8,
      nHeadKV: 1,
      headDim: 64,
      history: 4133,
      batches: [17, 1, 1, 1],
      sinks: true,
      window: 128,
    },
  },
  {
    label: "sinks, MHA 4:4 headDim=128, history 4096, then 1 row",
    c: { nHead: 4, nHeadKV: 4, headDim: 128, history: 4096, batches: [1], sinks: true },
  },
  {
    label: "non-causal, GQA 4:2 headDim=64, 37 rows",
    c: { nHead: 4, nHeadKV: 2, headDim: 64, history: 37, batches: [], causal: false },
  },
  {
    label: "non-causal, MHA 12:12 headDim=64, 300 rows",
    c: { nHead: 12, nHeadKV: 12, headDim: 64, history: 300, batches: [], causal: false },
  },
  {
    label: "non-causal, GQA 8:2 headDim=128, 3 rows",
    c: { nHead: 8, nHeadKV: 2, headDim: 128, history: 3, batches: [], causal: false },
  },
];

CASES.forEach(({ label, c }, i) => {
  test(`hip attention variants: ${label}`, async () => {
    const oc = variantCase(c, 9001 + i * 613);
    const got = await runCase(hip, oc);
    const want = await runCase(reference, oc);
    const errors = got.map((g, s) => normalizedError(g, want[s]));
    console.log(`${label}: errors per step ${errors.map((e) => e.toExponential(2)).join(" ")}`);
    errors.forEach((e, s) => assert(e <= TOL, `step ${s}: error ${e} > ${TOL}`));
  }, opts);
});
