/**
 * The symbol table of librocmforge_hip (native/rf_api.h). Every function returns an int32
 * rf_status; outputs go through caller-owned typed arrays.
 *
 * @module
 */
import type { FfiSymbols } from "../../../runtime/ffi_load.ts";
import { NATIVE_ABI_VERSION, PROGRAM_OPS } from "../../../core/op_schema.ts";

/** ABI version this table matches (RF_ABI_VERSION, generated from the op schema). */
export const HIP_ABI_VERSION = NATIVE_ABI_VERSION;

/** rf_status codes. */
export const RfStatus = {
  OK: 0,
  INVALID: 1,
  GPU: 2,
  OOM: 3,
  NO_DEVICE: 4,
  UNSUPPORTED: 5,
  HANDLE: 6,
} as const;

/** Program opcodes by upper-case op name (RF_OP_* in native/rf_ops.gen.h), from the op schema. */
export const RfOp: Readonly<Record<string, number>> = Object.fromEntries(
  PROGRAM_OPS.map((o) => [o.name.toUpperCase(), o.code]),
);

/** Fault points of the rf_test_fail_launch test hook (RF_FAULT_* in rf_api.h). */
export const RfFault = { NONE: 0, ACT_QUANT: 1 } as const;

/** Bytes per program address slot (scratch and arena offsets are in slots). */
export const SLOT_BYTES = 256;

/** The bound functions. */
export const HIP_SYMBOLS = {
  rf_version: { parameters: ["buffer", "buffer"], result: "i32" },
  rf_init: { parameters: ["buffer"], result: "i32" },
  rf_last_error: {
    parameters: ["buffer", "i32", "buffer", "i32", "buffer", "i32", "buffer"],
    result: "i32",
  },
  rf_device_props: {
    parameters: ["i32", "buffer", "i32", "buffer", "i32", "buffer"],
    result: "i32",
  },
  rf_context_create: { parameters: ["i32", "buffer"], result: "i32" },
  rf_context_destroy: { parameters: ["i32"], result: "i32" },
  rf_arena_create: { parameters: ["i32", "i64", "buffer"], result: "i32" },
  rf_arena_alloc: { parameters: ["i32", "i64", "buffer"], result: "i32" },
  rf_arena_free: { parameters: ["i32", "i64"], result: "i32" },
  rf_arena_upload: { parameters: ["i32", "i64", "buffer", "i64"], result: "i32" },
  rf_arena_download: { parameters: ["i32", "i64", "buffer", "i64"], result: "i32" },
  rf_arena_stats: { parameters: ["i32", "buffer"], result: "i32" },
  rf_arena_destroy: { parameters: ["i32"], result: "i32" },
  rf_staging_create: { parameters: ["i32", "buffer", "i64", "i32", "buffer"], result: "i32" },
  rf_staging_upload: { parameters: ["i32", "i32", "i32", "i64", "i64"], result: "i32" },
  rf_staging_wait: { parameters: ["i32", "i32"], result: "i32" },
  rf_staging_destroy: { parameters: ["i32"], result: "i32" },
  rf_kv_create: {
    parameters: ["i32", "i32", "i32", "i32", "i32", "i32", "buffer"],
    result: "i32",
  },
  rf_kv_destroy: { parameters: ["i32"], result: "i32" },
  rf_exec: {
    parameters: [
      "i32",
      "i32",
      "i32",
      "buffer",
      "i32",
      "buffer",
      "i64",
      "buffer",
      "i64",
      "i64",
      "i32",
    ],
    result: "i32",
  },
  rf_exec_seqs: {
    parameters: [
      "i32",
      "i32",
      "buffer",
      "i32",
      "buffer",
      "i32",
      "buffer",
      "i64",
      "buffer",
      "i64",
      "i64",
    ],
    result: "i32",
  },
  rf_kv_copy: { parameters: ["i32", "i32", "i32"], result: "i32" },
  rf_bench_matmul: {
    parameters: ["i32", "i32", "buffer", "i32", "i32", "i32", "i32", "i32", "i32", "buffer"],
    result: "i32",
  },
  rf_bench_copy: { parameters: ["i32", "i64", "i32", "buffer"], result: "i32" },
  rf_test_fail_launch: { parameters: ["i32", "i32"], result: "i32" },
} as const satisfies FfiSymbols;

/** The symbol table's type. */
export type HipSymbols = typeof HIP_SYMBOLS;
