/**
 * HIP flash attention at long contexts against the CPU reference backend (skipped without a
 * device): a 4096-token history written by one prefill (the tiled prefill path), then a
 * prompt batch and single decode rows on top of it (split-KV decode, chunk merge), for grouped
 * queries (GQA 4:1, 8:1) and plain multi-head attention, head dims 64 and 128, a history that
 * is not a multiple of the tile sizes, decode steps replayed as graphs across a 256-position span
 * boundary, and fresh seeded random data (never zeros).
 *
 * @module
 */
import { createCpuBackend } from "../src/backends/cpu/backend.ts";
import { createHipBackend } from "../src/backends/hip/backend.ts";
import { assert } from "./assert.ts";
import { normalizedError, type OpCase, type OpStep, Rng, runCase } from "./conformance_util.ts";
import { test } from "./harness.ts";

const hip = createHipBackend();
const probe = await hip.probe();
const opts = { ignore: !probe.available, reason: `HIP backend unavailable: ${probe.reason}` };
const reference = createCpuBackend();

interface LongCase {
  nHead: number;
  nHeadKV: number;
  headDim: number;
  history: number;
  /** Row counts evaluated one after another on top of the history. */
  batches: number[];
}

function longCase(c: LongCase, seed: number): OpCase {
  const r = new Rng(seed);
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
        scale: 1 / Math.sqrt(c.headDim),
      }),
    };
  };
  const steps = [step(c.history, 0)];
  let pos = c.history;
  for (const b of c.batches) {
    steps.push(step(b, pos));
    pos += b;
  }
  return {
    weights: [],
    kv: {
      layers: [0],
      capacity: pos + 3,
      nHeadKV: c.nHeadKV,
      headDim: c.headDim,
      valueDim: c.headDim,
    },
    steps,
  };
}

// The CPU reference rounds its running value sum to f16 after every position (llama.cpp's CPU
// flash attention), the device accumulates in f32 with P rounded to f16 for the tensor cores:
// the two differ by rounding that grows with the number of positions.
const TOL = 1.5e-2;

const CASES: { label: string; c: LongCase }[] = [
  {
    label: "GQA 8:2 headDim=64, history 4096, then 64 rows and 1 row",
    c: { nHead: 8, nHeadKV: 2, headDim: 64, history: 4096, batches: [64, 1, 1] },
  },
  {
    label: "GQA 8:1 headDim=128, history 4133, then 1, 3 and 17 rows",
    c: { nHead: 8, nHeadKV: 1, headDim: 128, history: 4133, batches: [1, 3, 17] },
  },
  {
    label: "MHA 4:4 headDim=128, history 4100, then 1 row and 9 rows",
    c: { nHead: 4, nHeadKV: 4, headDim: 128, history: 4100, batches: [1, 9] },
  },
  {
    // Decode steps are replayed graphs planned for spans of 256 positions: one graph serves
    // positions 250..255, the next span starts at 256 (and a 2-row step replays its own).
    label: "GQA 8:2 headDim=64, history 250, then 16 steps of 1 and 2 rows across a 256 span",
    c: {
      nHead: 8,
      nHeadKV: 2,
      headDim: 64,
      history: 250,
      batches: [1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 2, 1, 1, 1, 1, 1],
    },
  },
];

CASES.forEach(({ label, c }, i) => {
  test(`hip attention at long context: ${label}`, async () => {
    const oc = longCase(c, 4242 + i * 977);
    const got = await runCase(hip, oc);
    const want = await runCase(reference, oc);
    const errors = got.map((g, s) => normalizedError(g, want[s]));
    console.log(`${label}: errors per step ${errors.map((e) => e.toExponential(2)).join(" ")}`);
    errors.forEach((e, s) => assert(e <= TOL, `step ${s}: error ${e} > ${TOL}`));
  }, opts);
});
