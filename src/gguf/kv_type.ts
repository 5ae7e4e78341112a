/**
 * KV cache element types (llama.cpp's `-ctk` / `-ctv`): the names a user may give, their
 * sizes (from the GGML type table), and the parsing of an option value into one K and one V
 * type. The CPU backend stores and reads every type; an accelerator that cannot declines the
 * attention op for it (it then runs on the CPU).
 *
 * @module
 */
import { BackendError, InvalidArgumentError } from "../core/errors.ts";
import { GGMLType, typeTraits } from "./ggml_types.ts";

/** The KV cache types, by llama.cpp's lower-case names. */
export const KV_TYPES = ["f32", "f16", "q8_0", "q4_0"] as const;

/** One KV cache element type. */
export type KVType = typeof KV_TYPES[number];

/** The cache types of K and of V. */
export interface KVTypes {
  readonly k: KVType;
  readonly v: KVType;
}

/** llama.cpp's default: both f16. */
export const DEFAULT_KV_TYPES: KVTypes = { k: "f16", v: "f16" };

const GGML: Record<KVType, GGMLType> = {
  f32: GGMLType.F32,
  f16: GGMLType.F16,
  q8_0: GGMLType.Q8_0,
  q4_0: GGMLType.Q4_0,
};

/** The GGML type of a KV type. */
export function kvGgmlType(t: KVType): GGMLType {
  return GGML[t];
}

/** Elements per block of a KV type (1 for f32/f16; a head's size must be a multiple). */
export function kvBlockSize(t: KVType): number {
  return typeTraits(GGML[t]).blockSize;
}

/** Bytes per element of a KV type as llama.cpp stores it (q8_0: 34 bytes per 32). */
export function kvBytesPerElement(t: KVType): number {
  const tr = typeTraits(GGML[t]);
  return tr.typeSize / tr.blockSize;
}

/** True for llama.cpp's default f16/f16 cache. */
export function isDefaultKV(t: KVTypes | undefined): boolean {
  return t === undefined || (t.k === "f16" && t.v === "f16");
}

/**
 * Throws BACKEND_UNSUPPORTED_OP unless `t` is the default f16/f16: for a backend whose cache
 * holds f16 only (its supportsOp already declines attention over other types).
 */
export function requireDefaultKV(t: KVTypes | undefined, backend: string): void {
  if (isDefaultKV(t)) return;
  throw new BackendError(
    "BACKEND_UNSUPPORTED_OP",
    `${backend} holds an f16 KV cache only, not ${kvTypesLabel(t!)}`,
    { expected: "f16", actual: kvTypesLabel(t!) },
  );
}

/** Parses one type name (case-insensitive); `field` names the option in the error. */
export function parseKVType(value: unknown, field = "kvType"): KVType {
  const s = typeof value === "string" ? value.toLowerCase() : undefined;
  const t = KV_TYPES.find((x) => x === s);
  if (t === undefined) {
    throw new InvalidArgumentError(
      `${field} must be one of ${KV_TYPES.join(", ")}, not ${JSON.stringify(value)}`,
      { field, expected: KV_TYPES.join(" | "), actual: value },
    );
  }
  return t;
}

/**
 * The K and V types of an option: a type name for both, or `{ k, v }` (each default f16).
 * Undefined gives the default.
 */
export function parseKVTypes(value: unknown, field = "kvType"): KVTypes {
  if (value === undefined) return DEFAULT_KV_TYPES;
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    const extra = Object.keys(o).find((x) => x !== "k" && x !== "v");
    if (extra !== undefined) {
      throw new InvalidArgumentError(`unknown ${field} key ${extra} (it takes k and v)`, {
        field: `${field}.${extra}`,
        expected: "k | v",
        actual: extra,
      });
    }
    return {
      k: o.k === undefined ? "f16" : parseKVType(o.k, `${field}.k`),
      v: o.v === undefined ? "f16" : parseKVType(o.v, `${field}.v`),
    };
  }
  const t = parseKVType(value, field);
  return { k: t, v: t };
}

/**
 * Checks that heads of `headDim` keys and `valueDim` values fit the types' blocks (a q8_0
 * row of a head is whole 32-blocks, as llama.cpp requires).
 */
export function checkKVShape(t: KVTypes, headDim: number, valueDim: number): void {
  for (const [which, type, dim] of [["K", t.k, headDim], ["V", t.v, valueDim]] as const) {
    const bs = kvBlockSize(type);
    if (dim % bs !== 0) {
      throw new InvalidArgumentError(
        `KV cache type ${type} needs a ${which} head size that is a multiple of ${bs}; ` +
          `this model's is ${dim}`,
        {
          field: which === "K" ? "kvType.k" : "kvType.v",
          expected: `multiple of ${bs}`,
          actual: dim,
        },
      );
    }
  }
}

/** One label for both types: "q8_0", or "q8_0/f16" (K/V) when they differ. */
export function kvTypesLabel(t: KVTypes): string {
  return t.k === t.v ? t.k : `${t.k}/${t.v}`;
}
