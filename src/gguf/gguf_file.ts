/**
 * The in-memory shape of a parsed GGUF file: header facts, typed metadata and tensor infos.
 * Tensor data stays in the ByteSource and is read on demand.
 *
 * @module
 */
import type { ByteSource } from "../runtime/byte_source.ts";
import type { GGMLType } from "./ggml_types.ts";

/** GGUF metadata value type ids. */
export const GGUFValueType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;
/** A GGUF metadata value type id. */
export type GGUFValueType = (typeof GGUFValueType)[keyof typeof GGUFValueType];

/** A plain JavaScript metadata value: 64-bit integers are bigint, arrays are JS arrays. */
export type MetaValue = number | bigint | string | boolean | MetaValue[];

/** One metadata entry with its GGUF type (needed to write it back unchanged). */
export interface GGUFMetaEntry {
  type: GGUFValueType;
  /** For arrays: the element type (nested arrays have ARRAY here and per-element types). */
  itemType?: GGUFValueType;
  /** For nested arrays: each inner array's entry. */
  items?: GGUFMetaEntry[];
  value: MetaValue;
}

/** One tensor's description. `dims` is in ggml order: dims[0] is the innermost (row) length. */
export interface GGUFTensorInfo {
  name: string;
  dims: number[];
  type: GGMLType;
  /** Offset relative to the start of the data section. */
  offset: number;
  nElements: number;
  nBytes: number;
}

/** A parsed GGUF file. */
export interface GGUFFile {
  version: number;
  metadata: Map<string, GGUFMetaEntry>;
  tensors: GGUFTensorInfo[];
  alignment: number;
  /** Absolute file offset of the (aligned) data section. */
  dataOffset: number;
  source: ByteSource;
}

/** Plain JS value of a metadata key, or undefined when absent. */
export function meta(file: GGUFFile, key: string): MetaValue | undefined {
  return file.metadata.get(key)?.value;
}

/** All metadata as plain JS values. */
export function plainMetadata(file: GGUFFile): Map<string, MetaValue> {
  const m = new Map<string, MetaValue>();
  for (const [k, e] of file.metadata) m.set(k, e.value);
  return m;
}

/** A tensor's bytes, read from the source (bounds were checked when the file was parsed). */
export function tensorData(file: GGUFFile, t: GGUFTensorInfo): Uint8Array {
  return file.source.read(file.dataOffset + t.offset, t.nBytes);
}

/** Reads bytes [start, start + target.byteLength) of a tensor's data into `target`. */
export function tensorDataInto(
  file: GGUFFile,
  t: GGUFTensorInfo,
  start: number,
  target: Uint8Array,
): void {
  if (start < 0 || start + target.byteLength > t.nBytes) {
    throw new RangeError(
      `bytes [${start}, ${start + target.byteLength}) outside tensor ${t.name} (${t.nBytes})`,
    );
  }
  file.source.readInto(file.dataOffset + t.offset + start, target);
}

/** Finds a tensor by name. */
export function findTensor(file: GGUFFile, name: string): GGUFTensorInfo | undefined {
  return file.tensors.find((t) => t.name === name);
}
