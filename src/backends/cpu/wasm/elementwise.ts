/**
 * Element-wise ops through the kernels (kernels/wasm/elementwise.c): SwiGLU, RMSNorm and the
 * RoPE rotation, in the same float32 steps as ops/elementwise.ts and ops/rope.ts (llama.cpp's).
 *
 * @module
 */
import { InvalidArgumentError } from "../../../core/errors.ts";
import type { RopeParams } from "../../../core/graph.ts";
import { ROPE_MODE_CODES } from "../../../core/op_schema.ts";
import { ropeAngles } from "../ops/rope.ts";
import type { KernelContext } from "./exports.ts";
import { OP_ROWS, type RowsJob, writeRows, writeWork } from "./pool_layout.ts";

/** Runs a row-wise element op with its rows spread over the pool's threads. */
function runRows(ctx: KernelContext, rows: number, job: RowsJob): void {
  writeWork(ctx.heap.i32, ctx.pool, rows, Math.ceil(rows / (ctx.threads * 2)));
  writeRows(ctx.heap.i32, ctx.heap.f32, ctx.pool, job);
  ctx.ex.rf_pool_run(ctx.pool, OP_ROWS);
}

/** out = silu(gate) * up over rows of `cols` values. */
export function runSwiglu(
  ctx: KernelContext,
  gate: Float32Array,
  up: Float32Array,
  out: Float32Array,
  cols: number,
): void {
  const n = out.length;
  if (
    !(Number.isInteger(cols) && cols >= 1 && n % cols === 0) || gate.length < n || up.length < n
  ) {
    throw new InvalidArgumentError("swiglu operands have the wrong size", {
      expected: { gate: n, up: n, multipleOf: cols },
      actual: { gate: gate.length, up: up.length, out: n },
    });
  }
  const gp = ctx.scratch("x", n * 4);
  const upp = ctx.scratch("q", n * 4);
  const op = ctx.scratch("y", n * 4);
  ctx.heap.f32.set(gate.subarray(0, n), gp / 4);
  ctx.heap.f32.set(up.subarray(0, n), upp / 4);
  runRows(ctx, n / cols, { kind: 1, a: gp, b: upp, w: 0, out: op, cols, eps: 0 });
  out.set(ctx.heap.f32.subarray(op / 4, op / 4 + n));
}

/** Row-wise RMSNorm times w. */
export function runRmsNorm(
  ctx: KernelContext,
  x: Float32Array,
  w: Float32Array,
  rows: number,
  cols: number,
  eps: number,
  out: Float32Array,
): void {
  const n = rows * cols;
  if (
    !(Number.isInteger(rows) && rows >= 1 && Number.isInteger(cols) && cols >= 1) ||
    x.length < n || out.length < n || w.length < cols
  ) {
    throw new InvalidArgumentError("rms_norm operands have the wrong size", {
      expected: { x: n, w: cols },
      actual: { x: x.length, w: w.length, out: out.length },
    });
  }
  const xp = ctx.scratch("x", n * 4);
  const wp = ctx.scratch("b", cols * 4);
  const op = ctx.scratch("y", n * 4);
  ctx.heap.f32.set(x.subarray(0, n), xp / 4);
  ctx.heap.f32.set(w.subarray(0, cols), wp / 4);
  runRows(ctx, rows, { kind: 2, a: xp, b: 0, w: wp, out: op, cols, eps: Math.fround(eps) });
  out.set(ctx.heap.f32.subarray(op / 4, op / 4 + n));
}

/** What RoPE needs of a graph node. */
export interface RopeShape {
  readonly nHeads: number;
  readonly headDim: number;
  readonly rope: RopeParams;
  /** Name of the frequency-factor weight, if any (part of the table cache key). */
  readonly freqFactors?: string;
}

/**
 * The cos/sin tables of recent positions and parameters: one forward pass rotates q and k of
 * every layer at the same positions, and a multi-sequence pass does so for each sequence's
 * positions, so each table is computed once per pass (the last TABLES_KEPT are kept).
 */
export class RopeTableCache {
  private readonly tables = new Map<string, { cos: Float32Array; sin: Float32Array }>();

  /** Tables [rows][nRot / 2] for positions pos0..pos0 + rows - 1. */
  get(
    p: RopeParams,
    pos0: number,
    rows: number,
    factors?: { name: string; values: Float32Array },
  ): { cos: Float32Array; sin: Float32Array } {
    const key = `${JSON.stringify(p)}|${pos0}|${rows}|${factors ? factorsId(factors.values) : ""}`;
    let t = this.tables.get(key);
    if (!t) {
      const half = p.nRot / 2;
      t = { cos: new Float32Array(rows * half), sin: new Float32Array(rows * half) };
      for (let r = 0; r < rows; r++) {
        ropeAngles(
          p,
          pos0 + r,
          t.cos.subarray(r * half, (r + 1) * half),
          t.sin.subarray(r * half, (r + 1) * half),
          factors?.values,
        );
      }
      if (this.tables.size >= TABLES_KEPT) this.tables.delete(this.tables.keys().next().value!);
      this.tables.set(key, t);
    }
    return t;
  }
}

/**
 * Frequency factors are keyed by the array that holds them, not by their tensor name: two models
 * in one process both name theirs `rope_freqs.weight`, with different values.
 */
const factorIds = new WeakMap<Float32Array, number>();
let nextFactorId = 1;
function factorsId(values: Float32Array): number {
  let id = factorIds.get(values);
  if (id === undefined) factorIds.set(values, id = nextFactorId++);
  return id;
}

/** Rope tables a cache keeps: more than the sequences of a multi-sequence pass. */
const TABLES_KEPT = 128;

/** RoPE of x [rows, nHeads * headDim] at positions pos0.. into out. */
export function runRope(
  ctx: KernelContext,
  tables: RopeTableCache,
  x: Float32Array,
  rows: number,
  s: RopeShape,
  pos0: number,
  out: Float32Array,
  freqFactors?: Float32Array,
): void {
  const p = s.rope;
  const n = rows * s.nHeads * s.headDim;
  if (
    !(Number.isInteger(rows) && rows >= 1) || x.length < n || out.length < n ||
    !(Number.isInteger(p.nRot) && p.nRot >= 2 && p.nRot % 2 === 0 && p.nRot <= s.headDim)
  ) {
    throw new InvalidArgumentError("rope operands have the wrong size", {
      expected: { x: n, nRot: `even, <= ${s.headDim}` },
      actual: { x: x.length, out: out.length, nRot: p.nRot },
    });
  }
  const factors = freqFactors && s.freqFactors
    ? { name: s.freqFactors, values: freqFactors }
    : undefined;
  const { cos, sin } = tables.get(p, pos0, rows, factors);
  const xp = ctx.scratch("x", n * 4);
  const op = ctx.scratch("y", n * 4);
  const cp = ctx.scratch("c", cos.length * 4);
  const sp = ctx.scratch("s", sin.length * 4);
  const f32 = ctx.heap.f32;
  f32.set(x.subarray(0, n), xp / 4);
  f32.set(cos, cp / 4);
  f32.set(sin, sp / 4);
  ctx.ex.rf_rope(xp, op, rows, s.nHeads, s.headDim, p.nRot, ROPE_MODE_CODES[p.mode], cp, sp);
  out.set(ctx.heap.f32.subarray(op / 4, op / 4 + n));
}
