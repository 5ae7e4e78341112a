/**
 * The ggml tensor type table: every type id ggml defines, with its block size (elements per
 * block) and block bytes. Ids that ggml removed are absent, so looking them up fails.
 *
 * @module
 */
import { UnsupportedTypeError } from "../core/errors.ts";

/** ggml type ids as stored in GGUF tensor infos. */
export const GGMLType = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q5_0: 6,
  Q5_1: 7,
  Q8_0: 8,
  Q8_1: 9,
  Q2_K: 10,
  Q3_K: 11,
  Q4_K: 12,
  Q5_K: 13,
  Q6_K: 14,
  Q8_K: 15,
  IQ2_XXS: 16,
  IQ2_XS: 17,
  IQ3_XXS: 18,
  IQ1_S: 19,
  IQ4_NL: 20,
  IQ3_S: 21,
  IQ2_S: 22,
  IQ4_XS: 23,
  I8: 24,
  I16: 25,
  I32: 26,
  I64: 27,
  F64: 28,
  IQ1_M: 29,
  BF16: 30,
  TQ1_0: 34,
  TQ2_0: 35,
  MXFP4: 39,
} as const;

/** A ggml type id. */
export type GGMLType = (typeof GGMLType)[keyof typeof GGMLType];
/** A ggml type name such as "Q4_K". */
export type GGMLTypeName = keyof typeof GGMLType;

/** Layout facts of one type. */
export interface TypeTraits {
  readonly id: GGMLType;
  readonly name: GGMLTypeName;
  /** Elements per block (1 for plain scalar types). */
  readonly blockSize: number;
  /** Bytes per block. */
  readonly typeSize: number;
  /** True for block-quantized types. */
  readonly quantized: boolean;
}

const LAYOUT: Record<GGMLTypeName, [number, number]> = {
  F32: [1, 4],
  F16: [1, 2],
  Q4_0: [32, 18],
  Q4_1: [32, 20],
  Q5_0: [32, 22],
  Q5_1: [32, 24],
  Q8_0: [32, 34],
  Q8_1: [32, 36],
  Q2_K: [256, 84],
  Q3_K: [256, 110],
  Q4_K: [256, 144],
  Q5_K: [256, 176],
  Q6_K: [256, 210],
  Q8_K: [256, 292],
  IQ2_XXS: [256, 66],
  IQ2_XS: [256, 74],
  IQ3_XXS: [256, 98],
  IQ1_S: [256, 50],
  IQ4_NL: [32, 18],
  IQ3_S: [256, 110],
  IQ2_S: [256, 82],
  IQ4_XS: [256, 136],
  I8: [1, 1],
  I16: [1, 2],
  I32: [1, 4],
  I64: [1, 8],
  F64: [1, 8],
  IQ1_M: [256, 56],
  BF16: [1, 2],
  TQ1_0: [256, 54],
  TQ2_0: [256, 66],
  MXFP4: [32, 17],
};

const BY_ID = new Map<number, TypeTraits>();
for (const [name, [blockSize, typeSize]] of Object.entries(LAYOUT)) {
  const n = name as GGMLTypeName;
  BY_ID.set(GGMLType[n], {
    id: GGMLType[n],
    name: n,
    blockSize,
    typeSize,
    quantized: blockSize > 1,
  });
}

/** True when `id` is a type id ggml currently defines. */
export function isKnownType(id: number): id is GGMLType {
  return BY_ID.has(id);
}

/** Traits of a type id; throws UnsupportedTypeError for an unknown id. */
export function typeTraits(id: number): TypeTraits {
  const t = BY_ID.get(id);
  if (!t) throw new UnsupportedTypeError(`unknown ggml type id ${id}`, { actual: id });
  return t;
}

/** Traits by name ("Q4_K"); throws UnsupportedTypeError for an unknown name. */
export function typeByName(name: string): TypeTraits {
  const id = (GGMLType as Record<string, number>)[name.toUpperCase()];
  if (id === undefined) {
    throw new UnsupportedTypeError(`unknown ggml type name ${name}`, { actual: name });
  }
  return typeTraits(id);
}

/** All known types, ordered by id. */
export function allTypes(): TypeTraits[] {
  return [...BY_ID.values()].sort((a, b) => a.id - b.id);
}

/**
 * Bytes taken by `nElements` elements of type `id` laid out in rows of `rowLength`.
 * Throws when a row is not a whole number of blocks.
 */
export function tensorBytes(id: number, nElements: number, rowLength = nElements): number {
  const t = typeTraits(id);
  if (rowLength % t.blockSize !== 0) {
    throw new UnsupportedTypeError(
      `row length ${rowLength} is not a multiple of ${t.name} block size ${t.blockSize}`,
      { expected: t.blockSize, actual: rowLength },
    );
  }
  return (nElements / t.blockSize) * t.typeSize;
}
