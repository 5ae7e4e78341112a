/**
 * A streaming read of kernel memory on every pool thread (kernels/wasm/stream.c): the
 * bandwidth microbenchmark that decode speed is measured against. The region is split into
 * rows of STREAM_ROW_BYTES, claimed by the threads like matrix rows, so it reads memory the
 * way a matrix-vector product reads its weights.
 *
 * @module
 */
import { InvalidArgumentError } from "../../../core/errors.ts";
import type { KernelContext } from "./exports.ts";
import { OP_STREAM, writeMatmul, writeWork } from "./pool_layout.ts";

/** Bytes each work item reads. */
export const STREAM_ROW_BYTES = 65536;

/**
 * Reads [ptr, ptr + bytes) once with 16-byte loads on all threads; returns the xor of what
 * it read (so the reads have a use). `bytes` must be a positive multiple of STREAM_ROW_BYTES.
 */
export function runStreamRead(ctx: KernelContext, ptr: number, bytes: number): number {
  const rows = bytes / STREAM_ROW_BYTES;
  if (!(Number.isInteger(rows) && rows >= 1) || ptr < 0 || ptr + bytes > ctx.heap.used) {
    throw new InvalidArgumentError(
      `a streaming read takes a region of whole ${STREAM_ROW_BYTES}-byte rows in kernel memory`,
      { actual: { ptr, bytes } },
    );
  }
  const yp = ctx.scratch("y", rows * 4);
  writeWork(ctx.heap.i32, ctx.pool, rows, Math.max(1, Math.floor(rows / (ctx.threads * 16))));
  writeMatmul(ctx.heap.i32, ctx.pool, {
    type: 0,
    w: ptr,
    rowBytes: STREAM_ROW_BYTES,
    k: 0,
    n: rows,
    x: 0,
    xStride: 0,
    t: 0,
    y: yp,
    bias: 0,
  });
  ctx.ex.rf_pool_run(ctx.pool, OP_STREAM);
  let x = 0;
  for (const v of ctx.heap.i32.subarray(yp / 4, yp / 4 + rows)) x ^= v;
  return x;
}
