/**
 * What the backends do with each ggml type, declared once: the activation format llama.cpp
 * pairs with the type in a product, and which kernels read it (HIP matrix / norm / bias
 * operands, the WebAssembly matrix kernel, the exact TypeScript path). Block sizes and bytes
 * come from ggml_types.ts. The C/HIP and WASM type headers are generated from this table by
 * scripts/gen_tables.ts (checked in CI); the TypeScript tables are derived from it here.
 *
 * Adding a type: its layout in ggml_types.ts (if new), one entry below, its kernels (and its
 * dequantizer in quants/), then `deno task gen:tables`.
 *
 * @module
 */
import { GGMLType, type GGMLTypeName, isKnownType, typeTraits } from "./ggml_types.ts";

/** The activation format llama.cpp pairs with a weight type in a product. */
export type ActFormat = "f32" | "f16" | "bf16" | "q8_0" | "q8_1" | "q8_k";

/** Int8 activation blocks: elements per block and the native format code (0 = float). */
export const INT8_ACT: Readonly<Record<"q8_0" | "q8_1" | "q8_k", { block: number; code: number }>> =
  {
    q8_0: { block: 32, code: 1 },
    q8_k: { block: 256, code: 2 },
    q8_1: { block: 32, code: 3 },
  };

/** Operand roles a HIP kernel reads a weight type in. */
export type HipUse = "matrix" | "norm" | "bias";

/** Kernel facts of one type. */
export interface TypeKernels {
  /** Activation format in a product (llama.cpp's vec_dot_type). */
  readonly act: ActFormat;
  /** HIP operand roles (matrix: matmul and embed weights). */
  readonly hip: readonly HipUse[];
  /** True when the WebAssembly matrix kernel reads it. */
  readonly wasm: boolean;
  /** True when the exact TypeScript product (ops/matmul_exact.ts) reads it. */
  readonly exact: boolean;
}

const k = (act: ActFormat, hip: HipUse[], wasm: boolean, exact: boolean): TypeKernels => ({
  act,
  hip,
  wasm,
  exact,
});

/** Types any backend kernel knows; every other type has float activations and no kernel. */
export const TYPE_KERNELS: Readonly<Partial<Record<GGMLTypeName, TypeKernels>>> = {
  F32: k("f32", ["matrix", "norm", "bias"], true, false),
  F16: k("f16", ["matrix", "norm"], true, false),
  BF16: k("bf16", ["matrix"], true, false),
  Q4_0: k("q8_0", ["matrix"], true, true),
  Q4_1: k("q8_1", ["matrix"], true, true),
  Q5_0: k("q8_0", ["matrix"], true, true),
  Q5_1: k("q8_1", ["matrix"], true, true),
  Q8_0: k("q8_0", ["matrix"], true, true),
  IQ4_NL: k("q8_0", ["matrix"], false, true),
  MXFP4: k("q8_0", ["matrix"], true, true),
  Q2_K: k("q8_k", [], false, false),
  Q3_K: k("q8_k", ["matrix"], true, false),
  Q4_K: k("q8_k", ["matrix"], true, false),
  Q5_K: k("q8_k", ["matrix"], true, false),
  Q6_K: k("q8_k", ["matrix"], true, false),
  IQ4_XS: k("q8_k", ["matrix"], false, false),
};

/** Kernel facts of type `id` (float activations and no kernels for types not listed). */
export function typeKernels(id: number): TypeKernels {
  return TYPE_KERNELS[typeTraits(id).name] ?? k("f32", [], false, false);
}

/** The activation format of weight type `id` (f32 for an unknown id). */
export function actFormat(id: number): ActFormat {
  return isKnownType(id) ? typeKernels(id).act : "f32";
}

/** Type ids whose kernel facts satisfy `pred`, ordered by id. */
export function typesWhere(pred: (k: TypeKernels) => boolean): number[] {
  return Object.entries(TYPE_KERNELS)
    .filter(([, v]) => v && pred(v))
    .map(([name]) => GGMLType[name as GGMLTypeName] as number)
    .sort((a, b) => a - b);
}
