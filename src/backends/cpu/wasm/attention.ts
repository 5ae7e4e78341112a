/**
 * Attention through the kernels (kernels/wasm/attention.c): llama.cpp's CPU numerics, the
 * same as ops/attention.ts, with (query row, head) items spread over the pool's threads.
 *
 * @module
 */
import { InvalidArgumentError } from "../../../core/errors.ts";
import type { KernelContext } from "./exports.ts";
import { OP_ATTENTION, writeAttention, writeWork } from "./pool_layout.ts";

/** Largest head size the attention kernel takes. */
export const MAX_HEAD_DIM = 512;

/** Shape of one attention call (the graph's attention node). */
export interface AttentionShape {
  readonly nHead: number;
  readonly nHeadKV: number;
  readonly headDim: number;
  readonly valueDim: number;
  readonly scale: number;
  /** Sliding window: a query at position p sees keys p - window + 1..p; default none. */
  readonly window?: number;
}

/** True when the attention kernel takes this shape. */
export function attentionFits(s: AttentionShape): boolean {
  return Number.isInteger(s.headDim) && s.headDim >= 1 && s.headDim <= MAX_HEAD_DIM &&
    Number.isInteger(s.valueDim) && s.valueDim >= 1 && s.valueDim <= MAX_HEAD_DIM &&
    Number.isInteger(s.nHeadKV) && s.nHeadKV >= 1 && s.nHead % s.nHeadKV === 0 &&
    (s.window === undefined || (Number.isInteger(s.window) && s.window >= 1));
}

/** Operands of one attention call; the caches are views of the kernel memory. */
export interface AttentionCall {
  readonly kCache: Float32Array;
  readonly vCache: Float32Array;
  readonly q: Float32Array;
  readonly k: Float32Array;
  readonly v: Float32Array;
  readonly rows: number;
  readonly pos0: number;
  readonly shape: AttentionShape;
  readonly out: Float32Array;
  /** Per-head sink logits (gpt-oss), at least nHead of them; default none. */
  readonly sinks?: Float32Array;
}

/**
 * Stores the new k/v rows (rounded to half) at pos0 and computes out[t] over positions
 * [0, pos0 + t] (the last `window` of them with a window), with the sinks joining each
 * head's softmax. Throws InvalidArgumentError when an operand does not fit.
 */
export function runAttention(ctx: KernelContext, c: AttentionCall): void {
  const s = c.shape, rows = c.rows, pos0 = c.pos0;
  const kCols = s.nHeadKV * s.headDim, vCols = s.nHeadKV * s.valueDim;
  const qCols = s.nHead * s.headDim, oCols = s.nHead * s.valueDim;
  if (
    !attentionFits(s) || !(Number.isInteger(rows) && rows >= 1) ||
    !(Number.isInteger(pos0) && pos0 >= 0) ||
    (pos0 + rows) * kCols > c.kCache.length || (pos0 + rows) * vCols > c.vCache.length ||
    c.q.length < rows * qCols || c.k.length < rows * kCols || c.v.length < rows * vCols ||
    c.out.length < rows * oCols || (c.sinks !== undefined && c.sinks.length < s.nHead)
  ) {
    throw new InvalidArgumentError("attention operands do not fit", {
      actual: {
        rows,
        pos0,
        shape: s,
        kCache: c.kCache.length,
        vCache: c.vCache.length,
        sinks: c.sinks?.length,
      },
    });
  }
  const qp = ctx.scratch("x", rows * qCols * 4);
  const kp = ctx.scratch("k", rows * kCols * 4);
  const vp = ctx.scratch("v", rows * vCols * 4);
  const op = ctx.scratch("y", rows * oCols * 4);
  const sp = c.sinks ? ctx.scratch("b", s.nHead * 4) : 0;
  const f32 = ctx.heap.f32;
  if (c.sinks) f32.set(c.sinks.subarray(0, s.nHead), sp / 4);
  f32.set(c.q.subarray(0, rows * qCols), qp / 4);
  f32.set(c.k.subarray(0, rows * kCols), kp / 4);
  f32.set(c.v.subarray(0, rows * vCols), vp / 4);
  ctx.ex.rf_store_f16_rounded(c.kCache.byteOffset + pos0 * kCols * 4, kp, rows * kCols);
  ctx.ex.rf_store_f16_rounded(c.vCache.byteOffset + pos0 * vCols * 4, vp, rows * vCols);
  const items = rows * s.nHead;
  // small chunks: with a causal mask later rows cost more, so few big chunks end unevenly
  writeWork(ctx.heap.i32, ctx.pool, items, Math.ceil(items / (ctx.threads * 16)));
  writeAttention(ctx.heap.i32, ctx.heap.f32, ctx.pool, {
    q: qp,
    k: c.kCache.byteOffset,
    v: c.vCache.byteOffset,
    out: op,
    rows,
    pos0,
    nHead: s.nHead,
    nHeadKV: s.nHeadKV,
    headDim: s.headDim,
    valueDim: s.valueDim,
    scale: s.scale,
    window: s.window ?? 0,
    sinks: sp,
  });
  ctx.ex.rf_pool_run(ctx.pool, OP_ATTENTION);
  c.out.set(ctx.heap.f32.subarray(op / 4, op / 4 + rows * oCols));
}
