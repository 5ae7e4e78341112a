/**
 * Layout of the kernels' rf_pool struct (kernels/wasm/pool.c) and writers of its job
 * arguments, so the host fills a job with plain int32 stores before calling rf_pool_run.
 *
 * @module
 */

/** int32 index of each rf_pool header field. */
export const POOL = { chunk: 2, nworkers: 3, spin: 4, items: 11 } as const;
/** Byte offsets of the argument blocks (checked against the module at load). */
export const MM_OFFSET = 48;
export const ATTN_OFFSET = 92;
export const ROWS_OFFSET = 144;
/** Job codes of rf_pool_run. */
export const OP_MATMUL = 1;
export const OP_ATTENTION = 3;
export const OP_ROWS = 4;
export const OP_STREAM = 5;

/** Arguments of a matrix product (rf_mm_args), addresses in the kernel memory. */
export interface MatmulJob {
  type: number;
  w: number;
  rowBytes: number;
  k: number;
  n: number;
  x: number;
  xStride: number;
  t: number;
  y: number;
  bias: number;
}

/** Arguments of an attention call (rf_attn_args). */
export interface AttentionJob {
  q: number;
  k: number;
  v: number;
  out: number;
  rows: number;
  pos0: number;
  nHead: number;
  nHeadKV: number;
  headDim: number;
  valueDim: number;
  scale: number;
  /** Sliding window in positions; 0: none. */
  window: number;
  /** Address of the per-head sink logits; 0: none. */
  sinks: number;
}

/** Sets how many work items a job has and how many each claim takes. */
export function writeWork(i32: Int32Array, pool: number, items: number, chunk: number): void {
  i32[pool / 4 + POOL.items] = items;
  i32[pool / 4 + POOL.chunk] = Math.max(1, chunk);
}

/** Writes a matrix product's arguments (output row stride = n). */
export function writeMatmul(i32: Int32Array, pool: number, j: MatmulJob): void {
  const m = (pool + MM_OFFSET) / 4;
  i32.set([j.type, j.w, j.rowBytes, j.k, j.n, j.x, j.xStride, j.t, j.y, j.n, j.bias], m);
}

/** Writes an attention call's arguments. */
export function writeAttention(
  i32: Int32Array,
  f32: Float32Array,
  pool: number,
  j: AttentionJob,
): void {
  const a = (pool + ATTN_OFFSET) / 4;
  i32.set([j.q, j.k, j.v, j.out, j.rows, j.pos0, j.nHead, j.nHeadKV, j.headDim, j.valueDim], a);
  f32[a + 10] = j.scale;
  i32[a + 11] = j.window;
  i32[a + 12] = j.sinks;
}

/** Arguments of a row-wise element op (rf_rows_args): kind 1 SwiGLU, 2 RMSNorm. */
export interface RowsJob {
  kind: 1 | 2;
  a: number;
  b: number;
  w: number;
  out: number;
  cols: number;
  eps: number;
}

/** Writes a row-wise element op's arguments. */
export function writeRows(i32: Int32Array, f32: Float32Array, pool: number, j: RowsJob): void {
  const r = (pool + ROWS_OFFSET) / 4;
  i32.set([j.kind, j.a, j.b, j.w, j.out, j.cols], r);
  f32[r + 6] = j.eps;
}
