/**
 * The runtime-neutral FFI contract: a C library is described by a table of symbols whose
 * parameters are 32/64-bit integers, doubles or raw buffers and whose result is an int32
 * status, which both Deno.dlopen and koffi (Node) can bind without structs or callbacks.
 *
 * @module
 */

/** A C parameter type: int32_t, int64_t, double, or a pointer to a typed array's bytes. */
export type FfiParam = "i32" | "i64" | "f64" | "buffer";

/** One C function: parameters in order; the result is always int32_t. */
export interface FfiSignature {
  readonly parameters: readonly FfiParam[];
  readonly result: "i32";
}

/** A library's symbol table. */
export type FfiSymbols = Readonly<Record<string, FfiSignature>>;

/** A value passed to a C function (a typed array for "buffer"; null passes NULL). */
export type FfiArg = number | bigint | ArrayBufferView | null;

/** Callable bindings of a symbol table. */
export type FfiFunctions<S extends FfiSymbols> = {
  readonly [K in keyof S]: (...args: FfiArg[]) => number;
};

/** An opened library. */
export interface FfiLibrary<S extends FfiSymbols> {
  readonly path: string;
  readonly symbols: FfiFunctions<S>;
  /** Unloads the library; the bindings must not be called afterwards. */
  close(): void;
}
