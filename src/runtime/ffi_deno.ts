/**
 * Opens a C library under Deno with Deno.dlopen (FFI is stable in Deno 2; the process needs
 * --allow-ffi, which `-A` grants).
 *
 * @module
 */
import type { FfiArg, FfiFunctions, FfiLibrary, FfiParam, FfiSymbols } from "./ffi_types.ts";

type DenoNative = "i32" | "i64" | "f64" | "buffer";
interface DenoDynamicLibrary {
  symbols: Record<string, (...args: unknown[]) => unknown>;
  close(): void;
}
interface DenoFfiApi {
  dlopen(
    path: string,
    symbols: Record<string, { parameters: DenoNative[]; result: DenoNative }>,
  ): DenoDynamicLibrary;
}

const NATIVE: Record<FfiParam, DenoNative> = {
  i32: "i32",
  i64: "i64",
  f64: "f64",
  buffer: "buffer",
};

/** Opens `path` with Deno.dlopen and binds `symbols`. Throws when the library cannot load. */
export function openLibraryDeno<S extends FfiSymbols>(path: string, symbols: S): FfiLibrary<S> {
  const deno = (globalThis as unknown as { Deno: DenoFfiApi }).Deno;
  const spec: Record<string, { parameters: DenoNative[]; result: DenoNative }> = {};
  for (const [name, sig] of Object.entries(symbols)) {
    spec[name] = { parameters: sig.parameters.map((p) => NATIVE[p]), result: "i32" };
  }
  const lib = deno.dlopen(path, spec);
  const bound: Record<string, (...args: FfiArg[]) => number> = {};
  for (const name of Object.keys(symbols)) {
    const f = lib.symbols[name];
    bound[name] = (...args: FfiArg[]) => f(...args) as number;
  }
  return { path, symbols: bound as FfiFunctions<S>, close: () => lib.close() };
}
