/**
 * The symbol table of librocmforge_cpu (native/cpu/rf_cpu_api.c). Every function returns an
 * int32 status (RF_CPU_* in native/cpu/rf_cpu.h); outputs go through caller-owned typed
 * arrays.
 *
 * @module
 */
import type { FfiSymbols } from "../../../runtime/ffi_load.ts";

/** ABI version this table matches (RF_CPU_ABI_VERSION; checked when the library opens). */
export const CPU_ABI_VERSION = 1;

/** rf_cpu_status codes. */
export const CpuStatus = { OK: 0, INVALID: 1, OOM: 3, UNSUPPORTED: 5, HANDLE: 6 } as const;

/** Feature bits of rf_cpu_version. */
export const CpuFeature = { AVX2: 1, AVX512VNNI: 2 } as const;

/** Kernel builds (rf_cpu_create's variant). */
export const CpuVariant = { auto: 0, avx2: 1, avx512vnni: 2 } as const;

/** The bound functions. */
export const CPU_SYMBOLS = {
  rf_cpu_version: { parameters: ["buffer"], result: "i32" },
  rf_cpu_create: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  rf_cpu_destroy: { parameters: ["i32"], result: "i32" },
  rf_cpu_layout: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  rf_cpu_repack: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  rf_cpu_unpack: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  rf_cpu_matmul: {
    parameters: ["i32", "i32", "i32", "buffer", "i32", "i32", "buffer", "i32", "buffer", "buffer"],
    result: "i32",
  },
} as const satisfies FfiSymbols;

/** The symbol table's type. */
export type CpuSymbols = typeof CPU_SYMBOLS;
