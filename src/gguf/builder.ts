/**
 * Builds GGUF files from scratch: typed metadata setters and tensors from typed arrays.
 *
 * ```ts
 * const bytes = new GGUFBuilder()
 *   .setString("general.architecture", "llama")
 *   .setU32("llama.block_count", 2)
 *   .setArray("tokenizer.ggml.tokens", GGUFValueType.STRING, ["<unk>", "<s>"])
 *   .addTensor("token_embd.weight", [64, 2], "F32", new Float32Array(128))
 *   .build();
 * ```
 *
 * Values are checked when set (InvalidArgumentError), so a mistake points at its call.
 *
 * @module
 */
import { InvalidArgumentError } from "../core/errors.ts";
import { writeMetaValue } from "./_meta_writer.ts";
import { type GGMLType, type GGMLTypeName, typeByName } from "./ggml_types.ts";
import { type GGUFMetaEntry, GGUFValueType, type MetaValue } from "./gguf_file.ts";
import { type GGUFTensorInput, writeGGUF, writeGGUFChunks } from "./writer.ts";

/** A metadata entry for an array; for arrays of arrays pass inner entries (see `metaArray`). */
export function metaArray(
  itemType: GGUFValueType,
  values: MetaValue[] | GGUFMetaEntry[],
): GGUFMetaEntry {
  if (itemType === GGUFValueType.ARRAY) {
    const items = values as GGUFMetaEntry[];
    return { type: GGUFValueType.ARRAY, itemType, items, value: items.map((e) => e.value) };
  }
  return { type: GGUFValueType.ARRAY, itemType, value: values as MetaValue[] };
}

/** Tensor data: raw bytes or any typed array (its bytes are taken in host order, i.e. LE). */
export type TensorDataInput = Uint8Array | ArrayBufferView;

function asBytes(d: TensorDataInput): Uint8Array {
  if (d instanceof Uint8Array) return d;
  if (!ArrayBuffer.isView(d)) {
    throw new InvalidArgumentError("tensor data must be a Uint8Array or typed array");
  }
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/** Options of a builder. */
export interface GGUFBuilderOptions {
  /** 2 or 3 (default 3). */
  version?: number;
  /** Data alignment; when not 32 it is stored as `general.alignment`. */
  alignment?: number;
}

/** Collects metadata and tensors, then encodes them with `writeGGUF`. */
export class GGUFBuilder {
  readonly metadata: Map<string, GGUFMetaEntry> = new Map();
  readonly tensors: GGUFTensorInput[] = [];

  constructor(readonly options: GGUFBuilderOptions = {}) {}

  /** Sets a checked entry (replacing an earlier value of the key in place). */
  setEntry(key: string, entry: GGUFMetaEntry): this {
    writeMetaValue(null, key, entry);
    this.metadata.set(key, entry);
    return this;
  }
  /** Sets a scalar of any type, or an array when `type` is ARRAY (then `itemType` is needed). */
  set(key: string, type: GGUFValueType, value: MetaValue, itemType?: GGUFValueType): this {
    if (type === GGUFValueType.ARRAY) {
      if (itemType === undefined || itemType === GGUFValueType.ARRAY) {
        throw new InvalidArgumentError(
          `metadata ${key}: set(ARRAY) needs a scalar itemType; use setArray/metaArray for nesting`,
          { key },
        );
      }
      return this.setEntry(key, { type, itemType, value });
    }
    // 64-bit integers are stored as bigint so they equal what the reader returns.
    const v = (type === GGUFValueType.UINT64 || type === GGUFValueType.INT64) &&
        typeof value === "number" && Number.isSafeInteger(value)
      ? BigInt(value)
      : value;
    return this.setEntry(key, { type, value: v });
  }
  /** Sets a string. */
  setString(key: string, value: string): this {
    return this.set(key, GGUFValueType.STRING, value);
  }
  /** Sets a bool. */
  setBool(key: string, value: boolean): this {
    return this.set(key, GGUFValueType.BOOL, value);
  }
  /** Sets a u8. */
  setU8(key: string, value: number): this {
    return this.set(key, GGUFValueType.UINT8, value);
  }
  /** Sets an i8. */
  setI8(key: string, value: number): this {
    return this.set(key, GGUFValueType.INT8, value);
  }
  /** Sets a u16. */
  setU16(key: string, value: number): this {
    return this.set(key, GGUFValueType.UINT16, value);
  }
  /** Sets an i16. */
  setI16(key: string, value: number): this {
    return this.set(key, GGUFValueType.INT16, value);
  }
  /** Sets a u32. */
  setU32(key: string, value: number): this {
    return this.set(key, GGUFValueType.UINT32, value);
  }
  /** Sets an i32. */
  setI32(key: string, value: number): this {
    return this.set(key, GGUFValueType.INT32, value);
  }
  /** Sets a u64 (stored as bigint). */
  setU64(key: string, value: number | bigint): this {
    return this.set(key, GGUFValueType.UINT64, value);
  }
  /** Sets an i64 (stored as bigint). */
  setI64(key: string, value: number | bigint): this {
    return this.set(key, GGUFValueType.INT64, value);
  }
  /** Sets an f32. */
  setF32(key: string, value: number): this {
    return this.set(key, GGUFValueType.FLOAT32, value);
  }
  /** Sets an f64. */
  setF64(key: string, value: number): this {
    return this.set(key, GGUFValueType.FLOAT64, value);
  }
  /**
   * Sets an array. For scalar element types `values` are plain values (64-bit integers as
   * bigint or safe integers); for ARRAY they are inner entries made with `metaArray`.
   */
  setArray(key: string, itemType: GGUFValueType, values: MetaValue[] | GGUFMetaEntry[]): this {
    if (itemType === GGUFValueType.UINT64 || itemType === GGUFValueType.INT64) {
      values = (values as MetaValue[]).map((v) =>
        typeof v === "number" && Number.isSafeInteger(v) ? BigInt(v) : v
      );
    }
    return this.setEntry(key, metaArray(itemType, values));
  }
  /** Removes a key. */
  delete(key: string): this {
    this.metadata.delete(key);
    return this;
  }

  /**
   * Adds a tensor. `dims` is in ggml order (dims[0] = row length); `data` must hold exactly
   * the bytes the shape and type need.
   */
  addTensor(
    name: string,
    dims: number[],
    type: GGMLType | GGMLTypeName,
    data: TensorDataInput,
  ): this {
    const id = typeof type === "string" ? typeByName(type).id : type;
    this.tensors.push({ info: { name, dims: [...dims], type: id }, data: asBytes(data) });
    return this;
  }

  /** The writer input this builder describes. */
  toInput(): {
    version?: number;
    alignment?: number;
    metadata: Map<string, GGUFMetaEntry>;
    tensors: GGUFTensorInput[];
  } {
    return {
      version: this.options.version,
      alignment: this.options.alignment,
      metadata: this.metadata,
      tensors: this.tensors,
    };
  }
  /** Encodes the file. */
  build(): Uint8Array {
    return writeGGUF(this.toInput());
  }
  /** Encodes the file piece by piece (see `writeGGUFChunks`). */
  chunks(): Generator<Uint8Array> {
    return writeGGUFChunks(this.toInput());
  }
}

/** A metadata entry for `buildGGUF`: [key, type, value] or [key, ARRAY, values, itemType]. */
export type MetaSpec =
  | readonly [string, GGUFValueType, MetaValue]
  | readonly [string, typeof GGUFValueType.ARRAY, MetaValue[] | GGUFMetaEntry[], GGUFValueType];

/** A tensor for `buildGGUF`. */
export interface TensorSpec {
  name: string;
  dims: number[];
  type: GGMLType | GGMLTypeName;
  data: TensorDataInput;
}

/** Builds a GGUF in one call. */
export function buildGGUF(spec: {
  version?: number;
  alignment?: number;
  metadata?: readonly MetaSpec[];
  tensors?: readonly TensorSpec[];
}): Uint8Array {
  const b = new GGUFBuilder({ version: spec.version, alignment: spec.alignment });
  for (const m of spec.metadata ?? []) {
    if (m[1] === GGUFValueType.ARRAY) {
      b.setArray(m[0], m[3] as GGUFValueType, m[2] as MetaValue[] | GGUFMetaEntry[]);
    } else {
      b.set(m[0], m[1], m[2] as MetaValue);
    }
  }
  for (const t of spec.tensors ?? []) b.addTensor(t.name, t.dims, t.type, t.data);
  return b.build();
}
