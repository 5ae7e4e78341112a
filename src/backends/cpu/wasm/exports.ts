/**
 * The kernel module's exports (kernels/wasm/*.c) and the context the job helpers
 * (matmul, attention) get from the runtime.
 *
 * @module
 */
import type { WasmHeap } from "./heap.ts";

/** Exports of the kernel module. */
export interface KernelExports {
  rf_init(): void;
  rf_act_row_bytes(type: number, k: number): number;
  rf_quantize_act(type: number, x: number, y: number, k: number, t: number): void;
  rf_round_f16(x: number, n: number): void;
  rf_round_bf16(x: number, n: number): void;
  rf_store_f16_rounded(dst: number, src: number, n: number): void;
  rf_rope(
    x: number,
    out: number,
    rows: number,
    nHead: number,
    headDim: number,
    nRot: number,
    neox: number,
    cos: number,
    sin: number,
  ): void;
  rf_pool_run(pool: number, op: number): void;
  rf_pool_exit(pool: number): void;
  rf_pool_size(): number;
  rf_pool_mm_offset(): number;
  rf_pool_attn_offset(): number;
  rf_pool_rows_offset(): number;
  __heap_base: WebAssembly.Global;
  __stack_pointer: WebAssembly.Global;
}

/** Scratch buffers a job may use (each grows on demand and is reused). */
export type ScratchName = "x" | "q" | "y" | "b" | "k" | "v" | "c" | "s";

/** What a job helper needs from the runtime. */
export interface KernelContext {
  readonly heap: WasmHeap;
  readonly ex: KernelExports;
  /** Address of the rf_pool struct. */
  readonly pool: number;
  readonly threads: number;
  /** Address of scratch buffer `name` with room for `bytes`. */
  scratch(name: ScratchName, bytes: number): number;
}
