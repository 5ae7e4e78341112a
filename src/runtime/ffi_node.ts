/**
 * Opens a C library under Node with koffi (npm `koffi@3.3.4`, an optional dependency of the
 * npm build). koffi is imported lazily, so Deno and Node programs that never open a native
 * library do not need it.
 *
 * @module
 */
import type { FfiArg, FfiFunctions, FfiLibrary, FfiParam, FfiSymbols } from "./ffi_types.ts";

interface KoffiLib {
  func(name: string, result: string, params: string[]): (...args: unknown[]) => unknown;
  unload(): void;
}
interface KoffiModule {
  load(path: string): KoffiLib;
}

const C_TYPE: Record<FfiParam, string> = {
  i32: "int32_t",
  i64: "int64_t",
  f64: "double",
  buffer: "void *",
};

let koffiPromise: Promise<KoffiModule> | undefined;

async function koffi(): Promise<KoffiModule> {
  // A computed specifier keeps bundlers and Deno's checker from resolving it statically.
  const spec = ["kof", "fi"].join("");
  koffiPromise ??= import(spec).then((m: { default?: KoffiModule } & KoffiModule) =>
    m.default ?? m
  );
  return await koffiPromise;
}

/** Opens `path` with koffi and binds `symbols`. Throws when koffi or the library is missing. */
export async function openLibraryNode<S extends FfiSymbols>(
  path: string,
  symbols: S,
): Promise<FfiLibrary<S>> {
  const k = await koffi();
  const lib = k.load(path);
  const bound: Record<string, (...args: FfiArg[]) => number> = {};
  for (const [name, sig] of Object.entries(symbols)) {
    const f = lib.func(name, "int32_t", sig.parameters.map((p) => C_TYPE[p]));
    bound[name] = (...args: FfiArg[]) =>
      f(...args.map((a) => (typeof a === "bigint" ? Number(a) : a))) as number;
  }
  return { path, symbols: bound as FfiFunctions<S>, close: () => lib.unload() };
}
